"""CloudWatch Logs: retention everywhere, a floor in production, KMS where configured."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .config_defaults import PRODUCTION_MIN_RETENTION_DAYS
from .framework import ResourceRule, Settings
from .helpers import get, number

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def retention(props: Mapping, settings: Settings) -> Iterable[str]:
    # 0 or unset means "never expire": cost grows forever and old data outlives its purpose.
    days = number(get(props, "retentionInDays"))
    if not days:
        yield "retentionInDays is unset, so logs never expire"
        return
    minimum = settings.option("minRetentionDays") if settings.production else 1
    if days < minimum:
        yield f"retentionInDays is {days:g}, below the production minimum of {minimum:g}"


def kms(props: Mapping, settings: Settings) -> Iterable[str]:
    if settings.option("requireKms") and not get(props, "kmsKeyId"):
        yield "kmsKeyId is unset although logs.kms is on"


RULES = [
    ResourceRule(
        name="aws-cloudwatch-log-group-retention",
        description="Log groups set a retention, at least the configured minimum in production.",
        remediation="set logs.retention_days (or the service's log_retention_days) to an allowed value",
        category="cost",
        types=(LOG_GROUP,),
        check=retention,
        options={"minRetentionDays": PRODUCTION_MIN_RETENTION_DAYS},
        option_schema={"minRetentionDays": {"type": "integer", "minimum": 1}},
    ),
    ResourceRule(
        name="aws-cloudwatch-log-group-kms",
        description="Log groups are encrypted with the environment's KMS key when logs.kms is on.",
        remediation="pass the environment's log key as kmsKeyId (its key policy must admit logs.<region>.amazonaws.com)",
        category="security",
        types=(LOG_GROUP,),
        check=kms,
        options={"requireKms": False},
        option_schema={"requireKms": {"type": "boolean"}},
    ),
]
