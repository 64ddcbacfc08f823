"""`crawl -s NAME=VALUE`: a Scrapy setting override, typed like the setting's default.

Scrapy keeps a `-s` value as the string typed and converts it where the
setting is read, so `DOWNLOAD_TIMEOUT=abc` used to fail deep inside a running
crawl. Here the value is converted up front to the type of the default (in
portal_crawler/settings.py, else Scrapy's default_settings): int, float, bool,
list (JSON array or comma-separated), dict (JSON object); any text for a
string or a setting with no default.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from functools import cache
from typing import Any

import click

from portal_crawler.writer.protocol import WRITER_CHOICES

BOOLS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
MAX_INT = (1 << 63) - 1  # what Twisted, SQLite and the OS take as a number
CHOICES = {"PORTAL_WRITER": WRITER_CHOICES}  # settings that take one of a few words


@cache
def defaults() -> dict[str, Any]:
    """Every setting's default as the crawl starts from it (project settings over Scrapy's)."""
    from scrapy.settings import BaseSettings, Settings

    settings = Settings()
    settings.setmodule("portal_crawler.settings", priority="project")
    return {name: (dict(value) if isinstance(value, BaseSettings) else value) for name, value in settings.items()}


def as_bool(text: str) -> bool:
    try:
        return BOOLS[text.strip().lower()]
    except KeyError:
        raise ValueError(f"not one of {', '.join(BOOLS)}") from None


def as_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if abs(number) > MAX_INT:
        raise ValueError(f"beyond {MAX_INT}")
    return number


def as_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def as_list(text: str, numbers: bool = False) -> list[Any]:
    """A JSON array or comma-separated items; whole numbers only when the default holds only those."""
    if text.lstrip().startswith("["):
        value = json.loads(text)
        if not isinstance(value, list):
            raise ValueError("not a JSON array")
    else:
        value = [item.strip() for item in text.split(",") if item.strip()]
    if numbers:
        value = [as_int(json.dumps(item) if isinstance(item, bool) else str(item)) for item in value]
    return value


def as_dict(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def converter(default: Any) -> tuple[str, Callable[[str], Any]] | None:
    """The type name and converter for a setting whose default is `default`; None: any text."""
    kinds: list[tuple[type | tuple[type, ...], str, Callable[[str], Any]]] = [
        (bool, "true or false", as_bool),  # before int: bool is an int
        (int, "a whole number", as_int),
        (float, "a number", as_float),
        ((list, tuple), "a list", as_list),
        (dict, "a JSON object", as_dict),
    ]
    if isinstance(default, list | tuple) and default and all(type(item) is int for item in default):
        return "a list of whole numbers", functools.partial(as_list, numbers=True)
    for kind, name, convert in kinds:
        if isinstance(default, kind):
            return name, convert
    return None


def parse_override(text: str) -> tuple[str, Any]:
    """NAME=VALUE -> (NAME, VALUE converted to the type of NAME's default)."""
    name, sep, value = text.partition("=")
    if not sep or not name or not name.replace("_", "").isalnum() or not name.isupper():
        raise click.BadParameter(f"{text!r}: give NAME=VALUE with an upper-case Scrapy setting name")
    if name in CHOICES and value not in CHOICES[name]:
        raise click.BadParameter(f"{name}={value!r}: {name} takes one of {', '.join(CHOICES[name])}")
    known = converter(defaults().get(name))
    if known is None:
        return name, value
    kind, convert = known
    try:
        return name, convert(value)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise click.BadParameter(f"{name}={value!r}: {exc}; {name} takes {kind}, e.g. {example(name)}") from None


def example(name: str) -> str:
    """NAME=its default, written as -s takes it (a short sample when the default is long)."""
    default = defaults()[name]
    text = json.dumps(default) if isinstance(default, dict | list | tuple) else str(default).lower()
    if isinstance(default, int | float) and not isinstance(default, bool):
        text = str(default)
    if len(text) > 40:
        text = '{"name": 100}' if isinstance(default, dict) else '["a", "b"]'
    return f"{name}={text}"


def overrides_callback(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    return dict(parse_override(value) for value in values)
