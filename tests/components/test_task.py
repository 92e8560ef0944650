"""components/task.py: what services and jobs share. Sidecars: exact container definitions,
the carve-out of the task size, botocore's RegisterTaskDefinition shape, the execution role's
grants for sidecar images and secrets, and the blast radius of adding one."""

from __future__ import annotations

import json

import pytest

from configs.endpoints import required_endpoints
from tests.components.plan_diff import added_names, changed_resources
from tests.components.test_service import (
    policy_of,
    reference_services,
    register_task_definition_request,
    services_plan,
    validate,
)
from tests.harness import edited

SECRET = "arn:aws:secretsmanager:eu-west-1:222222222222:secret:staging/otel-AbCdEf"


def with_sidecars(data: dict) -> None:
    data["services"]["api"]["sidecars"] = {
        "envoy": {
            "image": {"repository": "worker", "tag": "v9"},
            "cpu": 128,
            "memory": 256,
            "port": 9901,
            "user": "1337",
            "depends_on": {"init": "SUCCESS"},
            "environment": {"ENVOY_LOG_LEVEL": "warn"},
            "secrets": {"TLS_CERT": {"secret": SECRET}},
        },
        "init": {
            "image": {"uri": "public.ecr.aws/acme/init:v1"},
            "memory": 64,
            "user": "10001",
            "essential": False,
            "command": ["/bin/prepare"],
        },
    }


def task_containers(plan, name: str) -> list[dict]:
    return json.loads(plan.named(name, "aws:ecs/taskDefinition:TaskDefinition").props["containerDefinitions"])


@pytest.fixture(scope="module")
def staging_with_sidecars():
    return services_plan(edited("staging", with_sidecars))


def test_sidecars_follow_the_main_container_which_keeps_the_service_name_and_gets_the_rest(staging_with_sidecars):
    main, envoy, init = task_containers(staging_with_sidecars, "staging-api-task-definition")
    assert (main["name"], main["cpu"], main["memory"], main["essential"]) == ("api", 512 - 128, 1024 - 256 - 64, True)
    assert envoy == {
        "name": "envoy",
        "image": "222222222222.dkr.ecr.eu-west-1.amazonaws.com/staging/worker:v9",
        "essential": True,
        "cpu": 128,
        "memory": 256,
        "portMappings": [{"containerPort": 9901, "protocol": "tcp", "name": "envoy-9901"}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": "/ecs/staging/api", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "envoy"},
        },
        "environment": [{"name": "ENVOY_LOG_LEVEL", "value": "warn"}],
        "secrets": [{"name": "TLS_CERT", "valueFrom": SECRET}],
        "readonlyRootFilesystem": True,
        "privileged": False,
        "linuxParameters": {"capabilities": {"drop": ["ALL"]}},
        "user": "1337",
        "dependsOn": [{"containerName": "init", "condition": "SUCCESS"}],
    }
    assert (init["name"], init["essential"], init["cpu"], init["memory"], init["command"]) == ("init", False, 0, 64, ["/bin/prepare"])
    # The task size stays the service's: sidecars are carved out of it, never added to it.
    task = staging_with_sidecars.named("staging-api-task-definition").props
    assert (task["cpu"], task["memory"]) == ("512", "1024")


def test_a_task_with_sidecars_is_a_valid_register_task_definition_request(staging_with_sidecars):
    validate("RegisterTaskDefinition", register_task_definition_request(staging_with_sidecars.named("staging-api-task-definition")))


def test_the_execution_role_pulls_every_ecr_image_of_the_task_and_reads_the_sidecars_secrets(staging_with_sidecars):
    statements = {s["Sid"]: s for s in policy_of(staging_with_sidecars, "staging-api-execution-policy")["Statement"]}
    assert statements["PullOwnImage"]["Resource"] == [
        "arn:aws:ecr:eu-west-1:222222222222:repository/staging/api",
        "arn:aws:ecr:eu-west-1:222222222222:repository/staging/worker",
    ]  # the public init image needs no grant
    assert SECRET in json.dumps(statements["ReadReferencedSecrets"]["Resource"])


def test_dev_pulls_its_sidecar_through_the_accounts_pull_through_cache():
    statements = {s["Sid"]: s for s in policy_of(reference_services("dev"), "dev-api-execution-policy")["Statement"]}
    assert statements["PullOwnImage"]["Resource"] == [
        "arn:aws:ecr:eu-west-1:111111111111:repository/dev/api",
        "arn:aws:ecr:eu-west-1:111111111111:repository/ecr-public/aws-observability/aws-otel-collector",
    ]


def test_sidecar_secrets_bring_their_endpoint():
    def parameter_in_a_sidecar(data: dict) -> None:
        data["services"]["worker"]["sidecars"] = {
            "agent": {"image": {"uri": "public.ecr.aws/acme/agent:v1"}, "memory": 64, "user": "10001", "secrets": {"TOKEN": {"parameter": "/staging/agent/token"}}}
        }

    assert "ssm" not in required_endpoints(edited("staging", lambda d: None))
    assert "ssm" in required_endpoints(edited("staging", parameter_in_a_sidecar))


def test_adding_a_sidecar_changes_only_that_tasks_definition_and_execution_policy(staging_with_sidecars):
    before = reference_services("staging")
    changes = changed_resources(before, staging_with_sidecars)
    assert sorted(changes) == ["staging-api-execution-policy", "staging-api-task-definition"]
    assert sorted(changes["staging-api-task-definition"]) == ["containerDefinitions"]
    assert added_names(before, staging_with_sidecars) == []


def test_without_sidecars_the_main_container_reserves_nothing_of_its_own():
    """Tasks without sidecars keep the definition they had (no new revision on upgrade)."""
    (main,) = task_containers(reference_services("staging"), "staging-api-task-definition")
    assert "cpu" not in main and "memory" not in main and "dependsOn" not in main


def test_the_diagram_draws_each_sidecar_with_its_share_of_the_task():
    from review.diagram import render_mermaid
    from tests.harness import reference_config, reference_plan

    lines = render_mermaid(reference_config("dev"), reference_plan("dev")).splitlines()
    assert '  svc_api_sidecar_otel["sidecar otel<br/>0.125 vCPU / 0.25 GB of the task"]' in lines
    assert "  svc_api --- svc_api_sidecar_otel" in lines


# --------------------------------------------------------------------------------------------
# Volumes (task storage) and ephemeral storage
# --------------------------------------------------------------------------------------------


def with_volumes(data: dict) -> None:
    with_sidecars(data)
    api = data["services"]["api"]
    api["volumes"] = {"tmp": {"path": "/tmp"}, "cache": {"path": "/var/cache/app", "read_only": False}}
    api["ephemeral_storage"] = 50


def test_volumes_are_task_storage_mounted_in_every_container_and_ephemeral_storage_is_sized():
    plan = services_plan(edited("staging", with_volumes))
    task = plan.named("staging-api-task-definition").props
    assert task["volumes"] == [{"name": "cache"}, {"name": "tmp"}]
    assert task["ephemeralStorage"] == {"sizeInGib": 50}
    mounts = [
        {"sourceVolume": "cache", "containerPath": "/var/cache/app", "readOnly": False},
        {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False},
    ]
    for container in task_containers(plan, "staging-api-task-definition"):
        assert container["mountPoints"] == mounts, container["name"]
    request = register_task_definition_request(plan.named("staging-api-task-definition"))
    request["ephemeralStorage"] = {"sizeInGiB": int(task["ephemeralStorage"]["sizeInGib"])}
    validate("RegisterTaskDefinition", request)


def test_declared_volumes_come_before_ecs_execs_own_in_dev():
    def tmp(data: dict) -> None:
        data["services"]["worker"]["volumes"] = {"tmp": {"path": "/tmp"}}

    plan = services_plan(edited("dev", tmp))
    task = plan.named("dev-worker-task-definition").props
    assert [v["name"] for v in task["volumes"]] == ["tmp", "ssm-agent-state", "ssm-agent-logs", "ssm-managed-agents"]
    [main] = task_containers(plan, "dev-worker-task-definition")
    assert [m["containerPath"] for m in main["mountPoints"]] == [
        "/tmp", "/var/lib/amazon/ssm", "/var/log/amazon/ssm", "/managed-agents"
    ]
