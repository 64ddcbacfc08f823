"""The archive's timestamp formats, written once."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_seconds(moment: datetime | None = None) -> str:
    """`2026-12-01T09:26:39Z`: the catalogue's times (fetched_at, started, first_seen)."""
    return (moment or utc_now()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def file_stamp(moment: datetime | None = None) -> str:
    """`20261201T092639Z`: log file names."""
    return (moment or utc_now()).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def warc_date(moment: datetime) -> str:
    """WARC-Date with microsecond precision, always six digits (WARC/1.1): `2026-12-01T09:26:39.123456Z`."""
    if moment.tzinfo is None:
        raise ValueError(f"fetch time {moment} has no time zone: give an aware UTC datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def warc_file_stamp(moment: datetime) -> str:
    """`20261201092639123`: the 17-digit time in WARC file names (milliseconds)."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
