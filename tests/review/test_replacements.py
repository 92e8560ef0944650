"""Exact contracts of the replacement table and the diff's classification, on tiny plans:
what a change does to a resource (update, replace, new revision), what state it loses."""

from __future__ import annotations

import dataclasses

import pytest

from review.diff import describe_strategy, diff_plans
from review.offline import CapturedResource, Plan
from review.replacements import change_effect

REPOSITORY = "aws:ecr/repository:Repository"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
CAPACITY_PROVIDER = "aws:ecs/capacityProvider:CapacityProvider"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@pytest.mark.parametrize(
    ("type_", "path", "effect"),
    [
        # A nested ForceNew argument replaces; its siblings update in place.
        (CAPACITY_PROVIDER, "autoScalingGroupProvider.autoScalingGroupArn", "replace"),
        (CAPACITY_PROVIDER, "autoScalingGroupProvider.managedScaling.targetCapacity", "update"),
        # Below a ForceNew path (list items, nested keys) still replaces.
        (REPOSITORY, "encryptionConfigurations[0].kmsKey", "replace"),
        (REPOSITORY, "encryptionConfigurations", "replace"),
        # A path that only starts with the same letters is another argument.
        ("aws:iam/role:Role", "namePrefix", "replace"),
        ("aws:iam/role:Role", "nameSuffixNotAnArgument", "update"),
        ("aws:ecs/service:Service", "clusterX", "update"),
        # Task definitions never update: every change is a new revision, tags aside.
        (TASK_DEFINITION, "containerDefinitions", "new-revision"),
        (TASK_DEFINITION, "cpu", "new-revision"),
        (TASK_DEFINITION, "tags.team", "update"),
        # Tags update in place everywhere, even on a type whose name forces replacement.
        (REPOSITORY, "tags", "update"),
        (REPOSITORY, "tagsAll.env", "update"),
        # A scheduled job's queue keeps its name; types outside the table update.
        ("aws:sqs/queue:Queue", "name", "replace"),
        ("aws:sqs/queue:Queue", "messageRetentionSeconds", "update"),
        ("aws:s3/bucket:Bucket", "bucket", "update"),
    ],
)
def test_change_effect(type_, path, effect):
    assert change_effect(type_, path) == effect


def resource(type_: str, logical_name: str, protect: bool = False, **props) -> CapturedResource:
    urn = f"urn:pulumi:dev::p::{type_}::{logical_name}"
    return CapturedResource(type=type_, name=logical_name, urn=urn, parent="", custom=True, props=props, protect=protect)


def changes_between(before: list[CapturedResource], after: list[CapturedResource]):
    return {c.name: c for c in diff_plans(Plan("dev", before), Plan("dev", after)).changes}


def test_replacing_or_removing_a_repository_loses_its_images_an_update_does_not():
    old = resource(REPOSITORY, "repo", name="dev/api", imageTagMutability="IMMUTABLE", encryptionConfigurations=[{"kmsKey": "a"}])
    replaced = resource(REPOSITORY, "repo", name="dev/api", imageTagMutability="IMMUTABLE", encryptionConfigurations=[{"kmsKey": "b"}])
    updated = resource(REPOSITORY, "repo", name="dev/api", imageTagMutability="MUTABLE", encryptionConfigurations=[{"kmsKey": "a"}])
    change = changes_between([old], [replaced])["repo"]
    assert (change.action, change.holds, change.destroys_state) == ("replace", "its images", True)
    change = changes_between([old], [])["repo"]
    assert (change.action, change.holds, change.destroys_state) == ("remove", "its images", True)
    change = changes_between([old], [updated])["repo"]
    assert (change.action, change.holds, change.destroys_state) == ("update", None, False)


def test_a_protected_log_group_replacement_is_flagged_as_protected():
    old = resource(LOG_GROUP, "logs", protect=True, name="/ecs/dev/api")
    new = resource(LOG_GROUP, "logs", protect=True, name="/ecs/dev/web")
    change = changes_between([old], [new])["logs"]
    assert (change.action, change.holds, change.protected) == ("replace", "its log events", True)


def test_a_task_definition_change_is_a_new_revision_not_a_replacement():
    old = resource(TASK_DEFINITION, "td", family="dev-api", cpu="256", tags={"team": "a"})
    new = resource(TASK_DEFINITION, "td", family="dev-api", cpu="512", tags={"team": "a"})
    change = changes_between([old], [new])["td"]
    assert (change.action, change.holds, [(p.path, p.effect) for p in change.changes]) == (
        "new-revision", None, [("cpu", "new-revision")])
    retagged = resource(TASK_DEFINITION, "td", family="dev-api", cpu="256", tags={"team": "b"})
    assert changes_between([old], [retagged])["td"].action == "update"


# ---- how a change rolls out (review/diff.py's rollout_of, describe_strategy) --------------------

SERVICE = "aws:ecs/service:Service"


@pytest.mark.parametrize(
    ("props", "text"),
    [
        # ECS's own defaults for a service that sets nothing: min 100%, max 200%, no breaker.
        ({}, "ROLLING (min 100%, max 200%, no circuit breaker)"),
        ({"deploymentMinimumHealthyPercent": 50, "deploymentMaximumPercent": 150,
          "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
         "ROLLING (min 50%, max 150%, circuit breaker with rollback)"),
        # A breaker that only stops a failed deployment does not roll it back.
        ({"deploymentCircuitBreaker": {"enable": True, "rollback": False}}, "ROLLING (min 100%, max 200%, no circuit breaker)"),
        ({"deploymentCircuitBreaker": {"enable": False, "rollback": True}}, "ROLLING (min 100%, max 200%, no circuit breaker)"),
        ({"deploymentConfiguration": {"strategy": "CANARY", "bakeTimeInMinutes": 15,
                                      "canaryConfiguration": {"canaryPercent": 10, "canaryBakeTimeInMinutes": 5}}},
         "CANARY (10% of traffic for 5 min, then all; both revisions kept 15 min)"),
        ({"deploymentConfiguration": {"strategy": "LINEAR", "bakeTimeInMinutes": 10,
                                      "linearConfiguration": {"stepPercent": 20, "stepBakeTimeInMinutes": 3}}},
         "LINEAR (20% more traffic every 3 min; both revisions kept 10 min)"),
        ({"deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 30}},
         "BLUE_GREEN (all traffic at once after the test rule; both revisions kept 30 min)"),
    ],
    ids=["ecs-defaults", "rolling-with-rollback", "breaker-without-rollback", "rollback-without-breaker", "canary", "linear", "blue-green"],
)
def test_describe_strategy(props, text):
    assert describe_strategy(props) == text


def test_a_new_revision_rolls_out_with_its_services_strategy_and_alarms():
    service = resource(SERVICE, "svc", deploymentCircuitBreaker={"enable": True, "rollback": True},
                       alarms={"alarmNames": ["dev-api-5xx", "dev-api-latency"]})
    old, new = resource(TASK_DEFINITION, "td", cpu="256"), resource(TASK_DEFINITION, "td", cpu="512")
    change = changes_between([service, old], [service, new])["td"]
    assert change.rollout == (
        "ROLLING (min 100%, max 200%, circuit breaker with rollback); rolled back when an alarm fires (dev-api-5xx, dev-api-latency)"
    )


def test_a_revision_the_service_ignores_rolls_out_at_cis_next_deployment():
    service = dataclasses.replace(resource(SERVICE, "svc"), ignore_changes=("taskDefinition",))
    old, new = resource(TASK_DEFINITION, "td", cpu="256"), resource(TASK_DEFINITION, "td", cpu="512")
    changes = changes_between([service, old], [service, new])
    assert changes["td"].rollout == (
        "ROLLING (min 100%, max 200%, no circuit breaker), at CI's next deployment (deploys: ci: the service ignores taskDefinition)"
    )
    # The service's own change rolls out at once.
    resized = dataclasses.replace(resource(SERVICE, "svc", desiredCount=3), ignore_changes=("taskDefinition",))
    assert changes_between([service], [resized])["svc"].rollout == "ROLLING (min 100%, max 200%, no circuit breaker)"


def test_no_rollout_without_a_service_for_a_removal_or_for_other_types():
    old, new = resource(TASK_DEFINITION, "td", cpu="256"), resource(TASK_DEFINITION, "td", cpu="512")
    assert changes_between([old], [new])["td"].rollout is None
    service = resource(SERVICE, "svc")
    assert changes_between([service, old], [service])["td"].rollout is None
    group = resource(LOG_GROUP, "logs", name="/ecs/dev/api", retentionInDays=30)
    longer = resource(LOG_GROUP, "logs", name="/ecs/dev/api", retentionInDays=90)
    assert changes_between([service, group], [service, longer])["logs"].rollout is None


# ---- a `before:` job's run (review/diff.py's _rerun_before_jobs, before_job_run) ----------------

COMMAND = "command:local:Command"
RUN_TEXT = ("runs the job's task once in this update (aws ecs run-task, then waits for it to stop) before {}; "
            "pulumi up stops there unless it exits 0")


def before_job(task_definition: CapturedResource, *waiting_services: str):
    """The job's task definition, its run (triggered by the definition's ARN) and the services that wait for it."""
    command = dataclasses.replace(resource(COMMAND, "dev-migrate-run", triggers=["arn:td"]),
                                  property_dependencies={"triggers": (task_definition.urn,)})
    services = [dataclasses.replace(resource(SERVICE, f"{name}-svc", name=name), depends_on=(command.urn,)) for name in waiting_services]
    return command, services


def test_a_before_job_runs_again_when_its_task_definition_gets_a_new_revision():
    old, new = resource(TASK_DEFINITION, "dev-migrate-td", cpu="256"), resource(TASK_DEFINITION, "dev-migrate-td", cpu="512")
    command, services = before_job(old, "dev-api")
    run = changes_between([old, command, *services], [new, command, *services])["dev-migrate-run"]
    assert (run.action, run.because, run.rollout) == ("replace", "dev-migrate-td", RUN_TEXT.format("dev-api rolls out"))
    assert [(c.path, c.before, c.after, c.effect) for c in run.changes] == [
        ("triggers", ["arn:td"], "<a new revision of dev-migrate-td>", "replace")]


def test_a_before_job_names_every_rollout_that_waits_for_it():
    old, new = resource(TASK_DEFINITION, "dev-migrate-td", cpu="256"), resource(TASK_DEFINITION, "dev-migrate-td", cpu="512")
    command, services = before_job(old, "dev-web", "dev-api")
    run = changes_between([old, command, *services], [new, command, *services])["dev-migrate-run"]
    assert run.rollout == RUN_TEXT.format("dev-api, dev-web roll out")
    command, _ = before_job(old)
    run = changes_between([old, command], [new, command])["dev-migrate-run"]
    assert run.rollout == RUN_TEXT.format("any rollout")


def test_a_before_job_stays_when_its_task_definition_is_unchanged_or_only_retagged():
    td = resource(TASK_DEFINITION, "dev-migrate-td", cpu="256", tags={"team": "a"})
    retagged = resource(TASK_DEFINITION, "dev-migrate-td", cpu="256", tags={"team": "b"})
    command, services = before_job(td, "dev-api")
    assert "dev-migrate-run" not in changes_between([td, command, *services], [td, command, *services])
    assert "dev-migrate-run" not in changes_between([td, command, *services], [retagged, command, *services])
    # Another resource whose dependency gets a new revision is not a job's run.
    other = dataclasses.replace(resource("aws:sqs/queue:Queue", "queue", name="q"), property_dependencies={"triggers": (td.urn,)})
    revised = resource(TASK_DEFINITION, "dev-migrate-td", cpu="512", tags={"team": "a"})
    assert "queue" not in changes_between([td, other], [revised, other])


def test_a_new_before_job_is_added_not_rerun():
    old, new = resource(TASK_DEFINITION, "dev-migrate-td", cpu="256"), resource(TASK_DEFINITION, "dev-migrate-td", cpu="512")
    command, services = before_job(old, "dev-api")
    run = changes_between([old, *services], [new, command, *services])["dev-migrate-run"]
    assert (run.action, run.because, run.changes) == ("add", None, ())
