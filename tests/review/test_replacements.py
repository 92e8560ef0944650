"""Exact contracts of the replacement table and the diff's classification, on tiny plans:
what a change does to a resource (update, replace, new revision), what state it loses."""

from __future__ import annotations

import pytest

from review.diff import diff_plans
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
