"""policies/service_connect.py through the real pack (gRPC): a service whose Service Connect
proxy logs with awslogs to its log group passes; each one-field change fails exactly the rule."""

from __future__ import annotations

import copy

import pytest

from policies.registry import RULES_BY_NAME

from .stack import edited, set_

SERVICE = "prod-api-service"
RULE = "aws-ecs-service-connect-logs"
CONNECT = {
    "enabled": True,
    "namespace": "arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-0123456789abcdef",
    "logConfiguration": {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "/ecs/prod/api", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "service-connect"},
    },
    "services": [{"portName": "api-8080", "discoveryName": "api", "clientAlias": [{"port": 8080, "dnsName": "api"}]}],
}


def connect(**changes):
    configuration = copy.deepcopy(CONNECT)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = configuration
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return set_(SERVICE, "serviceConnectConfiguration", configuration)


def test_a_proxy_logging_to_its_log_group_passes(pack):
    assert pack.verdict(edited(connect())).violations == ()


def test_a_disabled_configuration_needs_no_logs(pack):
    assert pack.verdict(edited(connect(enabled=False, logConfiguration=None))).violations == ()


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (connect(logConfiguration=None), "Service Connect is enabled without a logConfiguration: its proxy's logs are kept nowhere"),
        (connect(logConfiguration__logDriver="splunk"), "the Service Connect proxy logs with 'splunk', not awslogs to the service's log group"),
        (connect(**{"logConfiguration__options__awslogs-group": None}),
         "the Service Connect proxy's awslogs configuration names no awslogs-group"),
    ],
    ids=["no-log-configuration", "other-driver", "no-group"],
)
def test_each_mutation_fails_exactly_the_rule(pack, edit, fragment):
    verdict = pack.verdict(edited(edit))
    assert verdict.summary() == [(RULE, "mandatory", SERVICE)]
    [violation] = verdict.violations
    rule = RULES_BY_NAME[RULE]
    assert violation.message == f"{rule.description}\n{SERVICE}: {fragment}. Fix: {rule.remediation}"
