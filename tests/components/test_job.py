"""components/job.py: a scheduled job (Scheduler -> Step Functions -> ecs:runTask.sync) and a
one-off job, exact: resources, the state machine's definition, every role's document (and
parliament on them), AWS request shapes (botocore), the blast radius of adding a job, and the
`run.py task` command."""

from __future__ import annotations

import json
from functools import lru_cache

import botocore.session
from botocore.validate import ParamValidator

from components.facts import PlatformFacts
from components.job import runner_policy, scheduler_policy
from jobs.run_task import offline_ids, run_task_command
from review.offline import Plan, mock_id
from tests.components.plan_diff import changed_resources
from tests.components.test_iam import lint  # noqa: F401 (fixture)
from tests.components.test_service import register_task_definition_request, validate
from tests.harness import edited, plan_of, reference_plan

ACCOUNT = "123456789012"
FACTS = PlatformFacts(ACCOUNT, "eu-west-1", "aws", ("eu-west-1a",), {})
CLUSTER = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/prod-cluster"


def add_jobs(data: dict) -> None:
    """Two more jobs beside prod's own (reports, the nightly report batch)."""
    data["jobs"] = {
        **data.get("jobs", {}),
        "nightly": {
            "image": {"repository": "reports", "tag": "v3.1.0"},
            "user": "10001",
            "command": ["python", "-m", "reports.nightly"],
            "schedule": "cron(0 2 * * ? *)",
            "timezone": "Europe/Dublin",
            "timeout_minutes": 60,
            "retries": 2,
            "capacity": [{"provider": "fargate_spot", "weight": 1}],
            "access": {"write": ["arn:aws:sqs:eu-west-1:123456789012:orders"]},
        },
        "migrate": {"image": {"repository": "api", "tag": "v1.4.2"}, "user": "10001", "command": ["./manage.py", "migrate"]},
    }


@lru_cache(maxsize=None)
def prod_with_jobs() -> Plan:
    return plan_of(edited("prod", add_jobs))


def children(plan: Plan, name: str) -> list[tuple[str, str]]:
    component = plan.named(name, "ecsplatform:job:Job")
    return [(r.type, r.name) for r in plan.children_of(component)]


def test_a_scheduled_job_is_its_task_a_group_a_queue_a_state_machine_and_a_schedule():
    plan = prod_with_jobs()
    assert children(plan, "prod-nightly") == [
        ("aws:ec2/securityGroup:SecurityGroup", "prod-nightly-sg"),
        ("aws:iam/role:Role", "prod-nightly-runner"),
        ("aws:iam/role:Role", "prod-nightly-scheduler"),
        ("aws:iam/rolePolicy:RolePolicy", "prod-nightly-runner-policy"),
        ("aws:iam/rolePolicy:RolePolicy", "prod-nightly-scheduler-policy"),
        ("aws:scheduler/schedule:Schedule", "prod-nightly-schedule"),
        ("aws:sfn/stateMachine:StateMachine", "prod-nightly-run"),
        ("aws:sqs/queue:Queue", "prod-nightly-dlq"),
        ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "prod-nightly-https-out"),
        ("ecsplatform:task:Task", "prod-nightly"),
    ]
    task = plan.named("prod-nightly", "ecsplatform:task:Task")
    assert [r.name for r in plan.children_of(task)] == [
        "prod-nightly-logs", "prod-nightly-task-definition", "prod-nightly-execution", "prod-nightly-task",
        "prod-nightly-execution-policy", "prod-nightly-task-policy",
    ]


def test_a_one_off_job_has_no_schedule_and_no_state_machine():
    assert children(prod_with_jobs(), "prod-migrate") == [
        ("aws:ec2/securityGroup:SecurityGroup", "prod-migrate-sg"),
        ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "prod-migrate-https-out"),
        ("ecsplatform:task:Task", "prod-migrate"),
    ]


def test_the_schedule_starts_the_state_machine_with_a_dead_letter_queue():
    plan = prod_with_jobs()
    schedule = plan.named("prod-nightly-schedule").props
    assert schedule == {
        "name": "prod-nightly",
        "description": "Runs the job prod/nightly",
        "scheduleExpression": "cron(0 2 * * ? *)",
        "scheduleExpressionTimezone": "Europe/Dublin",
        "flexibleTimeWindow": {"mode": "OFF"},
        "target": {
            "arn": f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:prod-nightly",
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/prod-nightly-scheduler",
            "deadLetterConfig": {"arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:prod-nightly-dlq"},
        },
    }
    queue = plan.named("prod-nightly-dlq").props
    assert queue["sqsManagedSseEnabled"] is True and queue["messageRetentionSeconds"] == 1209600
    schedule_request = {
        "Name": schedule["name"],
        "ScheduleExpression": schedule["scheduleExpression"],
        "ScheduleExpressionTimezone": schedule["scheduleExpressionTimezone"],
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": schedule["target"]["arn"], "RoleArn": schedule["target"]["roleArn"], "DeadLetterConfig": {"Arn": schedule["target"]["deadLetterConfig"]["arn"]}},
    }
    model = botocore.session.get_session().get_service_model("scheduler")
    report = ParamValidator().validate(schedule_request, model.operation_model("CreateSchedule").input_shape)
    assert not report.has_errors(), report.generate_report()


def test_the_state_machine_runs_the_task_to_completion_with_timeout_and_retries():
    plan = prod_with_jobs()
    machine = plan.named("prod-nightly-run").props
    assert machine["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/prod-nightly-runner"
    [run] = json.loads(machine["definition"])["States"].values()
    group = plan.named("prod-nightly-sg")
    assert run == {
        "Type": "Task",
        "Resource": "arn:aws:states:::ecs:runTask.sync",
        "Parameters": {
            "Cluster": CLUSTER,
            "TaskDefinition": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:taskdefinition/prod-nightly-task-definition",
            "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE_SPOT", "Base": 0, "Weight": 1}],
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "Subnets": run["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"],
                    "SecurityGroups": [mock_id(group.type, group.name)],
                    "AssignPublicIp": "DISABLED",
                }
            },
            "PropagateTags": "TASK_DEFINITION",
        },
        "TimeoutSeconds": 3600,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 60, "MaxAttempts": 2, "BackoffRate": 2.0}],
        "End": True,
    }
    assert len(run["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]) == 3  # prod's private subnets
    # The parameters are RunTask's request (Step Functions passes them through).
    parameters = run["Parameters"]
    request = {
        "cluster": parameters["Cluster"],
        "taskDefinition": parameters["TaskDefinition"],
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 1}],
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": parameters["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"], "securityGroups": parameters["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"], "assignPublicIp": "DISABLED"}},
        "propagateTags": "TASK_DEFINITION",
    }
    validate("RunTask", request)


def test_the_job_task_definition_is_a_valid_request_with_the_job_defaults():
    task = prod_with_jobs().named("prod-migrate-task-definition")
    assert (task.props["family"], task.props["cpu"], task.props["memory"]) == ("prod-migrate", "256", "512")
    [container] = json.loads(task.props["containerDefinitions"])
    assert (container["name"], container["command"], container["readonlyRootFilesystem"]) == ("migrate", ["./manage.py", "migrate"], True)
    assert "portMappings" in container and container["portMappings"] == []
    validate("RegisterTaskDefinition", register_task_definition_request(task))


def test_every_role_is_exact():
    plan = prod_with_jobs()
    runner = json.loads(plan.named("prod-nightly-runner-policy").props["policy"])
    assert runner == runner_policy(
        facts=FACTS, task_family="prod-nightly", cluster_arn=CLUSTER, cluster_name="prod-cluster",
        role_arns=[f"arn:aws:iam::{ACCOUNT}:role/prod-nightly-execution", f"arn:aws:iam::{ACCOUNT}:role/prod-nightly-task"],
    )
    assert [s["Resource"] for s in runner["Statement"]] == [
        f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/prod-nightly:*",
        f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task/prod-cluster/*",
        [f"arn:aws:iam::{ACCOUNT}:role/prod-nightly-execution", f"arn:aws:iam::{ACCOUNT}:role/prod-nightly-task"],
        f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/StepFunctionsGetEventsForECSTaskRule",
    ]
    assert runner["Statement"][2]["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    scheduler = json.loads(plan.named("prod-nightly-scheduler-policy").props["policy"])
    assert scheduler == scheduler_policy(
        f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:prod-nightly", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:prod-nightly-dlq"
    )
    # Each role trusts its service for this account and the one resource that assumes it: the
    # state machine (a fixed name, so the ARN is known before it exists) and the schedule group.
    sources = {
        "prod-nightly-runner": ("states.amazonaws.com", f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:prod-nightly"),
        "prod-nightly-scheduler": ("scheduler.amazonaws.com", f"arn:aws:scheduler:eu-west-1:{ACCOUNT}:schedule-group/default"),
    }
    for role, (service, source) in sources.items():
        [trust] = json.loads(plan.named(role, "aws:iam/role:Role").props["assumeRolePolicy"])["Statement"]
        assert trust["Principal"] == {"Service": service}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": source}}


def test_the_job_roles_pass_parliament(lint):  # noqa: F811
    """One accepted finding: the community auditor counts iam:PassRole as permissions
    management. It is what ecs:RunTask needs, limited to the job's own two roles and to ECS tasks
    (iam:PassedToService); without it the state machine cannot start the task."""
    plan = prod_with_jobs()
    assert lint("job", json.loads(plan.named("prod-nightly-runner-policy").props["policy"])) == [
        ("MEDIUM", "PERMISSIONS_MANAGEMENT_ACTIONS", "")
    ]
    runner = json.loads(plan.named("prod-nightly-runner-policy").props["policy"])
    runner["Statement"] = [s for s in runner["Statement"] if s["Action"] != "iam:PassRole"]
    assert lint("job", runner) == []
    assert lint("job", json.loads(plan.named("prod-nightly-scheduler-policy").props["policy"])) == []


def test_adding_jobs_leaves_every_other_resource_unchanged():
    before, after = reference_plan("prod"), prod_with_jobs()
    changes = changed_resources(before, after)
    # The only existing resource a job touches: prod's deploy role may now run migrate (a
    # one-off job built from api's repository, which app-deploy.yml runs before api's deploy).
    # No group admits anything new (no connects_to here).
    assert list(changes) == ["prod-ci-role-policy"] and list(changes["prod-ci-role-policy"]) == ["policy"]
    old, new = (json.loads(document)["Statement"] for document in changes["prod-ci-role-policy"]["policy"])
    assert [s["Sid"] for s in new if s not in old] == [
        "RegisterRevisions", "RunOneOffJobs", "WatchOneOffJobs", "PassJobRolesToEcsTasks"
    ]
    registered = next(s for s in new if s["Sid"] == "RegisterRevisions")["Resource"]
    assert registered[-1] == f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/prod-migrate:*"
    added = {r.name for r in after.resources} - {r.name for r in before.resources}
    assert all(name.startswith(("prod-nightly", "prod-migrate")) for name in added), sorted(added)


def test_run_task_prints_the_exact_command_from_the_stack_outputs():
    ids = {
        "cluster_name": "prod-cluster-1a2b3c",
        "task_family": "prod-migrate",
        "subnet_ids": ["subnet-0a", "subnet-0b"],
        "security_group_id": "sg-0123",
        "capacity": [{"capacityProvider": "FARGATE", "base": 1, "weight": 1}, {"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 3}],
    }
    assert run_task_command(ids, "eu-west-1") == [
        "aws", "ecs", "run-task", "--region", "eu-west-1", "--cluster", "prod-cluster-1a2b3c",
        "--task-definition", "prod-migrate",
        "--capacity-provider-strategy", "capacityProvider=FARGATE,weight=1,base=1", "capacityProvider=FARGATE_SPOT,weight=3,base=0",
        "--network-configuration", "awsvpcConfiguration={subnets=[subnet-0a,subnet-0b],securityGroups=[sg-0123],assignPublicIp=DISABLED}",
        "--propagate-tags", "TASK_DEFINITION", "--started-by", "run.py-task",
    ]


def test_run_task_offline_marks_every_id_it_cannot_know():
    config = edited("prod", add_jobs)
    ids = offline_ids(config, "migrate")
    assert ids["task_family"] == "prod-migrate"
    assert ids["cluster_name"].startswith("<") and ids["security_group_id"].startswith("<")
    assert ids["subnet_ids"][0].startswith("<")
    # prod's default strategy: Fargate base 2 + Spot; the Fargate names are AWS's own.
    assert [c["capacityProvider"] for c in ids["capacity"]] == ["FARGATE", "FARGATE_SPOT"]


def test_the_diagram_draws_each_job_with_its_schedule_and_capacity():
    from review.diagram import render_mermaid

    lines = render_mermaid(edited("prod", add_jobs), prod_with_jobs()).splitlines()
    assert '  job_nightly[/"job nightly<br/>0.25 vCPU / 0.5 GB<br/>cron(0 2 * * ? *) Europe/Dublin"/]' in lines
    assert '  job_nightly -.->|"weight 1"| cp_fargate_spot' in lines
    assert '  job_migrate[/"job migrate<br/>0.25 vCPU / 0.5 GB<br/>on demand: run.py task"/]' in lines
