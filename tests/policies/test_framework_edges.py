"""Edges of the rule engine (policies/framework.py) that the rule tests pass over: what the pack
tells the engine of each policy, the component keys read from a policy's configuration, the
ancestors of a resource in a stack, and the name an ARN ends in."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from policies.framework import Settings, Stack, arn_resource_name
from policies.registry import RULES

SERVICE, TASK = "ecsplatform:service:Service", "ecsplatform:task:Task"
ROLE = "aws:iam/role:Role"


def test_the_pack_tells_the_engine_each_policys_remediation(pack_client):
    """`pulumi preview` prints a violated policy's remediation from GetAnalyzerInfo."""
    told = {policy.name: policy.remediation_steps for policy in pack_client.info.policies}
    assert told == {rule.name: rule.remediation for rule in RULES}


def test_component_keys_are_read_from_the_policy_config():
    config = {"environment": "prod", "componentKeys": {"service": ["api", "api-admin"], "provider": None}}
    settings = Settings.from_config("p", config, {}, today=datetime.date(2026, 11, 27))
    assert settings.component_keys == {"service": ("api", "api-admin"), "provider": ()}
    assert Settings.from_config("p", {"componentKeys": ["api"]}, {}).component_keys == {}  # not a mapping


def resource(name: str, type_: str, parent=None, parent_urn: str = ""):
    return SimpleNamespace(name=name, resource_type=type_, parent=parent, urn=f"urn:{name}", props={},
                           opts=SimpleNamespace(parent=parent_urn))


def test_a_resources_ancestors_are_its_parents_then_what_the_last_ones_urn_tells():
    # The stack holds the task and the service, not the environment the service's URN names.
    service = resource("prod-api", SERVICE, parent_urn="urn:pulumi:prod::ecs-platform::ecsplatform:index:Environment::prod")
    task = resource("prod-api", TASK, parent=service)
    role = resource("prod-api-task-role", ROLE, parent=task)
    assert Stack([service, task, role]).ancestors(role) == [
        (TASK, "prod-api"), (SERVICE, "prod-api"), ("ecsplatform:index:Environment", "prod")]


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:iam::123456789012:role/service/prod-api-task", "prod-api-task"),
        ("arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/prod/api", "/ecs/prod/api"),
        # A qualified Lambda function: everything after the resource type, qualifier included.
        ("arn:aws:lambda:eu-west-1:123456789012:function:prod-report:live", "prod-report:live"),
        ("arn:aws:sns:eu-west-1:123456789012:prod-alarms", "prod-alarms"),
        ("arn:aws:s3:::bucket/", None),
        ("prod-api-task", None),
    ],
)
def test_the_name_an_arn_ends_in(arn, name):
    assert arn_resource_name(arn) == name
