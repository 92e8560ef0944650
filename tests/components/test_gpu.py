"""The spec's `ml` service (cpu 4096, memory 14336, gpu 1) on its `gpu` provider of g5.xlarge,
planned by the whole program: the GPU-optimised AMI from its SSM parameter (each parameter
looked up once per stack), the GPU reservation in the task definition, and botocore's
RegisterTaskDefinition shape. A GPU job reserves the same way."""

from __future__ import annotations

import base64
import json
from collections import Counter

import pytest

from configs.instance_types import ECS_AMI_PARAMETERS, ECS_GPU_AMI_PARAMETERS
from review import offline
from tests.components.test_service import register_task_definition_request, validate
from tests.harness import edited

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GET_PARAMETER = "aws:ssm/getParameter:getParameter"


def with_ml(data: dict) -> None:
    """What the spec adds for GPU work: the gpu provider, the ml repository, the ml service and
    (beyond the spec's example) a training job on the same provider."""
    data["cluster"]["capacity"]["ec2"]["gpu"] = {"instance_types": ["g5.xlarge"], "min_size": 0, "max_size": 4}
    data["registry"]["repositories"]["ml"] = {}
    data["services"]["ml"] = {
        "image": {"repository": "ml", "tag": "v0.3.0"},
        "cpu": 4096,
        "memory": 14336,
        "user": "10001",
        "gpu": 1,
        "capacity": [{"provider": "gpu", "weight": 1}],
    }
    data.setdefault("jobs", {})["train"] = {
        "image": {"repository": "ml", "tag": "v0.3.0"},
        "cpu": 2048,
        "memory": 8192,
        "user": "10001",
        "gpu": 1,
        "command": ["python", "-m", "train"],
        "capacity": [{"provider": "gpu", "weight": 1}],
    }


@pytest.fixture(scope="module")
def ml_plan():
    invokes: Counter = Counter()
    call = offline.PlatformMocks.call

    def counting(self, args):
        invokes[(args.token, args.args.get("name"))] += 1
        return call(self, args)

    offline.PlatformMocks.call = counting
    try:
        plan = offline.run_program(edited("prod", with_ml))
    finally:
        offline.PlatformMocks.call = call
    return plan, invokes


def mock_ami(parameter: str) -> str:
    """What the offline mocks answer for a parameter (review/offline.py)."""
    return f"ami-{offline._short_hash(parameter)[:17]}"


def test_each_ami_parameter_is_looked_up_once_per_stack(ml_plan):
    _plan, invokes = ml_plan
    looked_up = {name: count for (token, name), count in invokes.items() if token == GET_PARAMETER}
    assert looked_up == {ECS_AMI_PARAMETERS["x86_64"]: 1, ECS_GPU_AMI_PARAMETERS["x86_64"]: 1}


def test_the_gpu_provider_boots_the_gpu_ami_and_the_general_one_the_standard_ami(ml_plan):
    plan, _ = ml_plan
    gpu = plan.named("prod-cluster-gpu-launch-template", LAUNCH_TEMPLATE).props
    general = plan.named("prod-cluster-general-launch-template", LAUNCH_TEMPLATE).props
    assert gpu["imageId"] == mock_ami("/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id")
    assert general["imageId"] == mock_ami("/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id")
    assert gpu["imageId"] != general["imageId"]
    assert "ECS_ENABLE_GPU_SUPPORT=true\n" in base64.b64decode(gpu["userData"]).decode()
    assert "ECS_ENABLE_GPU_SUPPORT" not in base64.b64decode(general["userData"]).decode()


@pytest.mark.parametrize("family", ["prod-ml", "prod-train"])
def test_the_main_container_reserves_its_gpus(ml_plan, family):
    plan, _ = ml_plan
    [task] = [t for t in plan.of_type(TASK_DEFINITION) if t.props["family"] == family]
    [main] = json.loads(task.props["containerDefinitions"])
    assert main["resourceRequirements"] == [{"type": "GPU", "value": "1"}]
    assert task.props["requiresCompatibilities"] == ["EC2"]
    validate("RegisterTaskDefinition", register_task_definition_request(task))


def test_tasks_without_gpu_reserve_none(ml_plan):
    plan, _ = ml_plan
    for task in plan.of_type(TASK_DEFINITION):
        if task.props["family"] not in ("prod-ml", "prod-train"):
            assert all("resourceRequirements" not in c for c in json.loads(task.props["containerDefinitions"]))


def test_the_ml_service_runs_on_the_gpu_capacity_provider(ml_plan):
    plan, _ = ml_plan
    service = plan.named("prod-ml-service", "aws:ecs/service:Service").props
    provider = plan.named("prod-cluster-gpu-capacity-provider", "aws:ecs/capacityProvider:CapacityProvider").props
    assert [entry["capacityProvider"] for entry in service["capacityProviderStrategies"]] == [provider["name"]]


def test_the_diagram_shows_gpu_reservations_and_the_gpu_ami(ml_plan):
    from review.diagram import render_mermaid

    plan, _ = ml_plan
    lines = [line.strip() for line in render_mermaid(edited("prod", with_ml), plan).splitlines() if "GPU" in line]
    assert lines == [
        'svc_ml["ml<br/>4 vCPU / 14 GB / 1 GPU x 1"]',
        'job_train[/"job train<br/>2 vCPU / 8 GB / 1 GPU<br/>on demand: run.py task"/]',
        'cp_gpu[["EC2 gpu: g5.xlarge (GPU AMI)<br/>0-4 instances, 0 + 100% on-demand"]]',
    ]
