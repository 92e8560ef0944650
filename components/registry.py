"""ECR repositories: scanning, IMMUTABLE tags, KMS, lifecycle rules, an account-only policy."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, Optional

import pulumi
import pulumi_aws as aws

from configs.model import Lifecycle
from configs.model import Registry as RegistryConfig
from configs.model import Repository as RepositoryConfig
from components.arns import POLICY_VERSION, account_root_arn
from components.iam import ECR_PULL_ACTIONS
from components.naming import child, type_token

TagStatus = Literal["tagged", "untagged", "any"]
CountType = Literal["imageCountMoreThan", "sinceImagePushed"]


@dataclass(frozen=True)
class RegistryArgs:
    registry: RegistryConfig
    environment: str
    account_id: str
    partition: str
    tags: dict[str, str]
    protect: bool


# --------------------------------------------------------------------------------------------
# lifecycle policy: typed rules -> validated JSON (pure)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifecycleRule:
    """One ECR lifecycle rule; every rule expires the images it selects beyond its count."""

    priority: int
    description: str
    tag_status: TagStatus
    count_type: CountType
    count_number: int
    tag_prefixes: tuple[str, ...] = ()


def expire_untagged(days: int, *, priority: int) -> LifecycleRule:
    return LifecycleRule(
        priority=priority,
        description=f"Expire untagged images {days} days after push",
        tag_status="untagged",
        count_type="sinceImagePushed",
        count_number=days,
    )


def keep_tagged(count: int, prefix: str, *, priority: int) -> LifecycleRule:
    return LifecycleRule(
        priority=priority,
        description=f"Keep the {count} most recent images tagged {prefix}*",
        tag_status="tagged",
        count_type="imageCountMoreThan",
        count_number=count,
        tag_prefixes=(prefix,),
    )


def keep_any(count: int, *, priority: int) -> LifecycleRule:
    return LifecycleRule(
        priority=priority,
        description=f"Keep the {count} most recent of all other images, whatever their tag",
        tag_status="any",
        count_type="imageCountMoreThan",
        count_number=count,
    )


def lifecycle_rules(lifecycle: Lifecycle) -> tuple[LifecycleRule, ...]:
    """The rules of a repository's `lifecycle` block: untagged images first, then one keep rule
    per tag prefix, then a last rule bounding every other image (tags that match no prefix,
    such as CI's git SHAs, would otherwise never expire). One rule per prefix, because a
    tagPrefixList with several prefixes selects only images that carry a tag of *every* prefix
    (https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html),
    which would keep `v1.2` and `release-7` forever. An image selected by an earlier rule is
    never expired by a later one, so the last rule does not shorten the prefix rules' counts."""
    prefixes = sorted(set(lifecycle.tag_prefixes))
    return (
        expire_untagged(lifecycle.expire_untagged_days, priority=1),
        *(keep_tagged(lifecycle.keep_tagged, prefix, priority=2 + i) for i, prefix in enumerate(prefixes)),
        keep_any(lifecycle.keep_any, priority=2 + len(prefixes)),
    )


def validate_lifecycle_rules(rules: tuple[LifecycleRule, ...] | list[LifecycleRule]) -> None:
    """Raises ValueError for what ECR rejects (PutLifecyclePolicy fails at `pulumi up`, after
    the repository exists): catch it while planning instead."""
    if not rules:
        raise ValueError("a lifecycle policy needs at least one rule")
    priorities = [rule.priority for rule in rules]
    for rule in rules:
        if isinstance(rule.priority, bool) or not isinstance(rule.priority, int) or rule.priority < 1:
            raise ValueError(f"rule priority {rule.priority!r} must be a positive integer")
        if rule.count_number < 1:
            raise ValueError(f"rule {rule.priority}: count {rule.count_number} must be at least 1")
        if rule.tag_status == "tagged" and not rule.tag_prefixes:
            raise ValueError(f"rule {rule.priority}: a tagged rule needs at least one tag prefix")
        if rule.tag_status != "tagged" and rule.tag_prefixes:
            raise ValueError(f"rule {rule.priority}: tag prefixes only apply to tagged rules, not {rule.tag_status}")
    duplicates = sorted({p for p in priorities if priorities.count(p) > 1})
    if duplicates:
        raise ValueError(
            f"rule priorities {duplicates} are used more than once; ECR needs a unique priority per rule"
        )
    for rule in rules:
        if rule.tag_status == "any" and rule.priority != max(priorities):
            raise ValueError(
                f"rule {rule.priority} selects tagStatus any, so it must have the highest priority "
                f"(ECR evaluates it last), but {max(priorities)} is higher"
            )


def lifecycle_policy(rules: tuple[LifecycleRule, ...] | list[LifecycleRule]) -> str:
    """The lifecycle policy document for validated rules, ordered by priority."""
    validate_lifecycle_rules(rules)
    return json.dumps({"rules": [_rule_json(rule) for rule in sorted(rules, key=lambda r: r.priority)]}, sort_keys=True)


def _rule_json(rule: LifecycleRule) -> dict:
    selection: dict = {"tagStatus": rule.tag_status, "countType": rule.count_type, "countNumber": rule.count_number}
    if rule.count_type == "sinceImagePushed":
        selection["countUnit"] = "days"
    if rule.tag_prefixes:
        selection["tagPrefixList"] = list(rule.tag_prefixes)
    return {
        "rulePriority": rule.priority,
        "description": rule.description,
        "selection": selection,
        "action": {"type": "expire"},
    }


# --------------------------------------------------------------------------------------------
# repository policy and scanning (pure)
# --------------------------------------------------------------------------------------------


def pull_policy(account_id: str, partition: str) -> str:
    """Pulls for principals of this account only. Same-account principals still need the
    actions in their own IAM policy (the task execution role has them); no other account and
    no anonymous principal is ever named."""
    return json.dumps(
        {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "AccountPull",
                    "Effect": "Allow",
                    "Principal": {"AWS": account_root_arn(partition, account_id)},
                    # What pulling an image takes; ecr:GetAuthorizationToken is account-level and
                    # cannot be granted by a repository policy.
                    "Action": list(ECR_PULL_ACTIONS),
                }
            ],
        },
        sort_keys=True,
    )


def repository_name(environment: str, key: str) -> str:
    return f"{environment}/{key}"


def scanning_filter(environment: str) -> str:
    """The WILDCARD filter that covers every repository of the environment."""
    return f"{environment}/*"


class Registry(pulumi.ComponentResource):
    """Outputs: repository_urls and repository_arns (key -> value), repository_names
    (key -> `<env>/<key>`)."""

    def __init__(self, name: str, args: RegistryArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(type_token("registry", "Registry"), name, None, opts)
        self._name, self._args = name, args
        # Validate every repository's rules before registering anything.
        policies = {key: lifecycle_policy(lifecycle_rules(repo.lifecycle)) for key, repo in args.registry.repositories.items()}

        self.scanning = self._enhanced_scanning() if args.registry.scanning == "enhanced" else None
        self.repository_urls: dict[str, pulumi.Output[str]] = {}
        self.repository_arns: dict[str, pulumi.Output[str]] = {}
        self.repository_names: dict[str, str] = {}
        for key in sorted(args.registry.repositories):
            repository = self._repository(key, args.registry.repositories[key], policies[key])
            self.repository_urls[key] = repository.repository_url
            self.repository_arns[key] = repository.arn
            self.repository_names[key] = repository_name(args.environment, key)

        self.register_outputs(
            {
                "repository_urls": self.repository_urls,
                "repository_arns": self.repository_arns,
                "repository_names": self.repository_names,
            }
        )

    def _enhanced_scanning(self) -> aws.ecr.RegistryScanningConfiguration:
        """Amazon Inspector scans on push and again whenever a new CVE affects an image.
        The scanning configuration is one per account and region: two environments sharing
        an account and region would overwrite each other's rules."""
        environment = self._args.environment
        return aws.ecr.RegistryScanningConfiguration(
            child(self._name, "scanning"),
            scan_type="ENHANCED",
            rules=[
                aws.ecr.RegistryScanningConfigurationRuleArgs(
                    scan_frequency="CONTINUOUS_SCAN",
                    repository_filters=[
                        aws.ecr.RegistryScanningConfigurationRuleRepositoryFilterArgs(
                            filter=scanning_filter(environment), filter_type="WILDCARD"
                        )
                    ],
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _repository(self, key: str, config: RepositoryConfig, policy: str) -> aws.ecr.Repository:
        args = self._args
        resource_name = child(self._name, key)
        encryption = {"encryption_type": "KMS"}
        if config.kms_key_arn:
            encryption["kms_key"] = config.kms_key_arn  # else the AWS-managed aws/ecr key
        repository = aws.ecr.Repository(
            resource_name,
            name=repository_name(args.environment, key),
            # A pushed tag can never be moved to another image: what was deployed as v1.4.2
            # stays v1.4.2, and a rollback redeploys exactly the old image.
            image_tag_mutability="IMMUTABLE",
            # Under enhanced scanning the registry rule scans instead (the repository setting
            # is ignored by ECR then).
            image_scanning_configuration={"scan_on_push": args.registry.scanning == "basic"},
            # Encryption is fixed at creation: changing it replaces the repository (and loses
            # its images), which `protect` guards against in production.
            encryption_configurations=[encryption],
            # Deleting a repository that still holds images fails instead of silently
            # deleting every image.
            force_delete=False,
            tags=args.tags,
            # The name is fixed, so a replacement (a new KMS key) created first would collide
            # ("RepositoryAlreadyExistsException"): delete first. With force_delete off, ECR then
            # refuses to delete a repository that holds images, so no image is lost silently:
            # the replacement stops until the images are copied out (README), and `protect`
            # refuses it outright; the review diff flags the replacement of this stateful
            # resource.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, delete_before_replace=True),
        )
        aws.ecr.LifecyclePolicy(
            child(resource_name, "lifecycle"),
            repository=repository.name,
            policy=policy,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.ecr.RepositoryPolicy(
            child(resource_name, "policy"),
            repository=repository.name,
            policy=pull_policy(args.account_id, args.partition),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return repository
