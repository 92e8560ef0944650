"""EventBridge Scheduler expressions of jobs: whether AWS accepts a cron expression, and how
often a schedule runs in an average month (the cost estimate's runs per month).

Cron expressions are AWS's six-field dialect (minutes hours day-of-month month day-of-week
year, `?`, `L`, `W`, `#`, 1-7 = SUN-SAT), not Unix cron, so they are parsed by aws-croniter,
which implements that dialect, rather than by hand.
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based
"""

from __future__ import annotations

import datetime
import re
from functools import lru_cache
from typing import Optional

from aws_croniter import AwsCroniter
from aws_croniter.exceptions import AwsCroniterExpressionError

# AWS's monthly convention (730 hours = 8760 / 12), the one every cost line uses.
MINUTES_PER_MONTH = 730 * 60
# Cron schedules are counted over the 365 days of one year and divided by 12, so a daily job runs
# 365 / 12 = 30.42 times a month, as rate(1 day) does (43800 / 1440). 2027 is not a leap year,
# so a 29 February schedule counts 0; the year field is read as every year.
REFERENCE_YEAR = 2027
RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)$")
CRON = re.compile(r"^cron\((?P<fields>.*)\)$")
UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}


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
