"""The pack's clock: the day waiver expiry is judged on.

The real date, unless the pack was started with `--today YYYY-MM-DD`, which only
review/policy_verdict.py passes, and only when tests froze the project's clock
(configs/clock.py). The Pulumi CLI starts packs without it, and nothing in the pack's
configuration can move the date: a user's policy config cannot revive an expired waiver.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Optional

FLAG = "--today"
_started_with: Optional[datetime.date] = None


def today() -> datetime.date:
    return _started_with or datetime.date.today()


def from_arguments(argv: Sequence[str]) -> Optional[datetime.date]:
    """The day of `--today YYYY-MM-DD` (or `--today=...`) among the pack's arguments."""
    for index, argument in enumerate(argv):
        if argument == FLAG and index + 1 < len(argv):
            return datetime.date.fromisoformat(argv[index + 1])
        if argument.startswith(FLAG + "="):
            return datetime.date.fromisoformat(argument.split("=", 1)[1])
    return None


def start_at(day: Optional[datetime.date]) -> None:
    global _started_with
    _started_with = day
