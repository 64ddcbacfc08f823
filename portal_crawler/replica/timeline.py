"""When each generated article was published, and its 10-digit ID.

Generated article ``i`` (0 = oldest) of ``N`` is dated ``i * SPAN // N`` days
after 2017-01-01, so ``N`` articles spread evenly over 2017-01-01 to
2024-12-31. Its *stamp*, the Unix time of publication, is that day at 07:00
UTC plus one minute per article already published that day (seeds sit at
07:00 sharp, so stamps never collide). Articles added after start-up
(``i >= N``) are dated one day apart after 2024-12-31. The current layout uses
the stamp as the article ID; both layouts order listings by it.
Everything is O(1) arithmetic, both ways, so 50,000 articles cost nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

START = date(2017, 1, 1)
END = date(2024, 12, 31)
SPAN = (END - START).days + 1
EPOCH_DAY = (START - date(1970, 1, 1)).days
PUBLISH_OFFSET = 7 * 3600  # 07:00 UTC, 14:00 in Hanoi
STEP = 60  # seconds between two articles of the same day
DAY = 86400


def seed_stamp(published: date) -> int:
    """A seed's stamp: its date at 07:00 UTC (seed 002 gives 1728975600)."""
    return (published - date(1970, 1, 1)).days * DAY + PUBLISH_OFFSET


class Timeline:
    """Day, date and stamp of generated article ``i``, and the inverse."""

    def __init__(self, generated: int) -> None:
        self.generated = generated

    def day_of(self, index: int) -> int:
        """Days after START."""
        if index < self.generated:
            return index * SPAN // self.generated
        return SPAN + (index - self.generated)

    def first_of_day(self, day: int) -> int:
        """Index of the first generated article published on ``day``."""
        return -(-day * self.generated // SPAN)

    def published(self, index: int) -> date:
        return START + timedelta(days=self.day_of(index))

    def stamp(self, index: int) -> int:
        day = self.day_of(index)
        rank = index - self.first_of_day(day) if index < self.generated else 0
        return (EPOCH_DAY + day) * DAY + PUBLISH_OFFSET + STEP * (rank + 1)

    def index_of(self, stamp: int) -> int | None:
        """The generated index whose stamp this is, or None."""
        days, seconds = divmod(stamp, DAY)
        rank, rest = divmod(seconds - PUBLISH_OFFSET - STEP, STEP)
        day = days - EPOCH_DAY
        if rest or rank < 0 or day < 0:
            return None
        index = self.generated + day - SPAN if day >= SPAN else self.first_of_day(day) + rank
        return index if self.stamp(index) == stamp else None
