"""The profile loader's parts shared by `profile.py` and `api_profile.py`: the TOML reader and templates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from parsel.csstranslator import HTMLTranslator

from portal_crawler.core.errors import UsageProblem


class ProfileError(UsageProblem, ValueError):
    """A profile that cannot be used; the message names file and key."""


DEFAULT_CLEANERS = {"title": "text", "published": "date", "author": "byline"}


@dataclass(frozen=True)
class ArticleTemplate:
    name: str
    signature: str
    title: str
    published: str
    body: str
    paragraph: str
    caption: str
    byline: str
    images: str
    drop_patterns: tuple[re.Pattern[str], ...] = ()
    cleaners: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CLEANERS))


class Reader:
    """Reads typed values out of the TOML tree, naming file and key on error."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._css = HTMLTranslator()

    def fail(self, key: str, message: str) -> ProfileError:
        return ProfileError(f"{self.source}: {key}: {message}")

    def get(self, table: dict[str, Any], key: str, path: str, kind: type, default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                raise self.fail(path, "missing")
            return default
        value = table[key]
        if not isinstance(value, kind):
            raise self.fail(path, f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    def strings(self, table: dict[str, Any], key: str, path: str, default: Any = ...) -> tuple[str, ...]:
        values = self.get(table, key, path, list, default)
        if not all(isinstance(v, str) for v in values):
            raise self.fail(path, "expected a list of strings")
        return tuple(values)

    def regexes(self, table: dict[str, Any], key: str, path: str, default: Any = ...) -> tuple[re.Pattern[str], ...]:
        compiled = []
        for i, text in enumerate(self.strings(table, key, path, default)):
            try:
                compiled.append(re.compile(text))
            except re.error as exc:
                raise self.fail(f"{path}[{i}]", f"bad regex {text!r}: {exc}") from None
        return tuple(compiled)

    def selector(self, table: dict[str, Any], key: str, path: str, default: Any = ...) -> str:
        text = self.get(table, key, path, str, default)
        try:
            self._css.css_to_xpath(text)
        except Exception as exc:  # cssselect raises several types
            raise self.fail(path, f"bad CSS selector {text!r}: {exc}") from None
        return text
