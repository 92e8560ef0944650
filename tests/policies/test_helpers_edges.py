"""Edges of policies/helpers.py through the rules that use it: unreadable container
definitions (every message whole), container keys in any letter case and keys ECS does not
know, and where inside a property a preview-time unknown sits (the advisory names the path,
list indices included)."""

from __future__ import annotations

import pytest

from policies.helpers import canonical_keys, get

from .verdicts import problems
from .stack import UNKNOWN, edited, set_

TASK, VALID = "prod-api-task", "aws-ecs-task-definition-valid-containers"
# Unreadable containers reference no secrets, so the execution role's two grants are unreferenced.
UNREFERENCED = [("aws-iam-execution-role-secrets-scoped", "prod-api-exec-role",
                 f"inline policy 'execution' statement '{sid}' lets the execution role read {arn}, which its task definitions do not reference")
                for sid, arn in (("Parameters", "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api/key"),
                                 ("Secrets", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"))]


@pytest.mark.parametrize("text, problem", [
    pytest.param("[{name: api}]", "containerDefinitions is not JSON, so its containers cannot be judged", id="not-json"),
    pytest.param('{"name": "api"}', "containerDefinitions is a JSON dict, not a list of containers", id="an-object"),
    pytest.param('"api"', "containerDefinitions is a JSON str, not a list of containers", id="a-string"),
    pytest.param("[]", "containerDefinitions has no containers", id="empty"),
    pytest.param('["api", 7]', "containerDefinitions entries 0, 1 are not container objects", id="entries-not-objects"),
])
def test_unreadable_containers(pack, text, problem):
    verdict = pack.verdict(edited(set_(TASK, "containerDefinitions", text)))
    assert problems(verdict) == sorted([(VALID, TASK, problem), *UNREFERENCED])


def test_keys_ecs_does_not_know_are_kept_as_written():
    raw = {"Name": "api", "futureField": {"Inner": 1}, "other": [{"Deeper": True}], "USER": "10001"}
    assert canonical_keys(raw) == {"name": "api", "futureField": {"Inner": 1}, "other": [{"Deeper": True}], "user": "10001"}


def test_an_unknown_inside_a_list_is_named_by_its_index(pack):
    verdict = pack.verdict(edited(set_("prod-api-task-role", "inlinePolicies.0.policy", UNKNOWN)))
    assert verdict.mandatory == ()
    why = "prod-api-task-role (aws:iam/role:Role): .inlinePolicies.0.policy is unknown until apply; the rule runs again on `pulumi up`"
    assert sorted((v.policy, v.resource, v.message.split(" during preview: ", 1)[1]) for v in verdict.violations) == [
        ("aws-iam-execution-role-secrets-scoped", "", why),  # a stack rule: its advisory names no resource of its own
        *((policy, "prod-api-task-role", why) for policy in ("aws-iam-no-wildcard-actions", "aws-iam-no-wildcard-resources", "aws-iam-pass-role-scoped")),
    ]


@pytest.mark.parametrize("path, expected", [
    (("items", 1), "b"), (("items", -1), "b"), (("items", 2), "absent"), (("items", -3), "absent"),
    (("items", "name"), "absent"),  # a key into a list
    (("text", 0), "absent"),  # an index into a string: a string is a value, not a list
    (("count", 0), "absent"),
    (("map", "k"), "v"), (("map", "K"), "absent"),  # props keys are the provider's camelCase, read exactly
])
def test_get_reads_only_maps_by_key_and_lists_by_index(path, expected):
    props = {"items": ["a", "b"], "text": "abc", "count": 3, "map": {"k": "v"}}
    assert get(props, *path, default="absent") == expected
