"""Schedule expressions as AWS reads them: their grammar, a stable key for each, and the weekly
capacity a service's `autoscaling.schedule` gives (for the cost estimate).

Application Auto Scaling's scheduled actions accept `at(yyyy-mm-ddThh:mm:ss)`, `rate(value
unit)` and `cron(minutes hours day-of-month month day-of-week year)`; EventBridge Scheduler (a
job's `schedule`) reads cron and rate the same way.
https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html
The cron fields are judged by aws-cron-expression-validator, occurrences come from pyawscron
(README: Libraries and why).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from aws_cron_expression_validator.validator import AWSCronExpressionValidator
from pyawscron.awscron import AWSCron

from configs.errors import excerpt

_EXPRESSION = re.compile(r"^(cron|rate|at)\((.*)\)$")
_RATE = re.compile(r"^([1-9][0-9]*) (minute|minutes|hour|hours|day|days)$")
CRON_HINT = "cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 19 ? * MON-FRI *)"


def schedule_problem(expression: str, *, allow_at: bool = True) -> Optional[str]:
    """Why AWS would refuse the expression (a sentence with the fix), or None."""
    shown = excerpt(expression)
    match = _EXPRESSION.match(expression)
    if match is None or (match.group(1) == "at" and not allow_at):
        others = "rate(value unit) or at(yyyy-mm-ddThh:mm:ss)" if allow_at else "or rate(value unit)"
        return f"{shown} is not a schedule expression; write {CRON_HINT}, {others}"
    kind, body = match.groups()
    if kind == "rate":
        return _rate_problem(shown, body)
    if kind == "at":
        try:
            datetime.datetime.strptime(body, "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return f"{shown}: at() takes one moment, yyyy-mm-ddThh:mm:ss, e.g. at(2027-03-01T07:00:00)"
        return None
    try:
        AWSCronExpressionValidator.validate(body)
    except ValueError as error:
        return f"{shown}: {_cron_reason(error)}; write {CRON_HINT}"
    return None


def _rate_problem(shown: str, body: str) -> Optional[str]:
    match = _RATE.match(body)
    if match is None:
        return f"{shown}: rate() takes a positive whole number and minute(s), hour(s) or day(s), e.g. rate(15 minutes)"
    value, unit = int(match.group(1)), match.group(2)
    # AWS: "If the value is 1, the unit must be singular; greater than 1, plural."
    if (value == 1) != (not unit.endswith("s")):
        right = unit.rstrip("s") if value == 1 else unit + "s"
        return f"{shown}: AWS wants the unit {'singular' if value == 1 else 'plural'} here; write rate({value} {right})"
    return None


def _cron_reason(error: ValueError) -> str:
    text = str(error).rstrip(".")
    if "question mark" in text:
        return "one of day-of-month and day-of-week must be ? (AWS does not combine them)"
    return text[0].lower() + text[1:]


def schedule_key(expression: str) -> str:
    """A stable name part for a schedule entry, from its expression (not its list position):
    readable words of the expression and a short digest that tells near-identical ones apart.
    Reordering, adding or removing other entries, or changing min/max, renames nothing."""
    words = re.sub(r"[^a-z0-9]+", "-", expression.lower()).strip("-")[:32].rstrip("-")
    return f"{words}-{hashlib.sha256(expression.encode()).hexdigest()[:6]}"


# ---- the weekly capacity profile (cost estimate) -----------------------------------------------

# A reference year of whole weeks from a Monday, read in local wall time: crons fire at local
# times, so hours per week do not depend on the zone (a DST change shifts one hour twice a year).
REFERENCE_START = datetime.datetime(2027, 1, 4, tzinfo=datetime.timezone.utc)
REFERENCE_WEEKS = 52
HOURS_PER_WEEK = 168.0


@dataclass(frozen=True)
class CapacityWindow:
    min: int
    max: int
    hours_per_week: float


@dataclass(frozen=True)
class Entry:
    cron: str
    min: int
    max: int


def weekly_capacity(entries: Sequence[Entry], always: tuple[int, int]) -> tuple[CapacityWindow, ...]:
    """Hours per week at each (min, max) the cron entries set, over a reference year; `always`
    is the target's own bounds, in force until the first action ever fires. at() and rate()
    entries are left out (one moment, or a repeat of one capacity: no weekly pattern)."""
    return _weekly_capacity(tuple(e for e in entries if e.cron.startswith("cron(")), always)


@functools.lru_cache(maxsize=256)
def _weekly_capacity(entries: tuple[Entry, ...], always: tuple[int, int]) -> tuple[CapacityWindow, ...]:
    start = REFERENCE_START
    end = start + datetime.timedelta(weeks=REFERENCE_WEEKS)
    state, since = always, start
    before = [(previous, index) for index, entry in enumerate(entries) if (previous := _previous(entry, start)) is not None]
    if before:
        state = _bounds(entries[max(before)[1]])
    hours: dict[tuple[int, int], float] = {}
    for moment, index in sorted(_occurrences(entries, start, end)):
        hours[state] = hours.get(state, 0.0) + (moment - since).total_seconds() / 3600
        state, since = _bounds(entries[index]), moment
    hours[state] = hours.get(state, 0.0) + (end - since).total_seconds() / 3600
    return tuple(
        CapacityWindow(low, high, round(total / REFERENCE_WEEKS, 6))
        for (low, high), total in sorted(hours.items())
        if total > 0
    )


def _bounds(entry: Entry) -> tuple[int, int]:
    return entry.min, entry.max


def _fields(entry: Entry) -> str:
    return entry.cron[len("cron("):-1]


def _previous(entry: Entry, start: datetime.datetime) -> Optional[datetime.datetime]:
    found = AWSCron.get_prev_n_schedule(1, start, _fields(entry))
    return found[0] if found else None


def _occurrences(entries: Iterable[Entry], start: datetime.datetime, end: datetime.datetime) -> list[tuple[datetime.datetime, int]]:
    return [
        (moment, index)
        for index, entry in enumerate(entries)
        for moment in AWSCron.get_all_schedule_bw_dates(start, end, _fields(entry))
        if start <= moment < end
    ]
