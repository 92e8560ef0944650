"""Rules about `services.<s>.autoscaling.queue`, `.schedule` and `.timezone` (a job's
`schedule` is judged in configs/workload_checks.py); each check yields (YAML path, message)
like configs/checks.py.
"""

from __future__ import annotations

import datetime
import re
from typing import Iterator

from configs.arns import parse_arn, reference_problems
from configs.checks import trusted_accounts
from configs.errors import excerpt
from configs.model import EnvironmentConfig
from configs.schedules import iana_time_zones, schedule_problem

Problem = tuple[tuple, str]

# SQS queue names: up to 80 letters, digits, hyphens and underscores; a FIFO queue's ends in .fifo.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
QUEUE_NAME = re.compile(r"^(?=.{1,80}$)[A-Za-z0-9_-]+(\.fifo)?$")


def check_queue_scaling(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    region, accounts = config.aws.region, trusted_accounts(config)
    for key, service in config.services.items():
        queue = service.autoscaling.queue if service.autoscaling else None
        if queue is None:
            continue
        path = ("services", key, "autoscaling", "queue")
        problems = reference_problems(queue.arn, service="sqs", what="an SQS queue", region=region, accounts=accounts)
        for message in problems:
            yield path + ("arn",), message
        if not problems and not QUEUE_NAME.match(parse_arn(queue.arn).resource):
            yield path + ("arn",), (
                f"{excerpt(queue.arn)} does not end in a queue name (up to 80 letters, digits, - and _, "
                ".fifo for a FIFO queue); copy the ARN from the queue's details"
            )
        if queue.kms_key is not None:
            for message in reference_problems(queue.kms_key, service="kms", what="a KMS key", region=region,
                                              accounts=accounts, resource_prefix="key/"):
                yield path + ("kms_key",), message
        if config.cluster.container_insights == "disabled":
            # The backlog is divided by ECS/ContainerInsights RunningTaskCount, which only
            # Container Insights publishes: without it the policy would never have data.
            yield path, (
                "queue scaling divides the backlog by the running tasks from Container Insights "
                "(ECS/ContainerInsights RunningTaskCount), and cluster.container_insights is disabled; "
                "set it to enabled (or enhanced)"
            )


def check_scheduled_capacity(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    for key, service in config.services.items():
        scaling = service.autoscaling
        if scaling is None:
            continue
        path = ("services", key, "autoscaling")
        if scaling.timezone not in iana_time_zones():
            yield path + ("timezone",), (
                f"{excerpt(scaling.timezone)} is not an IANA time zone; use a name such as Europe/Dublin or UTC"
            )
        elif not scaling.schedule and scaling.timezone != "UTC":
            yield path + ("timezone",), "a timezone applies to schedule entries and this service has none; remove it"
        seen: dict[str, int] = {}
        for index, entry in enumerate(scaling.schedule):
            here = path + ("schedule", index)
            problem = schedule_problem(entry.cron)
            if problem:
                yield here + ("cron",), problem
            first = seen.setdefault(entry.cron, index)
            if first != index:
                # The expression names the scheduled action; two at one moment would race.
                yield here + ("cron",), (
                    f"{excerpt(entry.cron)} is already schedule[{first}]; one entry per moment, so merge them"
                )
            if entry.max > scaling.max:
                yield here + ("max",), (
                    f"max {entry.max} is above autoscaling.max {scaling.max}, which sizes the private subnets and the "
                    "cost's maximum; lower it or raise autoscaling.max"
                )


SCALING_CHECKS = (check_queue_scaling, check_scheduled_capacity)
