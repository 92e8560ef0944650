"""`run.py ci-role ENV` and the reusable app-deploy.yml it feeds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from pipeline.ci_role import deploy_inputs, render_text
from tests.components.test_ci_role import add_pipeline_jobs
from tests.harness import edited, reference_config

ROOT = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::123456789012:role/prod-ci-role-1a2b3c4"


def app_deploy() -> dict:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / "app-deploy.yml").read_text())
    data["on"] = data.pop(True)
    return data


def test_inputs_from_the_stack_outputs_and_the_environment_file():
    config = reference_config("prod")
    found = deploy_inputs(config, {"ci_role_arn": ROLE, "cluster_name": "prod-cluster", "vpc_id": "vpc-1"})
    assert found["offline"] is False and found["role_arn"] == ROLE
    # the nightly report batch is a scheduled job (jobs.reports): CI rolls out the services only
    assert sorted(found["services"]) == ["api", "worker"] and list(config.jobs) == ["reports"]
    assert found["services"]["api"] == {
        "role-to-assume": ROLE,
        "aws-region": "eu-west-1",
        "cluster": "prod-cluster",
        "service": "api",
        "task-definition-family": "prod-api",
        "container-name": "api",
        "ecr-repository": "prod/api",
        "github-environment": "production",  # prod's role trusts the GitHub environment, not a branch
    }
    # staging's role trusts a branch: its jobs must not run in an environment (the token's sub
    # would then name the environment and the trust would refuse it).
    assert "github-environment" not in deploy_inputs(reference_config("staging"), {})["services"]["api"]


def test_offline_values_are_marked_placeholders():
    config = reference_config("prod")
    found = deploy_inputs(config, None)
    assert found["offline"] is True
    assert found["role_arn"] == "<OFFLINE: ci_role_arn from `pulumi stack output --stack prod` after `pulumi up`>"
    assert found["services"]["worker"]["cluster"].startswith("<OFFLINE: cluster_name")
    text = render_text(config, found)
    assert text.splitlines()[0].startswith("OFFLINE: no `pulumi stack output --stack prod`")


def test_every_printed_input_is_one_the_workflow_takes_and_every_required_one_is_printed():
    inputs = app_deploy()["on"]["workflow_call"]["inputs"]
    required = {name for name, spec in inputs.items() if spec.get("required")}
    for config in (reference_config("prod"), edited("staging", add_pipeline_jobs)):
        for service in deploy_inputs(config, None)["services"].values():
            assert set(service) <= set(inputs)
            assert required <= set(service)


def test_a_one_off_job_built_from_the_service_s_image_runs_before_its_deploy():
    """Under deploys: ci the pipeline runs the job `before:` would name: its network and
    capacity from the stack output jobs.<job>, exactly as `run.py task` runs it."""
    config = edited("staging", add_pipeline_jobs)
    outputs = {
        "ci_role_arn": ROLE, "cluster_name": "staging-cluster",
        "jobs": {"migrate": {"task_family": "staging-migrate", "subnet_ids": ["subnet-0a", "subnet-0b"],
                             "security_group_id": "sg-0123",
                             "capacity": [{"capacityProvider": "FARGATE", "base": 1.0, "weight": 1.0},
                                          {"capacityProvider": "FARGATE_SPOT", "base": 0.0, "weight": 1.0}]}},
    }
    found = deploy_inputs(config, outputs)
    assert found["before_jobs"] == {"api": ["migrate"]}
    api = found["services"]["api"]
    assert {k: v for k, v in api.items() if k.startswith("before-")} == {
        "before-task-definition-family": "staging-migrate",
        "before-container-name": "migrate",
        "before-subnets": "subnet-0a,subnet-0b",
        "before-security-groups": "sg-0123",
        "before-capacity-provider-strategy": '[{"capacityProvider":"FARGATE","weight":1,"base":1},'
                                             '{"capacityProvider":"FARGATE_SPOT","weight":1,"base":0}]',
    }
    # The same strategy, subnets and group as `run.py task staging migrate` prints.
    from jobs.run_task import run_task_command

    command = run_task_command({"cluster_name": "staging-cluster", **outputs["jobs"]["migrate"]}, "eu-west-1")
    parts = command[command.index("--capacity-provider-strategy") + 1:command.index("--network-configuration")]
    fields = [dict(item.split("=") for item in part.split(",")) for part in parts]
    assert json.loads(api["before-capacity-provider-strategy"]) == [
        {"capacityProvider": f["capacityProvider"], "weight": int(f["weight"]), "base": int(f["base"])} for f in fields
    ]
    assert not any(k.startswith("before-") for k in found["services"]["worker"])
    assert "# deploy-api first runs the one-off job migrate (before-* inputs) with the new image" in render_text(config, found)
    offline = deploy_inputs(config, None)["services"]["api"]
    assert offline["before-subnets"] == "<OFFLINE: jobs.migrate from `pulumi stack output --stack staging` after `pulumi up`>"


def test_the_command_runs_offline_without_the_pulumi_cli():
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "ci-role", "staging", "--format", "json"],
        capture_output=True, text=True, cwd=ROOT, env={"PATH": "/nonexistent", "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["offline"] is True and found["services"]["api"]["ecr-repository"] == "staging/api"


def test_app_deploy_builds_scans_renders_deploys_and_detects_a_rollback():
    job = app_deploy()["jobs"]["deploy"]
    steps = job["steps"]
    assert job["environment"] == "${{ inputs.github-environment }}"
    uses = [step.get("uses", "run") for step in steps]
    assert uses == [
        "actions/checkout@v5",
        "aws-actions/configure-aws-credentials@v6",
        "aws-actions/amazon-ecr-login@v2",
        "run",  # build + push, tag = commit SHA
        "run",  # scan wait, CRITICAL fails
        "aws-actions/amazon-ecs-render-task-definition@v1",  # the before: job
        "aws-actions/amazon-ecs-deploy-task-definition@v2",
        "aws-actions/amazon-ecs-render-task-definition@v1",  # the service
        "aws-actions/amazon-ecs-deploy-task-definition@v2",
        "run",  # rollback check
    ]
    build, scan = steps[3], steps[4]
    assert build["env"]["IMAGE"].endswith(":${{ github.sha }}")
    assert "aws ecr wait image-scan-complete" in scan["run"] and "findingSeverityCounts.CRITICAL" in scan["run"]
    before_render, before_run, render, deploy, check = steps[5:]
    for step in (before_render, before_run):
        assert step["if"] == "inputs.before-task-definition-family != ''"
    # The job's revision is rendered like the service's (its latest revision, the new image),
    # run on the job's network and capacity, and waited for: the action fails on a non-zero exit.
    assert before_render["with"] == {
        "task-definition-family": "${{ inputs.before-task-definition-family }}",
        "container-name": "${{ inputs.before-container-name }}",
        "image": "${{ steps.image.outputs.uri }}",
    }
    assert before_run["with"] == {
        "task-definition": "${{ steps.before-render.outputs.task-definition }}",
        "cluster": "${{ inputs.cluster }}",
        "run-task": True,
        "wait-for-task-stopped": True,
        "run-task-subnets": "${{ inputs.before-subnets }}",
        "run-task-security-groups": "${{ inputs.before-security-groups }}",
        "run-task-capacity-provider-strategy": "${{ inputs.before-capacity-provider-strategy }}",
        "run-task-started-by": "app-deploy",
        "wait-for-minutes": "${{ inputs.wait-minutes }}",
    }
    assert steps.index(before_run) < steps.index(deploy)
    # Rendered from the family's latest revision, only the image replaced.
    assert set(render["with"]) == {"task-definition-family", "container-name", "image"}
    assert set(before_render["with"]) == {"task-definition-family", "container-name", "image"}
    assert deploy["with"]["wait-for-service-stability"] is True
    assert deploy["with"]["task-definition"] == "${{ steps.render.outputs.task-definition }}"
    assert check["env"]["REVISION"] == "${{ steps.deploy.outputs.task-definition-arn }}"
    assert "deployments[?status=='PRIMARY']" in check["run"] and "exit 1" in check["run"]
