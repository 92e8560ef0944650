"""Edges of the rule engine (policies/framework.py) that the rule tests pass over: what the pack
tells the engine of each policy, the component keys read from a policy's configuration, the
ancestors of a resource in a stack, and the name an ARN ends in."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from policies.framework import Settings, Stack, Waiver, arn_resource_name
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


def linkable(name: str, type_: str, props: dict):
    return SimpleNamespace(name=name, resource_type=type_, parent=None, urn=f"urn:{type_}::{name}", props=props,
                           property_dependencies=None, dependencies=[], opts=SimpleNamespace(parent=""))


def test_an_arn_links_to_the_resource_of_that_physical_name_not_of_that_logical_name():
    """A computed ARN (its value unknown to the target's inputs) is matched by the name it ends
    in against each candidate's `name` input, the name AWS knows; the logical name only stands
    in for resources created without one."""
    named = linkable("api-task-role", ROLE, {"name": "prod-api-task"})
    decoy = linkable("prod-api-task", ROLE, {"name": "prod-other"})
    unnamed = linkable("prod-worker-task", ROLE, {})
    task = linkable("prod-api", "aws:ecs/taskDefinition:TaskDefinition",
                    {"taskRoleArn": "arn:aws:iam::123456789012:role/prod-api-task"})
    worker = linkable("prod-worker", "aws:ecs/taskDefinition:TaskDefinition",
                      {"taskRoleArn": "arn:aws:iam::123456789012:role/prod-worker-task"})
    stack = Stack([named, decoy, unnamed, task, worker])
    assert stack.linked(task, "taskRoleArn", (ROLE,), by=("arn",)) == [named]
    assert stack.linked(worker, "taskRoleArn", (ROLE,), by=("arn",)) == [unnamed]


def test_a_waiver_without_reason_or_approver_reads_as_empty_text():
    waiver = Waiver.parse({"resource": "service/api", "expires": "2027-01-31"}, "aws-ecs-service-on-demand-share")
    assert waiver == Waiver("aws-ecs-service-on-demand-share", "service/api", "", datetime.date(2027, 1, 31), "")
