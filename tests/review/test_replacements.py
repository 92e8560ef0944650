"""Exact contracts of the replacement table and the diff's classification, on tiny plans:
what a change does to a resource (update, replace, new revision), what state it loses."""

from __future__ import annotations

import dataclasses

import pytest

from review.diff import describe_strategy, diff_plans, top_input
from review.offline import CapturedResource, Plan, mock_id
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


def test_replacing_an_efs_file_system_loses_its_files_and_a_throughput_change_does_not():
    file_system = "aws:efs/fileSystem:FileSystem"
    old = resource(file_system, "fs", protect=True, encrypted=True, throughputMode="elastic")
    replaced = resource(file_system, "fs", protect=True, encrypted=False, throughputMode="elastic")
    updated = resource(file_system, "fs", protect=True, encrypted=True, throughputMode="bursting")
    change = changes_between([old], [replaced])["fs"]
    assert (change.action, change.holds, change.destroys_state, change.protected) == (
        "replace", "its files (every EFS volume that mounts it starts empty)", True, True)
    change = changes_between([old], [updated])["fs"]
    assert (change.action, change.holds, change.destroys_state) == ("update", None, False)
    access_point = "aws:efs/accessPoint:AccessPoint"
    moved = changes_between([resource(access_point, "ap", rootDirectory={"path": "/a"})],
                            [resource(access_point, "ap", rootDirectory={"path": "/b"})])["ap"]
    assert (moved.action, moved.holds) == ("replace", None)


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
    # A service whose only change is one it ignores (autoscaling moves desiredCount) rolls nothing out.
    scaled = dataclasses.replace(resource(SERVICE, "svc", desiredCount=2), ignore_changes=("desiredCount",))
    rescaled = dataclasses.replace(resource(SERVICE, "svc", desiredCount=5), ignore_changes=("desiredCount",))
    change = changes_between([scaled], [rescaled])["svc"]
    assert (change.action, change.rollout) == ("ignored", None)


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


def test_each_before_job_is_judged_on_its_own_trigger():
    """Two jobs: the first (in URN order) keeps its task definition and stays; the second's gets
    a new revision and runs again."""
    first = resource(TASK_DEFINITION, "dev-a-seed-td", cpu="256")
    old, new = resource(TASK_DEFINITION, "dev-migrate-td", cpu="256"), resource(TASK_DEFINITION, "dev-migrate-td", cpu="512")
    seed = dataclasses.replace(resource(COMMAND, "dev-a-seed-run", triggers=["arn:seed"]), property_dependencies={"triggers": (first.urn,)})
    command, services = before_job(old, "dev-api")
    changes = changes_between([first, seed, old, command, *services], [first, seed, new, command, *services])
    assert sorted((c.name, c.action) for c in changes.values()) == [("dev-migrate-run", "replace"), ("dev-migrate-td", "new-revision")]


def test_a_new_before_job_is_added_not_rerun():
    old, new = resource(TASK_DEFINITION, "dev-migrate-td", cpu="256"), resource(TASK_DEFINITION, "dev-migrate-td", cpu="512")
    command, services = before_job(old, "dev-api")
    run = changes_between([old, *services], [new, command, *services])["dev-migrate-run"]
    assert (run.action, run.because, run.changes) == ("add", None, ())


def test_a_run_replaced_for_its_own_trigger_is_not_rerun_on_top():
    """A run whose `triggers` input itself changed is replaced for that change, once: the new
    revision of its task definition adds no second trigger change and no `because`."""
    old, new = resource(TASK_DEFINITION, "dev-migrate-td", cpu="256"), resource(TASK_DEFINITION, "dev-migrate-td", cpu="512")
    command, services = before_job(old, "dev-api")
    retriggered = dataclasses.replace(command, props={"triggers": ["arn:td", "arn:other"]})
    run = changes_between([old, command, *services], [new, retriggered, *services])["dev-migrate-run"]
    assert (run.action, run.because) == ("replace", None)
    assert [(c.path, c.before, c.after, c.effect) for c in run.changes] == [("triggers[1]", "<absent>", "arn:other", "replace")]


def test_a_command_without_a_trigger_stays_when_a_task_definition_gets_a_new_revision():
    old, new = resource(TASK_DEFINITION, "dev-migrate-td", cpu="256"), resource(TASK_DEFINITION, "dev-migrate-td", cpu="512")
    untriggered = resource(COMMAND, "dev-notify", create="echo deployed")
    changes = changes_between([old, untriggered], [new, untriggered])
    assert sorted((c.name, c.action) for c in changes.values()) == [("dev-migrate-td", "new-revision")]


# ---- what a replacement carries along (review/diff.py's _spread_replacements) --------------------

KMS_KEY = "aws:kms/key:Key"
FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/dev-efs-key"


def efs_on(key: CapturedResource, name: str = "dev-files") -> CapturedResource:
    return dataclasses.replace(resource(FILE_SYSTEM, name, encrypted=True, kmsKeyId=KEY_ARN),
                               property_dependencies={"kmsKeyId": (key.urn,)})


def test_a_replaced_key_replaces_the_file_system_encrypted_with_it_and_its_files_are_lost():
    key, rekeyed = resource(KMS_KEY, "dev-efs-key", keySpec="SYMMETRIC_DEFAULT"), resource(KMS_KEY, "dev-efs-key", keySpec="HMAC_256")
    files = efs_on(key)
    change = changes_between([key, files], [rekeyed, files])["dev-files"]
    assert (change.action, change.because, change.holds, change.destroys_state) == (
        "replace", "dev-efs-key", "its files (every EFS volume that mounts it starts empty)", True)
    assert [(c.path, c.before, c.after, c.effect) for c in change.changes] == [
        ("kmsKeyId", KEY_ARN, "<known after dev-efs-key is replaced>", "replace")]


def test_a_resource_added_beside_a_replaced_one_it_refers_to_is_only_added():
    key, rekeyed = resource(KMS_KEY, "dev-efs-key", keySpec="SYMMETRIC_DEFAULT"), resource(KMS_KEY, "dev-efs-key", keySpec="HMAC_256")
    change = changes_between([key], [rekeyed, efs_on(key)])["dev-files"]
    assert (change.action, change.because, change.changes) == ("add", None, ())


def test_an_ignored_change_that_follows_a_replacement_is_an_update():
    """A rule whose own change is ignored, but whose referenced group gets a new id, is updated
    in place because of the group (its referencedSecurityGroupId does not force replacement)."""
    group = resource(SECURITY_GROUP, "dev-alb-sg", description="load balancer")
    renamed = resource(SECURITY_GROUP, "dev-alb-sg", description="the load balancer")
    rule = dataclasses.replace(resource(INGRESS_RULE, "dev-api-from-alb", referencedSecurityGroupId=mock_id(SECURITY_GROUP, "dev-alb-sg"),
                                        fromPort=8080, toPort=8080, ipProtocol="tcp", description="from the ALB"),
                               ignore_changes=("description",))
    described = dataclasses.replace(rule, props={**rule.props, "description": "from the load balancer"})
    change = changes_between([group, rule], [renamed, described])["dev-api-from-alb"]
    assert (change.action, change.because) == ("update", "dev-alb-sg")
    assert [(c.path, c.effect) for c in change.changes] == [("description", "ignored"), ("referencedSecurityGroupId", "update")]


# ---- matching resources across a moved component (review/diff.py's alias_urns) ------------------

ENVIRONMENT_URN = "urn:pulumi:dev::p::platform:Environment::dev"


def component(type_: str, name: str, *aliases: str) -> CapturedResource:
    urn = f"urn:pulumi:dev::p::platform:Environment${type_}::{name}"
    return CapturedResource(type=type_, name=name, urn=urn, parent=ENVIRONMENT_URN, custom=False, props={}, aliases=aliases)


def child(parent: CapturedResource, type_: str, logical_name: str, **props) -> CapturedResource:
    """A child's URN as the offline monitor makes it: the parent's own type, `$`, its type."""
    return CapturedResource(type=type_, name=logical_name, urn=f"urn:pulumi:dev::p::{parent.type}${type_}::{logical_name}",
                            parent=parent.urn, custom=True, props=props)


def test_a_component_that_changes_type_moves_its_children_along():
    """The engine gives a child the alias `<its parent's alias's own type>$<type>::<name>` when
    its parent is aliased, so the log group moves with the component instead of being deleted
    and recreated (with its log events lost)."""
    worker = component("platform:Worker", "dev-api")
    service = component("platform:Service", "dev-api", worker.urn)
    old_logs = child(worker, LOG_GROUP, "dev-api-logs", name="/ecs/dev/api", retentionInDays=30)
    new_logs = child(service, LOG_GROUP, "dev-api-logs", name="/ecs/dev/api", retentionInDays=90)
    changes = changes_between([worker, old_logs], [service, new_logs])
    assert [(c.name, c.action, [(p.path, p.before, p.after) for p in c.changes]) for c in changes.values()] == [
        ("dev-api-logs", "update", [("retentionInDays", 30, 90)])]


def test_an_input_set_or_unset_shows_as_absent_on_the_other_side():
    old = resource(LOG_GROUP, "logs", name="/ecs/dev/api", retentionInDays=30)
    new = resource(LOG_GROUP, "logs", name="/ecs/dev/api", kmsKeyId=KEY_ARN)
    change = changes_between([old], [new])["logs"]
    assert [(c.path, c.before, c.after, c.effect) for c in change.changes] == [
        ("kmsKeyId", "<absent>", KEY_ARN, "update"), ("retentionInDays", 30, "<absent>", "update")]


@pytest.mark.parametrize(
    ("path", "top"),
    [
        ("containerDefinitions[0].image", "containerDefinitions"),
        ("ingress[1].cidrBlocks[0]", "ingress"),
        ("tags.team", "tags"),
        ("cpu", "cpu"),
        # A load balancer input with a capital X (the X-Forwarded-For client port) is one input.
        ("enableXffClientPort", "enableXffClientPort"),
    ],
)
def test_top_input(path, top):
    assert top_input(path) == top


def test_a_removed_rule_names_the_removed_group_it_allowed():
    """The flow of a removed rule reads the names of the base plan's groups too (a group removed
    with it has no id in the head plan)."""
    alb, api = resource(SECURITY_GROUP, "dev-alb-sg", description="load balancer"), resource(SECURITY_GROUP, "dev-api-sg", description="api")
    rule = resource(INGRESS_RULE, "dev-api-from-alb", securityGroupId=mock_id(SECURITY_GROUP, "dev-api-sg"),
                    referencedSecurityGroupId=mock_id(SECURITY_GROUP, "dev-alb-sg"), fromPort=8080, toPort=8080, ipProtocol="tcp")
    change = changes_between([alb, api, rule], [api])["dev-api-from-alb"]
    assert (change.action, change.meaning.lines) == ("remove", ("no longer allows ingress dev-alb-sg -> dev-api-sg:8080/tcp",))


def test_a_task_definition_whose_role_is_replaced_gets_a_new_revision():
    """A task definition never updates in place: a new role ARN in it registers a new revision,
    with or without a change of its own."""
    role, renamed = resource("aws:iam/role:Role", "dev-api-task-role", name="dev-api-task"), resource("aws:iam/role:Role", "dev-api-task-role", name="dev-api-app")
    role_arn = "arn:aws:iam::123456789012:role/dev-api-task-role"
    td = dataclasses.replace(resource(TASK_DEFINITION, "dev-api-td", cpu="256", taskRoleArn=role_arn), property_dependencies={"taskRoleArn": (role.urn,)})
    change = changes_between([role, td], [renamed, td])["dev-api-td"]
    assert (change.action, change.because, [(c.path, c.effect) for c in change.changes]) == (
        "new-revision", "dev-api-task-role", [("taskRoleArn", "new-revision")])
    resized = dataclasses.replace(td, props={**td.props, "cpu": "512"})
    change = changes_between([role, td], [renamed, resized])["dev-api-td"]
    assert (change.action, change.because, [(c.path, c.effect) for c in change.changes]) == (
        "new-revision", "dev-api-task-role", [("cpu", "new-revision"), ("taskRoleArn", "new-revision")])
