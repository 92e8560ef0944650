"""Delivery: the GitHub OIDC deploy role's trust, and (production tier) alarms with actions.

The trust check is used by aws-iam-role-trust (policies/iam.py) for Federated principals: a
role may trust GitHub's OIDC provider only for STS tokens of exactly one repository and branch
or environment, i.e. `StringEquals` on both `aud` and `sub`, with no wildcard in `sub` (a
`StringLike` `repo:acme/*` admits every repository of the owner, forks' pull requests included).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .ecs_service import CLUSTER, SERVICE
from .framework import ResourceRule, Settings, Stack, StackRule
from .helpers import as_list, get, items, peek
from .load_balancer import TARGET_GROUP

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
# The production tier's two alarms of every exposed service, by the metric each one evaluates.
FIVE_XX_METRIC = "HTTPCode_Target_5XX_Count"
RUNNING_METRIC = "RunningTaskCount"

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_PROVIDER_ARN = re.compile(rf"^arn:aws[a-z-]*:iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_OIDC_HOST)}$")
# repo:<owner>/<name>:ref:refs/heads/<branch> or repo:<owner>/<name>:environment:<name>
PINNED_SUBJECT = re.compile(r"^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:(ref:refs/heads/[A-Za-z0-9_./-]+|environment:[A-Za-z0-9_./-]+)$")


def github_trust_problems(statement: Mapping, provider: str) -> Iterable[str]:
    """Why a statement trusting the Federated principal `provider` is not a pinned GitHub trust."""
    if not GITHUB_PROVIDER_ARN.match(str(provider)):
        yield f"the trust policy admits Federated {provider}"
        return
    actions = as_list(statement.get("Action"))
    if actions != ["sts:AssumeRoleWithWebIdentity"]:
        yield f"GitHub's provider is trusted for {', '.join(map(str, actions))}; allow sts:AssumeRoleWithWebIdentity only"
    condition = statement.get("Condition") or {}
    equals = condition.get("StringEquals") or {}
    audience = as_list(equals.get(f"{GITHUB_OIDC_HOST}:aud"))
    if audience != ["sts.amazonaws.com"]:
        yield f"GitHub tokens are not pinned to StringEquals {GITHUB_OIDC_HOST}:aud sts.amazonaws.com"
    subjects = as_list(equals.get(f"{GITHUB_OIDC_HOST}:sub"))
    if not subjects or not all(PINNED_SUBJECT.match(str(subject)) for subject in subjects):
        yield (
            f"GitHub tokens are not pinned to one repository and branch or environment (StringEquals "
            f"{GITHUB_OIDC_HOST}:sub repo:<owner>/<name>:ref:refs/heads/<branch>); any matching workflow could deploy"
        )
    for operator in condition:
        if operator != "StringEquals" and any(str(key).startswith(GITHUB_OIDC_HOST) for key in condition[operator]):
            yield f"{operator} on GitHub's claims widens the pinned StringEquals; remove it"


# ---- alarms (production tier) ------------------------------------------------------------------


def alarm_has_action(props: Mapping, _settings: Settings) -> Iterable[str]:
    if not as_list(get(props, "alarmActions", default=[])):
        yield "has no alarm action: when it fires, nobody is told"


def _metrics(props: Mapping) -> list[Mapping]:
    """The metrics an alarm evaluates: its plain metric, or those of its metric queries."""
    found = [query.get("metric") for query in items(props, "metricQueries") if isinstance(query, Mapping)]
    plain = {"metricName": peek(props, "metricName"), "dimensions": peek(props, "dimensions") or {}}
    return [m for m in found if isinstance(m, Mapping)] + ([plain] if plain["metricName"] else [])


def _alarms_on(stack: Stack, metric: str) -> list:
    return [a for a in stack.of(ALARM) if any(m.get("metricName") == metric for m in _metrics(stack.props(a)))]


def _watched(alarm, stack: Stack, types: tuple[str, ...]) -> set[str]:
    """The URNs of `types` an alarm's metrics name: in its metric queries, or in the dimensions
    of its plain metric (where the engine records the dependency)."""
    return {r.urn for prop in ("metricQueries", "dimensions") for r in stack.linked(alarm, prop, types)}


def exposed_service_alarms(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    props = stack.props(subject)
    if not items(props, "loadBalancers"):
        return  # not behind the load balancer: the rule is about exposed services
    groups = {g.urn for g in stack.linked(subject, "loadBalancers", (TARGET_GROUP,))}
    if not any(groups & _watched(a, stack, (TARGET_GROUP,)) for a in _alarms_on(stack, FIVE_XX_METRIC)):
        yield f"no alarm watches its target group's {FIVE_XX_METRIC}"
    name, clusters = peek(props, "name"), {c.urn for c in stack.linked(subject, "cluster", (CLUSTER,))}
    running = [
        a for a in _alarms_on(stack, RUNNING_METRIC)
        if any(m.get("metricName") == RUNNING_METRIC and (m.get("dimensions") or {}).get("ServiceName") == name
               for m in _metrics(stack.props(a)))
        and clusters & _watched(a, stack, (CLUSTER,))
    ]
    if not running:
        yield f"no alarm watches its {RUNNING_METRIC} (running below desired)"


RULES = [
    ResourceRule(
        name="aws-cloudwatch-alarm-has-action",
        description="Every CloudWatch alarm notifies someone (an alarm action).",
        remediation="set alarmActions to the environment's topic (alarms.notify, or the topic the stack creates)",
        category="reliability",
        types=(ALARM,),
        check=alarm_has_action,
        production_only=True,
    ),
    StackRule(
        name="aws-ecs-service-exposed-alarms",
        description="Every service behind the load balancer has a 5xx alarm and a running-below-desired alarm.",
        remediation="keep services.<key>.alarms http_5xx_percent and running_below_desired (production-tier defaults)",
        category="reliability",
        types=(SERVICE,),
        check=exposed_service_alarms,
        production_only=True,
    ),
]
