"""The one clock of every date-dependent judgement on the project's side (waiver expiry and
the longest allowed waiver in the loader; the date the policy pack is started with).

Commands use the real date. Only tests move it (`frozen`), so the suite judges the same on
any day; nothing a user writes (an environment file, governance.yaml, a pack config) can.
review/policy_verdict.py starts the pack with `--today` only when the clock is frozen, so the
pack and the loader always agree on the day.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from typing import Optional

_frozen: Optional[datetime.date] = None


def today() -> datetime.date:
    return _frozen or datetime.date.today()


def frozen_day() -> Optional[datetime.date]:
    """The day tests froze the clock at, or None when it follows the real date."""
    return _frozen


def freeze(day: Optional[datetime.date]) -> None:
    """For tests only: judge as on `day` (None: the real date again)."""
    global _frozen
    _frozen = day


@contextlib.contextmanager
def frozen(day: datetime.date) -> Iterator[None]:
    """For tests only: judge as on `day` inside the block."""
    before = _frozen
    freeze(day)
    try:
        yield
    finally:
        freeze(before)
