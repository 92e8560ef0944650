"""`jobs.<j>.before: [service]` under `deploys: pulumi`: the pulumi-command Command that runs the
job during `pulumi up` (components/job.py, jobs/before.py). Its registered inputs (the exact
run-task command, the trigger, what it waits for), the services' dependency on it, the first
deploy's skip, the review diff, the pack and the cost; and the script itself, run against a
fake `aws` on PATH: started, waited for, judged by the main container's exit code."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

from jobs.before import INTERPRETER, before_script
from jobs.run_task import run_task_command
from review.diff import diff_plans
from review.offline import Plan, mock_id, run_program
from tests.harness import edited, plan_of, reference_plan

COMMAND = "command:local:Command"
ECS_SERVICE = "aws:ecs/service:Service"
ACCOUNT = "111111111111"  # dev's account


def add_migrate(tag: str = "v1.4.2", before: tuple[str, ...] = ("api",)):
    def edit(data: dict) -> None:
        data["jobs"] = {
            "migrate": {
                "image": {"repository": "api", "tag": tag},
                "user": "10001",
                "command": ["./manage.py", "migrate"],
                "timeout_minutes": 20,
                "before": list(before),
            }
        }
    return edit


@lru_cache(maxsize=None)
def dev_with_migrate(tag: str = "v1.4.2") -> Plan:
    return plan_of(edited("dev", add_migrate(tag)))


def urn_of(plan: Plan, name: str) -> str:
    return plan.named(name).urn


def test_the_job_runs_with_run_task_s_exact_command_and_waits_for_it():
    plan = dev_with_migrate()
    command = plan.named("dev-migrate-before", COMMAND)
    assert command.parent == plan.named("dev-migrate", "ecsplatform:job:Job").urn
    assert set(command.props) == {"create", "interpreter", "environment", "triggers"}
    assert command.props["interpreter"] == ["/bin/sh", "-c"] == INTERPRETER
    assert command.props["environment"] == {"AWS_PAGER": ""}
    subnets = [mock_id("aws:ec2/subnet:Subnet", f"dev-network-private-eu-west-1{z}") for z in "ab"]
    run_task = run_task_command(
        {
            "cluster_name": "dev-cluster",
            "task_family": "dev-migrate",
            "subnet_ids": subnets,
            "security_group_id": mock_id("aws:ec2/securityGroup:SecurityGroup", "dev-migrate-sg"),
            # dev's default strategy: Fargate Spot 4 : Fargate 1.
            "capacity": [
                {"capacityProvider": "FARGATE_SPOT", "weight": 4, "base": 0},
                {"capacityProvider": "FARGATE", "weight": 1, "base": 0},
            ],
        },
        "eu-west-1",
    )
    script = command.props["create"]
    assert f"task=$({shlex.join(run_task)} --query 'tasks[0].taskArn || failures[0].reason' --output text)" in script.splitlines()
    assert "deadline=$(( $(date +%s) + 1200 ))" in script  # timeout_minutes: 20
    # Re-run exactly when the task definition gets a new revision (a new ARN).
    assert command.props["triggers"] == [f"arn:aws:ecs:eu-west-1:{ACCOUNT}:taskdefinition/dev-migrate-task-definition"]
    assert command.property_dependencies["triggers"] == (urn_of(plan, "dev-migrate-task-definition"),)


def test_the_run_waits_for_the_revision_its_permissions_its_rules_and_the_capacity_providers():
    plan = dev_with_migrate()
    command = plan.named("dev-migrate-before", COMMAND)
    waits_for = {
        "dev-migrate-task-definition", "dev-migrate-execution-policy",
        # dev has no NAT: HTTPS to the endpoints and to S3 (ECR layers).
        "dev-migrate-https-to-endpoints", "dev-migrate-https-to-s3",
        "dev-cluster-providers",
    }
    assert {urn_of(plan, name) for name in waits_for} <= set(command.depends_on)


def test_connects_to_rules_of_the_job_exist_before_it_runs():
    def edit(data: dict) -> None:
        add_migrate()(data)
        data["jobs"]["migrate"]["connects_to"] = [{"cidr": "10.60.0.0/16", "port": 5432}]

    plan = plan_of(edited("dev", edit))
    rule = plan.named("dev-migrate-to-10-60-0-0-16-5432-egress")
    assert rule.urn in plan.named("dev-migrate-before", COMMAND).depends_on


def test_the_services_named_in_before_roll_out_only_after_the_run():
    plan = dev_with_migrate()
    command = urn_of(plan, "dev-migrate-before")
    waiting = sorted(s.name for s in plan.of_type(ECS_SERVICE) if command in s.depends_on)
    assert waiting == ["dev-api-service"]
    assert [s.name for s in plan.of_type(ECS_SERVICE)] == ["dev-api-service", "dev-worker-service"]


def test_a_job_without_before_runs_nothing_during_pulumi_up():
    def edit(data: dict) -> None:
        add_migrate(before=())(data)

    plan = plan_of(edited("dev", edit))
    assert plan.of_type(COMMAND) == []
    job = plan.named("dev-migrate", "ecsplatform:job:Job").urn
    assert not any(job in d for s in plan.of_type(ECS_SERVICE) for d in s.depends_on)


def test_adding_a_before_job_changes_no_existing_resource_s_inputs():
    from tests.components.plan_diff import changed_resources

    without_jobs = plan_of(edited("dev", lambda data: data.pop("jobs", None)))
    assert changed_resources(without_jobs, dev_with_migrate()) == {}


def test_dev_ships_a_migration_that_runs_before_api():
    plan = reference_plan("dev")
    command = plan.named("dev-migrate-before", COMMAND)
    assert [s.name for s in plan.of_type(ECS_SERVICE) if command.urn in s.depends_on] == ["dev-api-service"]
    assert "deadline=$(( $(date +%s) + 900 ))" in command.props["create"]  # timeout_minutes: 15


def test_the_diagram_draws_the_job_before_the_services_it_gates():
    from review.diagram import render_mermaid
    from tests.harness import reference_config

    lines = render_mermaid(reference_config("dev"), reference_plan("dev")).splitlines()
    assert '  job_migrate[/"job migrate<br/>0.25 vCPU / 0.5 GB<br/>in pulumi up, on a new revision"/]' in lines
    assert '  job_migrate ==>|"exit 0 before rollout"| svc_api' in lines


def test_on_an_empty_account_the_run_is_skipped_with_a_message(caplog):
    with caplog.at_level("WARNING"):
        plan = run_program(edited("dev", add_migrate()), empty_account=True)
    assert plan.of_type(COMMAND) == []
    messages = [r.getMessage() for r in caplog.records if r.getMessage().startswith("jobs.migrate")]
    assert messages == [
        "jobs.migrate: not run before api in this update: its ECR repository dev/api does not exist yet. Push the "
        "image tag the job names, then `pulumi up` again runs it before they roll out (README: Before the first "
        "`pulumi up`)."
    ]
    # The job's task definition is registered all the same, so the second run only adds the run.
    assert [r.name for r in plan.of_type("aws:ecs/taskDefinition:TaskDefinition") if "migrate" in r.name] == [
        "dev-migrate-task-definition"
    ]


def test_a_job_whose_image_is_a_uri_runs_on_an_empty_account():
    def edit(data: dict) -> None:
        add_migrate()(data)
        data["jobs"]["migrate"]["image"] = {"uri": "public.ecr.aws/docker/library/python:3.12"}

    plan = run_program(edited("dev", edit), empty_account=True)
    assert [c.name for c in plan.of_type(COMMAND)] == ["dev-migrate-before"]


# ---- review: the diff says when the job runs; the pack and the cost are unaffected -----------


def test_the_review_diff_says_the_job_runs_again_on_a_new_revision():
    diff = diff_plans(dev_with_migrate("v1.4.2"), dev_with_migrate("v1.4.3"))
    by_name = {c.name: c for c in diff.changes}
    assert sorted(by_name) == ["dev-migrate-before", "dev-migrate-task-definition"]
    run = by_name["dev-migrate-before"]
    assert (run.action, run.because) == ("replace", "dev-migrate-task-definition")
    assert [(p.path, p.after, p.effect) for p in run.changes] == [
        ("triggers", "<a new revision of dev-migrate-task-definition>", "replace")
    ]
    assert run.rollout == (
        "runs the job's task once in this update (aws ecs run-task, then waits for it to stop) before api rolls out; "
        "pulumi up stops there unless it exits 0"
    )


def test_the_review_diff_shows_nothing_to_run_when_the_job_is_unchanged():
    config = edited("dev", add_migrate())
    changed = edited("dev", lambda d: (add_migrate()(d), d["services"]["api"].update(desired_count=3)))
    diff = diff_plans(plan_of(config), plan_of(changed))
    assert [c.type for c in diff.changes if c.type == COMMAND] == []


def test_the_pack_judges_the_plan_with_the_command_and_the_cost_is_unchanged():
    from review.cost import estimate_cost
    from review.prices import load_prices
    from review.verdict import policy_results

    config = edited("dev", add_migrate())
    plan = dev_with_migrate()
    without_run = Plan(plan.environment, [r for r in plan.resources if r.type != COMMAND], plan.outputs)
    # The pack is sent the command like every custom resource; no rule judges it, none breaks.
    with_it, without_it = policy_results([(config, plan), (config, without_run)])
    assert with_it == without_it and with_it.passed
    prices = load_prices(config.aws.region)
    assert estimate_cost(config, plan, prices).lines == estimate_cost(config, without_run, prices).lines


# ---- the script, run against a fake AWS CLI --------------------------------------------------

FAKE_AWS = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$*" in
  *run-task*) printf '%s\\n' "$RUN_TASK" ;;
  *lastStatus*) n=$(cat "$POLLS" 2>/dev/null || echo 0); echo $((n + 1)) > "$POLLS"
                if [ "$n" -ge 1 ]; then echo STOPPED; else echo RUNNING; fi ;;
  *exitCode*) echo "$EXIT_CODE" ;;
  *stoppedReason*) echo "Essential container in task exited" ;;
  *stop-task*) echo stopped ;;
esac
"""


def run_script(tmp_path: Path, *, run_task: str, exit_code: str, timeout_minutes: int = 20, clock: str = "") -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tools = {"aws": FAKE_AWS, "sleep": "#!/bin/sh\nexit 0\n"}
    if clock:  # a fake `date +%s` that jumps forward every call
        tools["date"] = clock
    for name, text in tools.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    ids = {
        "cluster_name": "dev-cluster", "task_family": "dev-migrate", "subnet_ids": ["subnet-a"],
        "security_group_id": "sg-1", "capacity": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
    }
    script = before_script(ids, region="eu-west-1", job="migrate", environment="dev", services=["api"],
                           timeout_minutes=timeout_minutes, log_group="/ecs/dev/migrate")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(tmp_path / "calls"),
           "POLLS": str(tmp_path / "polls"), "RUN_TASK": run_task, "EXIT_CODE": exit_code, "TICKS": str(tmp_path / "ticks")}
    return subprocess.run([*INTERPRETER, script], env=env, capture_output=True, text=True, timeout=60)


TASK = "arn:aws:ecs:eu-west-1:111111111111:task/dev-cluster/abc123"


def test_the_script_succeeds_when_the_job_exits_0(tmp_path: Path):
    done = run_script(tmp_path, run_task=TASK, exit_code="0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"jobs.migrate (dev): started {TASK}; waiting for it to stop (at most 20 min) before api rolls out",
        "jobs.migrate (dev) exited 0; api rolls out now",
    ]
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0].startswith("ecs run-task --region eu-west-1 --cluster dev-cluster --task-definition dev-migrate ")
    assert [c.split(" --query ")[1] for c in calls[1:]] == [
        "tasks[0].lastStatus --output text", "tasks[0].lastStatus --output text",
        "tasks[0].containers[?name=='migrate'].exitCode | [0] --output text",
    ]


@pytest.mark.parametrize("exit_code", ["1", "None"])  # None: the container never ran (image pull failed)
def test_the_script_fails_pulumi_up_unless_the_container_exits_0(tmp_path: Path, exit_code: str):
    done = run_script(tmp_path, run_task=TASK, exit_code=exit_code)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"jobs.migrate (dev) exited {exit_code} (Essential container in task exited); api does not roll out; "
        "logs: /ecs/dev/migrate"
    )


def test_the_script_fails_when_the_task_does_not_start(tmp_path: Path):
    done = run_script(tmp_path, run_task="RESOURCE:ENI", exit_code="0")
    assert done.returncode == 1
    assert done.stderr.strip() == "jobs.migrate (dev) did not start: RESOURCE:ENI"


def test_the_script_stops_the_task_after_timeout_minutes(tmp_path: Path):
    # Every `date +%s` is an hour later than the last: the deadline passes at the first poll.
    clock = '#!/bin/sh\nn=$(cat "$TICKS" 2>/dev/null || echo 0); echo $((n + 3600)) > "$TICKS"; echo $((n + 3600))\n'
    done = run_script(tmp_path, run_task=TASK, exit_code="0", timeout_minutes=5, clock=clock)
    assert done.returncode == 1
    assert done.stderr.strip() == "jobs.migrate (dev) ran longer than timeout_minutes (5); stopped it"
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[-1] == f"ecs stop-task --region eu-west-1 --cluster dev-cluster --task {TASK} --reason timeout_minutes (5) passed"
