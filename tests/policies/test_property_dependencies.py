"""The offline verdict equals the engine's: review/offline.py records each registration's
propertyDependencies and dependencies, review/policy_verdict.py sends them in AnalyzeStack as
the engine does, and a stack rule resolves "which role is this task definition's execution
role, which its task role" from them. Without them (older captures, hand-built stacks) the
pack resolves the same links from the ARN values, so both give the same verdict."""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache

import pytest

from configs.loader import load_environment
from policies.config_gen import pack_config
from review.offline import Plan
from tests.harness import REFERENCE_ENVIRONMENTS, TODAY, edited, plan_of, reference_config, reference_plan

from .stack import PARAMETER, SECRET, UNKNOWN, edited as edited_stack, statement
from .test_environments import INSECURE

SECRETS_RULE = "aws-iam-execution-role-secrets-scoped"
OTHER_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/other-XyZaBc"
ANY_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:*"


def task_role_reading(resource: str):
    """prod, with the api's task role (its own code, not the injection) reading one secret.
    Added after loading: the loader refuses a wildcard ARN (tests/configs/test_iam_refusals.py),
    and the pack must still judge a program that builds one."""
    from configs.model import Statement

    config = reference_config("prod")
    api = config.services["api"]
    grant = Statement(actions=["secretsmanager:GetSecretValue"], resources=[resource])
    reading = api.model_copy(update={"permissions": [*api.permissions, grant]})
    return config.model_copy(update={"services": {**config.services, "api": reading}})


@lru_cache(maxsize=None)
def stack(label: str):
    if label in REFERENCE_ENVIRONMENTS:
        return reference_config(label), reference_plan(label)
    config = {
        "insecure": lambda: load_environment(INSECURE, today=TODAY),
        "task-role-reads-one-secret": lambda: task_role_reading(OTHER_SECRET),
        "task-role-reads-any-secret": lambda: task_role_reading(ANY_SECRET),
    }[label]()
    return config, plan_of(config)


def without_dependencies(plan: Plan) -> list:
    """The stack as the harness sent it before: plain dependencies, no per-property ones."""
    return [dataclasses.replace(r, property_dependencies={}) for r in plan.resources]


def test_the_capture_records_which_property_came_from_which_resource():
    plan = reference_plan("prod")
    task = plan.named("prod-api-task-definition")
    urn_of = {r.name: r.urn for r in plan.resources}
    assert task.property_dependencies["executionRoleArn"] == (urn_of["prod-api-execution"],)
    assert task.property_dependencies["taskRoleArn"] == (urn_of["prod-api-task"],)
    assert sorted(task.property_dependencies["containerDefinitions"]) == sorted([urn_of["prod-api-logs"], urn_of["prod-registry-api"]])
    assert task.property_dependencies["cpu"] == ()
    assert set(task.depends_on) == {urn_of[n] for n in ("prod-api-execution", "prod-api-task", "prod-api-logs", "prod-registry-api")}


@pytest.mark.parametrize(
    "label", [*REFERENCE_ENVIRONMENTS, "insecure", "task-role-reads-one-secret", "task-role-reads-any-secret"]
)
def test_the_verdict_is_the_same_with_and_without_dependency_information(pack, label):
    config, plan = stack(label)
    with_links = pack.verdict(plan.resources, pack_config(config))
    without_links = pack.verdict(without_dependencies(plan), pack_config(config))
    assert with_links.summary() == without_links.summary()
    assert set(with_links.violations) == set(without_links.violations)  # the messages too


def test_a_task_role_that_names_the_secret_it_reads_passes(pack):
    config, plan = stack("task-role-reads-one-secret")
    assert pack.verdict(plan.resources, pack_config(config)).violations == ()


def test_a_task_role_reading_every_secret_fails(pack):
    config, plan = stack("task-role-reads-any-secret")
    verdict = pack.verdict(plan.resources, pack_config(config))
    assert verdict.summary() == [(SECRETS_RULE, "mandatory", "prod-api-task"), ("aws-iam-no-wildcard-resources", "mandatory", "prod-api-task-policy")]
    (found,) = [v for v in verdict.violations if v.policy == SECRETS_RULE]
    assert found.message.endswith(
        f"prod-api-task: prod-api-task-policy policy statement 'Declared3' lets the task role read {ANY_SECRET}, "
        "which matches more than one secret or parameter. Fix: grant secretsmanager:GetSecretValue / ssm:GetParameters "
        "on exactly the referenced (or needed) ARNs"
    )


def test_under_preview_the_roles_are_told_apart_by_the_dependencies_alone(pack):
    # In a real preview the role ARNs are unknown: only the property dependencies the client
    # sends say which role is which. Judged as an execution role, the task role's grant of the
    # other secret would fail (its task definition does not inject it).
    config, plan = stack("task-role-reads-one-secret")
    roles = ("executionRoleArn", "taskRoleArn")
    preview = [
        dataclasses.replace(r, props={**r.props, **{k: UNKNOWN for k in roles if k in r.props}})
        if r.type == "aws:ecs/taskDefinition:TaskDefinition" else r
        for r in plan.resources
    ]
    assert pack.verdict(preview, pack_config(config)).violations == ()
    guessed = pack.verdict([dataclasses.replace(r, property_dependencies={}) for r in preview], pack_config(config))
    (misjudged,) = [v for v in guessed.violations if v.policy == SECRETS_RULE]
    assert (misjudged.level, misjudged.resource) == ("mandatory", "prod-api-task")
    assert "lets the execution role read " + OTHER_SECRET in misjudged.message


# ---- the rule on the compliant stack, one field changed per case ---------------------------

TASK_ROLE = "prod-api-task-role"


@pytest.mark.parametrize(
    ("resource", "action"),
    [
        (SECRET, "secretsmanager:GetSecretValue"),
        (SECRET.removesuffix("-AbCdEf") + "-??????", "secretsmanager:GetSecretValue"),  # the documented suffix
        (f"arn:aws:ssm:eu-west-1:123456789012:parameter{PARAMETER}", "ssm:GetParameters"),
        ("arn:aws:s3:::acme-config/*", "*"),  # every action, but on objects of a bucket: no secret
    ],
)
def test_a_task_role_naming_one_secret_passes(pack, resource, action):
    verdict = pack.verdict(edited_stack(statement(TASK_ROLE, 0, Action=action, Resource=resource)))
    assert [v for v in verdict.violations if v.policy == SECRETS_RULE] == []


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:*",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/*",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/*",
        "arn:aws:*:eu-west-1:123456789012:*",
        "*",
    ],
)
def test_a_task_role_reading_more_than_one_secret_fails(pack, resource):
    verdict = pack.verdict(edited_stack(statement(TASK_ROLE, 0, Action=["secretsmanager:GetSecretValue", "ssm:GetParameters"], Resource=resource)))
    (found,) = [v for v in verdict.violations if v.policy == SECRETS_RULE]
    assert (found.level, found.resource) == ("mandatory", TASK_ROLE)
    assert f"statement 'Config' lets the task role read {resource}, which matches more than one secret or parameter" in found.message


def test_a_secret_injected_by_its_partial_arn_is_read_through_the_documented_suffix(pack):
    # The loader accepts a partial secret ARN (no 6-character suffix) and grants `<name>-??????`;
    # the execution role then reads exactly the referenced secret.
    partial = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/partial"

    def inject(data):
        data["services"]["api"]["secrets"]["PARTIAL"] = {"secret": partial}

    config = edited("prod", inject)
    plan = plan_of(config)
    policy = json.loads(plan.named("prod-api-execution-policy").props["policy"])
    assert [s["Resource"] for s in policy["Statement"] if s.get("Sid") == "ReadReferencedSecrets"][0].count(partial + "-??????") == 1
    verdict = pack.verdict(plan.resources, pack_config(config))
    assert [v for v in verdict.violations if v.policy == SECRETS_RULE] == []
