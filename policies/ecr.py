"""ECR: scanning, immutable tags, lifecycle, encryption, repository policies."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping

from .framework import ResourceRule, Settings, Stack, StackRule
from .helpers import as_list, get, items, json_value, truthy
from .iam_meaning import resource_policy_problems

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"


def scan_on_push(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    props = stack.props(subject)
    if truthy(get(props, "imageScanningConfiguration", "scanOnPush", default=False)):
        return
    name = get(props, "name", default=subject.name)
    if any(_enhanced_covers(stack.props(config), name) for config in stack.of(REGISTRY_SCANNING)):
        return
    yield "images are not scanned on push and no ENHANCED registry scanning rule covers the repository"


def _enhanced_covers(config: Mapping, repository: str) -> bool:
    # Registry-level ENHANCED scanning (Amazon Inspector) replaces per-repository scan on push;
    # a rule covers the repositories its WILDCARD filters match.
    if get(config, "scanType") != "ENHANCED":
        return False
    return any(
        fnmatch.fnmatchcase(repository, get(f, "filter", default=""))
        for rule in items(config, "rules")
        for f in items(rule, "repositoryFilters")
    )


def immutable_tags(props: Mapping, _settings: Settings) -> Iterable[str]:
    # AWS's default is MUTABLE: a pushed tag can later point at another image.
    mutability = get(props, "imageTagMutability", default="MUTABLE")
    if not str(mutability).startswith("IMMUTABLE"):
        yield f"imageTagMutability is {mutability}"
    elif mutability == "IMMUTABLE_WITH_EXCLUSION":
        # Excluded tags stay mutable; a filter of only wildcards excludes every tag.
        for item in items(props, "imageTagMutabilityExclusionFilters"):
            pattern = str(get(item, "filter", default=""))
            if pattern and set(pattern) <= {"*"}:
                yield f"IMMUTABLE_WITH_EXCLUSION excludes every tag (filter {pattern!r}), so all tags are mutable"


def kms_encryption(props: Mapping, _settings: Settings) -> Iterable[str]:
    # Without encryptionConfigurations ECR uses AES256 with an AWS-owned key.
    types = [get(c, "encryptionType", default="AES256") for c in items(props, "encryptionConfigurations")]
    if not any(str(t).startswith("KMS") for t in types):
        yield f"encryption is {types[0] if types else 'AES256 (the default)'}, not KMS"


def lifecycle_policy(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    policies = stack.referrers(subject, "repository", (LIFECYCLE_POLICY,))
    if not policies:
        yield "has no lifecycle policy, so images accumulate without bound"
        return
    for policy in policies:
        yield from lifecycle_problems(get(stack.props(policy), "policy"))


LIFECYCLE_COUNT_TYPES = ("imageCountMoreThan", "sinceImagePushed")


def lifecycle_problems(document) -> Iterable[str]:
    """What ECR would reject in a lifecycle policy, plus a policy that never expires untagged images."""
    try:
        rules = as_list((json_value(document) or {}).get("rules"))
    except (ValueError, AttributeError):
        yield "the lifecycle policy is not a JSON object"
        return
    if not rules:
        yield "the lifecycle policy has no rules"
        return
    priorities = [rule.get("rulePriority") for rule in rules]
    if len(set(priorities)) != len(priorities) or not all(isinstance(p, (int, float)) and p >= 1 for p in priorities):
        yield f"rulePriority values {priorities} must be unique positive integers"
    for rule in rules:
        yield from _lifecycle_rule_problems(rule)
    if not any(rule.get("selection", {}).get("tagStatus") in ("untagged", "any") for rule in rules):
        yield "no rule expires untagged images"


def _lifecycle_rule_problems(rule: Mapping) -> Iterable[str]:
    selection = rule.get("selection") or {}
    label = f"rule {rule.get('rulePriority')}"
    if selection.get("tagStatus") not in ("tagged", "untagged", "any"):
        yield f"{label}: tagStatus must be tagged, untagged or any"
    if selection.get("tagStatus") == "tagged" and not (selection.get("tagPrefixList") or selection.get("tagPatternList")):
        yield f"{label}: a tagged selection needs tagPrefixList or tagPatternList"
    if selection.get("countType") not in LIFECYCLE_COUNT_TYPES:
        yield f"{label}: countType must be one of {', '.join(LIFECYCLE_COUNT_TYPES)}"
    if selection.get("countType") == "sinceImagePushed" and selection.get("countUnit") != "days":
        yield f"{label}: sinceImagePushed needs countUnit days"
    if not (isinstance(selection.get("countNumber"), (int, float)) and selection["countNumber"] >= 1):
        yield f"{label}: countNumber must be a positive integer"
    if (rule.get("action") or {}).get("type") != "expire":
        yield f"{label}: action.type must be expire"


def no_public_policy(props: Mapping, _settings: Settings) -> Iterable[str]:
    # Repository and registry policies: Resource is the repository or registry itself.
    yield from resource_policy_problems(get(props, "policy"))


RULES = [
    StackRule(
        name="aws-ecr-repository-scan-on-push",
        description="ECR repositories scan images on push, or registry ENHANCED scanning covers them.",
        remediation="set imageScanningConfiguration.scanOnPush: true, or registry.scanning: enhanced",
        category="security",
        types=(REPOSITORY,),
        check=scan_on_push,
    ),
    ResourceRule(
        name="aws-ecr-repository-immutable-tags",
        description="ECR repositories use IMMUTABLE tags (an exclusion may not cover every tag), so a deployed tag always means the same image.",
        remediation="set imageTagMutability: IMMUTABLE and release new versions under new tags",
        category="security",
        types=(REPOSITORY,),
        check=immutable_tags,
    ),
    StackRule(
        name="aws-ecr-repository-lifecycle-policy",
        description="Every ECR repository has a valid lifecycle policy that expires untagged images.",
        remediation="attach an aws.ecr.LifecyclePolicy (registry.repositories.<key>.lifecycle) with valid rules",
        category="cost",
        types=(REPOSITORY,),
        check=lifecycle_policy,
    ),
    ResourceRule(
        name="aws-ecr-repository-kms-encryption",
        description="ECR repositories are encrypted with KMS.",
        remediation="set encryptionConfigurations: [{encryptionType: KMS}] (optionally with a customer kmsKey)",
        category="security",
        types=(REPOSITORY,),
        check=kms_encryption,
    ),
    ResourceRule(
        name="aws-ecr-repository-policy-no-public-principal",
        description="ECR repository and registry policies admit no wildcard principal without a condition on the caller's account or organization, and no Not* elements.",
        remediation="name the account or role ARNs that may pull in Principal.AWS",
        category="security",
        types=(REPOSITORY_POLICY, REGISTRY_POLICY),
        check=no_public_policy,
    ),
]
