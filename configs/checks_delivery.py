"""Checks of the delivery keys: deployment strategies, alarms, rollback and the CI role.

Each yields (YAML path, message) like configs/checks.py, whose CHECKS tuple runs them. What
ECS, CloudWatch or IAM would refuse at deploy time is refused here, before anything registers.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Iterator

from configs.governance import is_production
from configs.model import EnvironmentConfig

Problem = tuple[tuple, str]

# CanaryConfiguration.canaryPercent: multiples of 0.1 from 0.1 to 100; LinearConfiguration
# .stepPercent: multiples of 0.1 from 3 to 100 (ECS API reference).
CANARY_PERCENT_MIN = Decimal("0.1")
LINEAR_PERCENT_MIN = Decimal("3")
NATIVE = ("blue_green", "canary", "linear")
# Metrics that exist only behind the load balancer (AWS/ApplicationELB, per target group).
LOAD_BALANCER_ALARMS = ("http_5xx_percent", "p99_latency_ms")


def _tenths(value: float) -> bool:
    return Decimal(str(value)) * 10 % 1 == 0


def check_strategies_supported(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """ECS's native deployments shift traffic between two target groups of a load balancer:
    a service without one cannot use them (CreateService refuses the strategy)."""
    for name, service in config.services.items():
        deployment = service.deployment
        path = ("services", name, "deployment")
        if deployment.native and service.expose is None:
            yield (*path, "strategy"), (
                f"{deployment.strategy} shifts load balancer traffic between two revisions, and {name} is not "
                "exposed; use strategy: rolling, or expose the service"
            )
        for other in ("canary", "linear"):
            if getattr(deployment, other) is not None and deployment.strategy != other:
                yield (*path, other), (
                    f"{other} settings apply to strategy: {other}, but the strategy is {deployment.strategy}; "
                    f"remove {other} or set strategy: {other}"
                )
        if deployment.bake_minutes is not None and not deployment.native:
            yield (*path, "bake_minutes"), (
                "bake_minutes applies to blue_green, canary and linear deployments; rolling deployments do not "
                "keep the old revision (remove it, or choose one of those strategies)"
            )
        yield from _step_problems(deployment, path)
    yield from _test_rule_problems(config)


# An ALB rule holds at most 5 condition values; the test rule adds the test header to the routes.
RULE_CONDITION_VALUES_MAX = 5


def _test_rule_problems(config: EnvironmentConfig) -> Iterator[Problem]:
    """A native deployment's test rule takes the priority just ahead of its production rule
    (components/load_balancer.py): it must exist and be free."""
    taken = {service.expose.priority: name for name, service in config.services.items() if service.expose is not None}
    for name, service in config.services.items():
        expose = service.expose
        if expose is None or not service.deployment.native:
            continue
        path = ("services", name, "expose", "priority")
        test = expose.priority - 1
        if test < 1:
            yield path, f"{expose.priority} leaves no priority for the {service.deployment.strategy} test rule (priority - 1); use 2 or more"
        elif test in taken:
            yield path, (
                f"the {service.deployment.strategy} test rule takes priority {test}, which {taken[test]} uses; "
                f"leave {test} free (e.g. space priorities by 10)"
            )
        taken[test] = f"{name}'s test rule"
        if len(expose.paths) + len(expose.hosts) + 1 > RULE_CONDITION_VALUES_MAX:
            yield ("services", name, "expose"), (
                f"the test rule adds a header to the {len(expose.paths) + len(expose.hosts)} paths and hosts, over the "
                f"{RULE_CONDITION_VALUES_MAX} values an ALB rule holds; route at most {RULE_CONDITION_VALUES_MAX - 1}"
            )


def _step_problems(deployment, path: tuple) -> Iterator[Problem]:
    if deployment.canary is not None:
        percent = deployment.canary.percent
        if Decimal(str(percent)) < CANARY_PERCENT_MIN or not _tenths(percent):
            yield (*path, "canary", "percent"), f"{percent} is not a canary share ECS accepts; use 0.1 to 100 in steps of 0.1"
    if deployment.linear is not None:
        percent = deployment.linear.percent
        if Decimal(str(percent)) < LINEAR_PERCENT_MIN or not _tenths(percent):
            yield (*path, "linear", "percent"), f"{percent} is not a linear step ECS accepts; use 3 to 100 in steps of 0.1"


def check_service_alarms(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    for name, service in config.services.items():
        alarms = service.alarms
        for metric in LOAD_BALANCER_ALARMS:
            if getattr(alarms, metric) is not None and service.expose is None:
                yield ("services", name, "alarms", metric), (
                    f"{metric} is measured by the load balancer, and {name} is not exposed; remove it or expose the service"
                )
        if alarms.http_5xx_percent is not None and not _tenths(alarms.http_5xx_percent):
            yield ("services", name, "alarms", "http_5xx_percent"), (
                f"{alarms.http_5xx_percent} has more than one decimal; use a percent such as 2 or 2.5"
            )
        if is_production(config.environment) and service.expose is not None and alarms.running_below_desired is False:
            yield ("services", name, "alarms", "running_below_desired"), (
                "the production tier keeps this alarm on every exposed service; change other thresholds, "
                "but remove running_below_desired: false"
            )
        if alarms.running_below_desired and config.cluster.container_insights == "disabled":
            # The running and desired task counts are Container Insights metrics. (The production
            # tier's default alarm is not refused here: the pack's Container Insights rule,
            # mandatory in that tier, already refuses the disabled setting.)
            yield ("services", name, "alarms", "running_below_desired"), (
                "needs Container Insights (ECS/ContainerInsights RunningTaskCount), and cluster.container_insights "
                "is disabled; set it to enabled"
            )
        if service.deployment.rollback_alarms and not config.alarms_for(name):
            yield ("services", name, "deployment", "rollback_alarms"), (
                f"rolls back on {name}'s alarms, and it has none; add some under services.{name}.alarms "
                "(e.g. {http_5xx_percent: 2}) or remove rollback_alarms"
            )


def check_notify_topic(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """CloudWatch alarm actions publish to SNS topics of the alarm's own region."""
    topic = config.alarms.notify
    if topic is None:
        return
    parts = topic.split(":")
    if parts[2] != "sns" or len(parts) != 6:
        yield ("alarms", "notify"), f"{topic!r} is not an SNS topic ARN; use arn:aws:sns:<region>:<account>:<topic>"
    elif parts[3] != config.aws.region:
        yield ("alarms", "notify"), (
            f"the topic is in {parts[3]}, and CloudWatch alarms notify topics of their own region only; "
            f"use a topic in {config.aws.region}"
        )


def check_cicd(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    github = config.cicd.github
    if github is None:
        return
    if config.deploys != "ci":
        yield ("cicd", "github"), (
            "a deploy role for CI needs deploys: ci; with deploys: pulumi the image tag in YAML is what runs "
            "and the next `pulumi up` would undo CI's deployment"
        )
    provider = github.oidc_provider
    if provider != "create" and config.aws.account_id is not None and provider.split(":")[4] != config.aws.account_id:
        yield ("cicd", "github", "oidc_provider"), (
            f"the provider is in account {provider.split(':')[4]}, and a role can trust only its own account's "
            f"provider; use arn:aws:iam::{config.aws.account_id}:oidc-provider/... or create"
        )


DELIVERY_CHECKS = (check_strategies_supported, check_service_alarms, check_notify_topic, check_cicd)
