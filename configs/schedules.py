"""Schedule expressions as AWS reads them: a job's EventBridge Scheduler expression (whether AWS
accepts it, how often it runs in an average month) and `autoscaling.schedule`'s Application Auto
Scaling expressions (their grammar, a stable key for each entry, and the hours per week a
service spends at each scheduled capacity).

Cron expressions are AWS's six-field dialect (minutes hours day-of-month month day-of-week
year, `?`, `L`, `W`, `#`, 1-7 = SUN-SAT), not Unix cron, so they are parsed by aws-croniter,
which implements that dialect, rather than by hand.
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based
https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html
"""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional, Sequence
from zoneinfo import available_timezones

from aws_croniter import AwsCroniter
from aws_croniter.exceptions import AwsCroniterExpressionError

from configs.errors import excerpt

# AWS's monthly convention (730 hours = 8760 / 12), the one every cost line uses.
MINUTES_PER_MONTH = 730 * 60
# Cron schedules are counted over the 365 days of one year and divided by 12, so a daily job runs
# 365 / 12 = 30.42 times a month, as rate(1 day) does (43800 / 1440). 2027 is not a leap year,
# so a 29 February schedule counts 0; the year field is read as every year.
REFERENCE_YEAR = 2027
RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)$")
CRON = re.compile(r"^cron\((?P<fields>.*)\)$")
UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}


@lru_cache(maxsize=1)
def iana_time_zones() -> frozenset[str]:
    """The IANA time zone names (tzdata) a `timezone:` may use. zoneinfo lists them by opening
    every file of the database, about 10 ms each time; a 40-service file asked it once per
    service and job (a tenth of `review plan`'s CPU), so the list is read once per process."""
    return frozenset(available_timezones())


def cron_problem(schedule: str) -> Optional[str]:
    """Why AWS would refuse the cron expression (aws-croniter's reason), or None."""
    match = CRON.match(schedule)
    if match is None:
        return None
    try:
        AwsCroniter(match["fields"])
    except (AwsCroniterExpressionError, ValueError) as error:
        return str(error).replace(".One must", ". One must")  # the library's message lacks the space
    return None


def runs_per_month(schedule: str) -> float:
    """Runs in an average month of 730 hours: rate(N unit) every N units; cron by counting its
    firings over REFERENCE_YEAR (the day fields decide the days, minutes x hours the runs a day)."""
    rate = RATE.match(schedule)
    if rate is not None:
        interval = int(rate["value"]) * UNIT_MINUTES[rate["unit"].rstrip("s")]
        return MINUTES_PER_MONTH / interval
    match = CRON.match(schedule)
    if match is None:
        raise ValueError(f"{schedule!r} is neither rate(...) nor cron(...)")
    return _cron_runs_per_month(match["fields"])


@lru_cache(maxsize=256)
def _cron_runs_per_month(fields: str) -> float:
    cron = AwsCroniter(fields)
    _minute, _hour, day_of_month, month, day_of_week, _year = fields.split(" ")
    days = AwsCroniter(f"0 0 {day_of_month} {month} {day_of_week} *")
    utc = datetime.timezone.utc
    first = datetime.datetime(REFERENCE_YEAR, 1, 1, tzinfo=utc)
    last = datetime.datetime(REFERENCE_YEAR, 12, 31, 23, 59, tzinfo=utc)
    day_count = len(days.get_all_schedule_bw_dates(first, last))
    return day_count * len(cron.minutes) * len(cron.hours) / 12


# ---- autoscaling.schedule: Application Auto Scaling's expressions ----------------------------

_EXPRESSION = re.compile(r"^(cron|rate|at)\((.*)\)$")
_RATE = re.compile(r"^([1-9][0-9]*) (minute|minutes|hour|hours|day|days)$")
CRON_HINT = "cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 19 ? * MON-FRI *)"


def schedule_problem(expression: str) -> Optional[str]:
    """Why Application Auto Scaling would refuse a scheduled action's expression (a sentence
    with the fix), or None: at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(6 fields)."""
    shown = excerpt(expression)
    match = _EXPRESSION.match(expression)
    if match is None:
        return f"{shown} is not a schedule expression; write {CRON_HINT}, rate(value unit) or at(yyyy-mm-ddThh:mm:ss)"
    kind, body = match.groups()
    if kind == "rate":
        return _rate_problem(shown, body)
    if kind == "at":
        try:
            datetime.datetime.strptime(body, "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return f"{shown}: at() takes one moment, yyyy-mm-ddThh:mm:ss, e.g. at(2027-03-01T07:00:00)"
        return None
    problem = cron_problem(expression)
    return None if problem is None else f"{shown}: {_cron_reason(problem)}; write {CRON_HINT}"


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


def _cron_reason(problem: str) -> str:
    text = problem.rstrip(".")
    if "question mark" in text:
        return "one of day-of-month and day-of-week must be ? (AWS does not combine them)"
    return text[0].lower() + text[1:]


def schedule_key(expression: str) -> str:
    """A stable name part for a schedule entry, from its expression (not its list position):
    readable words of the expression and a short digest that tells near-identical ones apart.
    Reordering, adding or removing other entries, or changing min/max, renames nothing."""
    words = re.sub(r"[^a-z0-9]+", "-", expression.lower()).strip("-")[:32].rstrip("-")
    return f"{words}-{hashlib.sha256(expression.encode()).hexdigest()[:6]}"


# A reference year of whole weeks from a Monday, read in local wall time: crons fire at local
# times, so hours per week do not depend on the zone (a DST change shifts one hour twice a year).
REFERENCE_START = datetime.datetime(REFERENCE_YEAR, 1, 4, tzinfo=datetime.timezone.utc)
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
    return _weekly_capacity(tuple(e for e in entries if CRON.match(e.cron)), always)


@lru_cache(maxsize=256)
def _weekly_capacity(entries: tuple[Entry, ...], always: tuple[int, int]) -> tuple[CapacityWindow, ...]:
    start = REFERENCE_START
    end = start + datetime.timedelta(weeks=REFERENCE_WEEKS)
    crons = [AwsCroniter(CRON.match(entry.cron)["fields"]) for entry in entries]
    state, since = always, start
    before = [(previous[0], index) for index, cron in enumerate(crons) if (previous := cron.get_prev(start))]
    if before:
        state = _bounds(entries[max(before)[1]])
    hours: dict[tuple[int, int], float] = {}
    for moment, index in sorted(_occurrences(crons, start, end)):
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


def _occurrences(crons: Iterable[AwsCroniter], start: datetime.datetime, end: datetime.datetime) -> list[tuple[datetime.datetime, int]]:
    return [
        (moment, index)
        for index, cron in enumerate(crons)
        for moment in cron.get_all_schedule_bw_dates(start, end)
        if start <= moment < end
    ]
