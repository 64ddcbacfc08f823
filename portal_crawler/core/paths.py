"""Where everything lives in an archive directory: the one place these names are spelled."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from portal_crawler.core.errors import UsageProblem

CATALOGUE = "catalogue.db"
WARC_DIR = "warc"
LOGS_DIR = "logs"
LOCK = "lock"
QUARANTINE_DIR = "quarantine"
REPLAY_DIR = "replay"


@dataclass(frozen=True)
class ArchivePaths:
    """An archive directory's parts (see README, "Archive layout")."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def catalogue(self) -> Path:
        return self.root / CATALOGUE

    @property
    def warc(self) -> Path:
        return self.root / WARC_DIR

    @property
    def logs(self) -> Path:
        return self.root / LOGS_DIR

    @property
    def lock(self) -> Path:
        return self.root / LOCK

    @property
    def quarantine(self) -> Path:
        return self.root / QUARANTINE_DIR

    @property
    def replay(self) -> Path:
        return self.root / REPLAY_DIR

    def warc_file(self, name: str) -> Path:
        """A WARC file named by a catalogue pointer, confined to warc/ (a crafted `../x` is refused)."""
        if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
            raise UsageProblem(f"catalogue points outside {self.warc}: {name!r}")
        return self.warc / name

    def contains(self, path: Path) -> bool:
        """Whether `path` is inside the archive directory (for commands that must not write there)."""
        try:
            Path(path).resolve().relative_to(self.root.resolve())
        except ValueError:
            return False
        return True
