"""A service that becomes a job of the same key (prod's nightly report batch did) keeps its task:
the Job component's alias to the service it was makes the engine move the task, its log group
(protected in production) and its roles instead of deleting and recreating them, and the review's
diff says so."""

from __future__ import annotations

from functools import lru_cache

from review.diff import alias_urns, diff_plans
from review.offline import Plan
from tests.harness import edited, plan_of, reference_plan

SERVICE_URN = "urn:pulumi:prod::ecs-platform::ecsplatform:index:Environment$ecsplatform:service:Service::prod-reports"


def reports_as_a_service(data: dict) -> None:
    """prod before: the nightly report batch as a service (with the on-demand share the
    production tier requires of a service today)."""
    job = data["jobs"].pop("reports")
    data["services"]["reports"] = {key: job[key] for key in ("image", "cpu", "memory", "user")}
    data["services"]["reports"]["capacity"] = [{"provider": "fargate", "base": 1, "weight": 1}]


@lru_cache(maxsize=None)
def before() -> Plan:
    return plan_of(edited("prod", reports_as_a_service))


def test_the_job_is_an_alias_of_the_service_it_was():
    [job] = [r for r in reference_plan("prod").resources if r.type == "ecsplatform:job:Job"]
    assert job.aliases == (SERVICE_URN,)
    inherited = alias_urns(reference_plan("prod"))
    [logs] = [r for r in reference_plan("prod").resources if r.name == "prod-reports-logs"]
    assert inherited[logs.urn] == [
        "urn:pulumi:prod::ecs-platform::ecsplatform:task:Task$aws:cloudwatch/logGroup:LogGroup::prod-reports-logs"
    ]


def test_the_task_its_log_group_and_roles_move_and_only_the_ecs_service_goes():
    changes = {(c.action, c.type, c.name) for c in diff_plans(before(), reference_plan("prod")).changes}
    removed = sorted((t, n) for action, t, n in changes if action == "remove")
    assert removed == [("aws:ecs/service:Service", "prod-reports-service")]
    reports = {(action, n) for action, _, n in changes if n.startswith("prod-reports")}
    # the task definition gets a new revision (the command); nothing of the task is added
    assert ("new-revision", "prod-reports-task-definition") in reports
    added = sorted(n for action, n in reports if action == "add")
    assert added == [
        "prod-reports-dlq", "prod-reports-run", "prod-reports-runner", "prod-reports-runner-policy",
        "prod-reports-schedule", "prod-reports-scheduler", "prod-reports-scheduler-policy",
    ]
