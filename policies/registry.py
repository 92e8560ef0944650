"""The explicit list of every rule in the pack, and its CrossGuard policies.

Names are unique kebab-case `aws-<service>-<rule>`; tests/policies/test_config.py checks
that, and that every rule has a description, a remediation and a category."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from . import delivery, ec2, ecr, ecs_cluster, ecs_service, ecs_task_definition, iam, kms, load_balancer, logs, plaintext, s3, secretsmanager, service_connect, tags, vpc, waivers, workloads
from .config_defaults import UNCONFIGURED_LEVEL
from .framework import TYPE_ALIASES, ResourceRule, Rule

RULES: list[Rule] = [
    *ecr.RULES,
    *ecs_task_definition.RULES,
    *ecs_service.RULES,
    *ecs_cluster.RULES,
    *ec2.RULES,
    *vpc.RULES,
    *iam.RULES,
    *plaintext.RULES,
    *kms.RULES,
    *s3.RULES,
    *secretsmanager.RULES,
    *load_balancer.RULES,
    *logs.RULES,
    *tags.RULES,
    *waivers.RULES,
    *delivery.RULES,
    *workloads.RULES,
    *service_connect.RULES,
]
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
assert len(RULES_BY_NAME) == len(RULES), "policy names must be unique"


def build_policies() -> list[Policy]:
    """CrossGuard policies at their production level: an unconfigured run is the strict one."""
    return [rule.policy(EnforcementLevel(UNCONFIGURED_LEVEL)) for rule in RULES]


def resource_types() -> dict[str, tuple[str, ...]]:
    """Resource policy name -> the resource types its rule checks (none other can fail it),
    with the aliases of those types (framework.TYPE_ALIASES), which the rule judges too."""
    return {rule.name: tuple(rule.types) + tuple(aliases_of(rule.types)) for rule in RULES if isinstance(rule, ResourceRule)}


def aliases_of(types) -> list[str]:
    return [alias + t[len(canonical):] for t in types for alias, canonical in TYPE_ALIASES.items() if t.startswith(canonical)]
