"""components/registry.py: lifecycle JSON from typed rules, repositories under mocks, stability."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.naming import child
from components.registry import (
    LifecycleRule,
    Registry,
    RegistryArgs,
    expire_untagged,
    keep_tagged,
    lifecycle_policy,
    lifecycle_rules,
)
from configs.model import EnvironmentConfig, Lifecycle
from review.offline import Plan, run_program
from tests.components.plan_diff import added_names, changed_resources
from tests.harness import REFERENCE_ENVIRONMENTS, edited, reference_config

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
CUSTOMER_KEY = "arn:aws:kms:eu-west-1:222222222222:key/1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"


def registry_plan(config: EnvironmentConfig) -> Plan:
    """Only the Registry component, wired as components/environment.py wires it."""

    def program(cfg: EnvironmentConfig) -> dict[str, Any]:
        registry = Registry(
            child(cfg.environment, "registry"),
            RegistryArgs(
                registry=cfg.registry,
                environment=cfg.environment,
                account_id=cfg.aws.account_id,
                partition="aws",
                tags=cfg.all_tags,
                protect=cfg.protect_resources,
            ),
        )
        return {"urls": registry.repository_urls, "arns": registry.repository_arns, "names": registry.repository_names}

    return run_program(config, program=program)


@pytest.fixture(scope="module")
def reference() -> dict[str, Plan]:
    return {env: registry_plan(reference_config(env)) for env in REFERENCE_ENVIRONMENTS}


def untagged_rule(priority: int, days: int) -> dict:
    return {
        "rulePriority": priority,
        "description": f"Expire untagged images {days} days after push",
        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": days},
        "action": {"type": "expire"},
    }


def keep_rule(priority: int, count: int, prefix: str) -> dict:
    return {
        "rulePriority": priority,
        "description": f"Keep the {count} most recent images tagged {prefix}*",
        "selection": {"tagStatus": "tagged", "tagPrefixList": [prefix], "countType": "imageCountMoreThan", "countNumber": count},
        "action": {"type": "expire"},
    }


def any_tag_rule(priority: int, count: int) -> dict:
    return {
        "rulePriority": priority,
        "description": f"Keep the {count} most recent of all other images, whatever their tag",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": count},
        "action": {"type": "expire"},
    }


# ---- lifecycle policy (pure) -------------------------------------------------------------


def test_default_lifecycle_keeps_30_v_tags_expires_untagged_after_14_days_and_bounds_every_other_tag():
    assert json.loads(lifecycle_policy(lifecycle_rules(Lifecycle()))) == {
        "rules": [untagged_rule(1, 14), keep_rule(2, 30, "v"), any_tag_rule(3, 100)]
    }


def test_each_tag_prefix_gets_its_own_keep_rule_sorted_and_deduplicated():
    # One tagPrefixList with two prefixes would select only images tagged with both.
    lifecycle = Lifecycle(keep_tagged=50, tag_prefixes=["v", "release-", "v"], expire_untagged_days=7, keep_any=20)
    assert json.loads(lifecycle_policy(lifecycle_rules(lifecycle))) == {
        "rules": [untagged_rule(1, 7), keep_rule(2, 50, "release-"), keep_rule(3, 50, "v"), any_tag_rule(4, 20)]
    }


def test_edge_values_render_unchanged():
    lifecycle = Lifecycle(keep_tagged=1, tag_prefixes=["x"], expire_untagged_days=1, keep_any=1)
    assert json.loads(lifecycle_policy(lifecycle_rules(lifecycle))) == {
        "rules": [untagged_rule(1, 1), keep_rule(2, 1, "x"), any_tag_rule(3, 1)]
    }


def test_the_reference_repositories_bound_git_sha_tags_with_a_last_any_rule():
    # A tag matching no prefix (CI's git SHA) is selected by the last rule only: ECR evaluates
    # tagStatus any last, and it must be the highest priority.
    for environment in REFERENCE_ENVIRONMENTS:
        for key, repository in reference_config(environment).registry.repositories.items():
            rules = json.loads(lifecycle_policy(lifecycle_rules(repository.lifecycle)))["rules"]
            assert rules[-1]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 100}, key
            assert rules[-1]["rulePriority"] == max(r["rulePriority"] for r in rules)


def test_rules_are_rendered_in_priority_order_whatever_the_input_order():
    rules = [keep_tagged(5, "v", priority=20), expire_untagged(3, priority=10)]
    assert [r["rulePriority"] for r in json.loads(lifecycle_policy(rules))["rules"]] == [10, 20]


def test_an_any_rule_with_the_highest_priority_is_accepted():
    any_rule = LifecycleRule(priority=9, description="At most 500 images", tag_status="any", count_type="imageCountMoreThan", count_number=500)
    document = json.loads(lifecycle_policy([expire_untagged(14, priority=1), keep_tagged(30, "v", priority=2), any_rule]))
    assert document["rules"][-1] == {
        "rulePriority": 9,
        "description": "At most 500 images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 500},
        "action": {"type": "expire"},
    }


ANY_FIRST = LifecycleRule(priority=1, description="any", tag_status="any", count_type="imageCountMoreThan", count_number=100)


@pytest.mark.parametrize(
    "rules, message",
    [
        ([], "a lifecycle policy needs at least one rule"),
        (
            [expire_untagged(14, priority=1), keep_tagged(30, "v", priority=1)],
            "rule priorities [1] are used more than once; ECR needs a unique priority per rule",
        ),
        (
            [ANY_FIRST, keep_tagged(30, "v", priority=2)],
            "rule 1 selects tagStatus any, so it must have the highest priority (ECR evaluates it last), but 2 is higher",
        ),
        ([expire_untagged(14, priority=0)], "rule priority 0 must be a positive integer"),
        ([expire_untagged(0, priority=1)], "rule 1: count 0 must be at least 1"),
        (
            [LifecycleRule(priority=1, description="", tag_status="tagged", count_type="imageCountMoreThan", count_number=3)],
            "rule 1: a tagged rule needs at least one tag prefix",
        ),
        (
            [LifecycleRule(1, "", "untagged", "sinceImagePushed", 3, ("v",))],
            "rule 1: tag prefixes only apply to tagged rules, not untagged",
        ),
    ],
    ids=["empty", "duplicate-priority", "any-not-last", "priority-zero", "count-zero", "tagged-no-prefix", "untagged-prefix"],
)
def test_invalid_rule_sets_raise_value_error(rules, message):
    with pytest.raises(ValueError) as error:
        lifecycle_policy(rules)
    assert str(error.value) == message


# ---- repositories under mocks ------------------------------------------------------------


@pytest.mark.parametrize(
    "environment, keys, protect, scan_on_push",
    [
        ("dev", ["api", "worker"], False, True),
        ("staging", ["api", "worker"], False, True),
        ("prod", ["api", "reports", "worker"], True, False),  # enhanced: the registry rule scans
    ],
)
def test_one_locked_down_repository_per_key(reference, environment, keys, protect, scan_on_push):
    plan = reference[environment]
    component = plan.named(f"{environment}-registry")
    repositories = plan.of_type(REPOSITORY)
    assert [r.name for r in repositories] == [f"{environment}-registry-{key}" for key in keys]
    for key, repository in zip(keys, repositories):
        assert repository.parent == component.urn
        assert repository.protect is protect
        # A fixed name: a replacement (a new KMS key) must delete first, or it collides; a
        # repository holding images then refuses the delete (forceDelete false) instead of losing them.
        assert repository.delete_before_replace is True
        assert repository.props == {
            "name": f"{environment}/{key}",
            "imageTagMutability": "IMMUTABLE",
            "imageScanningConfiguration": {"scanOnPush": scan_on_push},
            "encryptionConfigurations": [{"encryptionType": "KMS"}],
            "forceDelete": False,
            "tags": reference_config(environment).all_tags,
        }
    assert plan.outputs["names"] == {key: f"{environment}/{key}" for key in keys}
    account = reference_config(environment).aws.account_id
    assert plan.outputs["urls"] == {key: f"{account}.dkr.ecr.eu-west-1.amazonaws.com/{environment}/{key}" for key in keys}
    assert sorted(plan.outputs["arns"]) == keys


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_stateless_children_are_not_protected_and_all_are_parented(reference, environment):
    plan = reference[environment]
    component = plan.named(f"{environment}-registry")
    for resource in plan.resources:
        if resource is component:
            continue
        assert resource.parent == component.urn, resource.name
        if resource.type != REPOSITORY:
            assert resource.protect is False, resource.name


def test_reference_lifecycle_policies(reference):
    policies = {r.props["repository"]: json.loads(r.props["policy"]) for r in reference["prod"].of_type(LIFECYCLE)}
    assert policies == {
        "prod/api": {"rules": [untagged_rule(1, 14), keep_rule(2, 30, "v"), any_tag_rule(3, 100)]},
        "prod/reports": {"rules": [untagged_rule(1, 3), keep_rule(2, 10, "v"), any_tag_rule(3, 100)]},
        "prod/worker": {"rules": [untagged_rule(1, 7), keep_rule(2, 50, "release-"), keep_rule(3, 50, "v"), any_tag_rule(4, 100)]},
    }
    assert [r.name for r in reference["prod"].of_type(LIFECYCLE)] == [
        "prod-registry-api-lifecycle",
        "prod-registry-reports-lifecycle",
        "prod-registry-worker-lifecycle",
    ]


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_repository_policy_allows_pulls_to_this_account_only(reference, environment):
    account = reference_config(environment).aws.account_id
    policies = reference[environment].of_type(REPOSITORY_POLICY)
    assert len(policies) == len(reference[environment].of_type(REPOSITORY))
    for policy in policies:
        assert json.loads(policy.props["policy"]) == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountPull",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                }
            ],
        }
        assert '"*"' not in policy.props["policy"]


def test_enhanced_scanning_is_continuous_on_every_repository_of_the_environment(reference):
    assert [(r.name, r.props) for r in reference["prod"].of_type(SCANNING)] == [
        (
            "prod-registry-scanning",
            {
                "scanType": "ENHANCED",
                "rules": [{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "prod/*", "filterType": "WILDCARD"}]}],
            },
        )
    ]
    assert reference["dev"].of_type(SCANNING) == [] and reference["staging"].of_type(SCANNING) == []


def test_a_configured_customer_key_encrypts_the_repository():
    config = edited("staging", lambda data: data["registry"]["repositories"]["api"].update(kms_key_arn=CUSTOMER_KEY))
    plan = registry_plan(config)
    assert plan.named("staging-registry-api").props["encryptionConfigurations"] == [
        {"encryptionType": "KMS", "kmsKey": CUSTOMER_KEY}
    ]
    assert plan.named("staging-registry-worker").props["encryptionConfigurations"] == [{"encryptionType": "KMS"}]


def test_protect_follows_an_explicit_setting(reference):
    plan = registry_plan(edited("staging", lambda data: data.update(protect=True)))
    assert {r.name: r.protect for r in plan.of_type(REPOSITORY)} == {
        "staging-registry-api": True,
        "staging-registry-worker": True,
    }


def test_adding_a_repository_leaves_every_existing_resource_unchanged(reference):
    # `batch` sorts before `worker`: positions shift, names and inputs must not.
    config = edited("staging", lambda data: data["registry"]["repositories"].update(batch={}))
    after = registry_plan(config)
    assert changed_resources(reference["staging"], after) == {}
    assert added_names(reference["staging"], after) == [
        "staging-registry-batch",
        "staging-registry-batch-lifecycle",
        "staging-registry-batch-policy",
    ]
