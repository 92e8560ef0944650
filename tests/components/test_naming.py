"""Names from keys stay within AWS's limits (components/naming.py): unchanged when they fit, a
prefix and a stable digest when they do not, 8 characters shorter where Pulumi autonames.
Every registered resource of a plan with the longest keys is held to the limits table."""

from __future__ import annotations

import hashlib
import importlib
import inspect
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import pytest

from components.naming import NAME_LIMITS, PULUMI_AUTONAME_SUFFIX, TYPED_NAMES, autonamed, bounded, physical
from configs.model import ENVIRONMENT_PATTERN, KEY_PATTERN
from review.offline import CapturedResource, Plan
from tests.configs.cases import issue_lines
from tests.harness import REFERENCE_ENVIRONMENTS, config_from_data, plan_of, reference_data, reference_plan

LONGEST_ENVIRONMENT = "e" * 19 + "z"  # ENVIRONMENT_PATTERN: 20 characters at most
SERVICE = "s" + "x" * 61 + "y"  # KEY_PATTERN: 63 characters at most
PROVIDER = "p" + "x" * 61 + "q"
JOB = "j" + "x" * 61 + "k"
SIDECAR = "c" + "x" * 61 + "d"


def test_a_name_that_fits_is_unchanged() -> None:
    assert physical("prod-api-execution", 64) == "prod-api-execution"
    assert physical("a" * 64, 64) == "a" * 64
    assert bounded("aws:sqs/queue:Queue", "q" * 80) == "q" * 80
    assert autonamed("aws:iam/role:Role", "r" * 56) == "r" * 56


def test_a_long_name_keeps_a_prefix_and_a_digest_of_the_whole_name() -> None:
    name = "prod-" + "a" * 70 + "-execution"
    shortened = physical(name, 64)
    # sha256 of the full name, its first 7 hex digits
    assert shortened == "prod-" + "a" * 51 + "-" + hashlib.sha256(name.encode()).hexdigest()[:7]
    assert len(shortened) == 64
    assert physical(name, 64) == shortened  # stable from run to run
    # names that share the prefix stay distinct
    assert physical("prod-" + "a" * 70 + "-task", 64) != shortened
    # the prefix never ends in a dash before the digest
    dashes = "a" * 55 + "-" * 10 + "b"
    assert physical(dashes, 64) == "a" * 55 + "-" + hashlib.sha256(dashes.encode()).hexdigest()[:7]


def test_autonamed_leaves_room_for_pulumis_suffix() -> None:
    assert PULUMI_AUTONAME_SUFFIX == 8
    logical = autonamed("aws:iam/role:Role", "r" * 57)
    assert len(logical) == 56
    assert len(logical) + PULUMI_AUTONAME_SUFFIX == NAME_LIMITS["aws:iam/role:Role"]
    assert len(autonamed("aws:sqs/queue:Queue", "q" * 100)) == 72


def test_the_limits_table_holds_awss_limits() -> None:
    assert {t: NAME_LIMITS[t] for t in ("aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:lb/loadBalancer:LoadBalancer",
                                          "aws:lb/targetGroup:TargetGroup", "aws:scheduler/schedule:Schedule",
                                          "aws:sfn/stateMachine:StateMachine", "aws:sqs/queue:Queue",
                                          "aws:cloudwatch/logGroup:LogGroup", "aws:ec2/launchTemplate:LaunchTemplate")} == {
        "aws:iam/role:Role": 64,
        "aws:iam/rolePolicy:RolePolicy": 128,
        "aws:lb/loadBalancer:LoadBalancer": 32,
        "aws:lb/targetGroup:TargetGroup": 32,
        "aws:scheduler/schedule:Schedule": 64,
        "aws:sfn/stateMachine:StateMachine": 80,
        "aws:sqs/queue:Queue": 80,
        "aws:cloudwatch/logGroup:LogGroup": 512,
        "aws:ec2/launchTemplate:LaunchTemplate": 128,
    }


# ---- every registered name, checked against the table ----------------------------------------


def _name_inputs(resource_type: str) -> list[str]:
    """The name inputs (`name`, `family`) the SDK class of a resource type takes."""
    if not resource_type.startswith("aws:"):
        return []  # a `before:` job's command:local:Command: no AWS name
    module, cls = resource_type.split(":")[1].split("/")[0], resource_type.split(":")[2]
    sdk_class = getattr(importlib.import_module(f"pulumi_aws.{module}"), cls)
    parameters = inspect.signature(sdk_class._internal_init).parameters
    return [p for p in ("name", "family") if p in parameters]


def physical_name(resource: CapturedResource) -> Optional[str]:
    """The name AWS gets: the one the program sets, else Pulumi's autoname `<logical>-<7>`."""
    inputs = _name_inputs(resource.type)
    if not inputs:
        return None
    for name in inputs:
        if resource.props.get(name):
            return str(resource.props[name])
    return resource.name + "-" + "x" * (PULUMI_AUTONAME_SUFFIX - 1)


def names_over_their_limits(plan: Plan) -> list[tuple[str, str, int]]:
    over = []
    for resource in plan.resources:
        if not resource.custom or resource.type.startswith("ecsplatform:"):
            continue
        name = physical_name(resource)
        if name is None:
            continue
        assert resource.type in NAME_LIMITS, f"{resource.type} takes a name: add its AWS limit to components/naming.py"
        if len(name) > NAME_LIMITS[resource.type]:
            over.append((resource.type, name, len(name)))
    return over


def _longest_keys(data: dict[str, Any]) -> None:
    """prod with the longest environment name and keys the patterns allow, for a service (exposed,
    on an EC2 provider, with alarms and autoscaling and a sidecar), a provider and a scheduled job."""
    data["environment"] = LONGEST_ENVIRONMENT
    ec2 = data["cluster"]["capacity"]["ec2"]
    ec2[PROVIDER] = ec2.pop("general")
    data["cluster"]["default_strategy"] = [{"provider": PROVIDER, "weight": 1}]
    api = data["services"].pop("api")
    api["capacity"] = [{"provider": PROVIDER, "weight": 1}]
    api["image"] = {"repository": SERVICE, "tag": "v1"}
    api["sidecars"] = {SIDECAR: {"image": {"uri": "public.ecr.aws/docker/library/busybox:1.36"}, "cpu": 128,
                                 "memory": 256, "user": "10001", "essential": False}}
    data["services"][SERVICE] = api
    for service in data["services"].values():
        service["capacity"] = [{"provider": PROVIDER, "weight": 1}]
        service["connects_to"] = [c for c in service.get("connects_to", []) if "service" not in c]
    data["registry"]["repositories"][SERVICE] = {}
    data["jobs"] = {
        JOB: {"image": {"repository": SERVICE, "tag": "v1"}, "user": "10001", "command": ["report"],
              "schedule": "cron(0 2 * * ? *)", "capacity": [{"provider": PROVIDER, "weight": 1}]}
    }
    data["cluster"]["exec"] = {"enabled": True}


@lru_cache(maxsize=None)
def longest_keys_plan() -> Plan:
    data = reference_data("prod")
    _longest_keys(data)
    return plan_of(config_from_data(data))


def test_the_longest_keys_plan_with_every_name_within_its_limit() -> None:
    plan = longest_keys_plan()
    assert names_over_their_limits(plan) == []
    # the names that would have overflowed are there, shortened to their limit with a digest
    roles = sorted(r.name for r in plan.of_type("aws:iam/role:Role") if len(r.name) == 56)
    assert len(roles) == 6  # the service's execution and task roles, the provider's instance role, the job's 3
    assert all(name[-8] == "-" and name == physical(name, 56) for name in roles)
    [machine] = plan.of_type("aws:sfn/stateMachine:StateMachine")
    assert len(machine.props["name"]) == 80 and machine.props["name"].startswith(f"{LONGEST_ENVIRONMENT}-{JOB[:30]}")
    [schedule] = plan.of_type("aws:scheduler/schedule:Schedule")
    assert len(schedule.props["name"]) == 64 and schedule.props["name"][-7:] == machine.props["name"][-7:]
    [queue] = plan.of_type("aws:sqs/queue:Queue")
    assert len(queue.name) == 72


def test_the_runner_role_trusts_the_state_machine_by_its_shortened_name() -> None:
    plan = longest_keys_plan()
    [machine] = plan.of_type("aws:sfn/stateMachine:StateMachine")
    [runner] = [r for r in plan.of_type("aws:iam/role:Role") if "Step Functions" in r.props["description"]]
    assert f":stateMachine:{machine.props['name']}" in runner.props["assumeRolePolicy"]


def test_names_users_type_fit_for_every_key_the_loader_accepts() -> None:
    """ECS service names, repository names and task families are what users type (`aws ecs
    update-service`, `docker push`, `run-task`): never shortened, so the key patterns bound them."""
    assert TYPED_NAMES == {"aws:ecs/service:Service", "aws:ecr/repository:Repository", "aws:ecs/taskDefinition:TaskDefinition"}
    plan = longest_keys_plan()
    typed = {r.type: r for r in plan.resources if r.type in TYPED_NAMES and SERVICE in str(r.props.get("name") or r.props.get("family"))}
    assert typed["aws:ecs/service:Service"].props["name"] == SERVICE
    assert typed["aws:ecr/repository:Repository"].props["name"] == f"{LONGEST_ENVIRONMENT}/{SERVICE}"
    assert typed["aws:ecs/taskDefinition:TaskDefinition"].props["family"] == f"{LONGEST_ENVIRONMENT}-{SERVICE}"
    assert "{0,61}" in KEY_PATTERN and "{0,18}" in ENVIRONMENT_PATTERN


def test_a_key_longer_than_63_characters_is_refused_with_file_and_line(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    key = "a" * 64
    (tmp_path / "env.yaml").write_text(
        "environment: dev\naws: {region: eu-west-1}\ntags: {team: platform}\nservices:\n"
        f'  {key}:\n    image: {{uri: "nginx:1.25"}}\n    cpu: 256\n    memory: 512\n    user: "10001"\n'
    )
    assert issue_lines(Path("env.yaml")) == [
        f"env.yaml:5: services.{key}: '{key}' is not valid: use 1-63 lowercase letters, digits and hyphens, starting with a letter"
    ]


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_shipped_environments_keep_every_name(environment: str) -> None:
    """No shipped name is long enough to be shortened, so no URN or physical name changes."""
    plan = reference_plan(environment)
    assert names_over_their_limits(plan) == []
    for resource in plan.resources:
        name = physical_name(resource) if resource.custom else None
        if name is None or resource.type not in NAME_LIMITS:
            continue
        limit = NAME_LIMITS[resource.type]
        if resource.props.get("name") or resource.props.get("family"):
            assert bounded(resource.type, name) == name
        else:
            assert autonamed(resource.type, resource.name) == resource.name
            assert len(resource.name) + PULUMI_AUTONAME_SUFFIX <= limit
