"""What the pack's mandatory rules of the environment's tier would refuse, refused at load.

A file that loads and then fails the pack wastes a review: the settings below are plain values
in the environment file, so the loader judges them itself, with the pack's own rule objects
(their levels in the tier of policies/governance.yaml, their options, whether they are
production-only) as the one source. A waiver in governance.yaml for the service (`service/<key>`)
lets the setting through, as it does in the pack.
"""

from __future__ import annotations

import datetime
from typing import Iterator

from configs.model import EnvironmentConfig, StrategyEntry

Problem = tuple[tuple, str]

CIRCUIT_BREAKER = "aws-ecs-service-circuit-breaker"
MIN_HEALTHY = "aws-ecs-service-min-healthy-percent"
ON_DEMAND_SHARE = "aws-ecs-service-on-demand-share"
HTTPS_ONLY = "aws-lb-https-only"


def _mandatory(config: EnvironmentConfig, rule_name: str):
    """The pack's rule when it is mandatory for this environment's tier, else None."""
    from configs.errors import ConfigError
    from configs.governance import load_governance
    from policies.config_defaults import level_for
    from policies.registry import RULES_BY_NAME

    rule = RULES_BY_NAME[rule_name]
    try:
        governance = load_governance()
    except ConfigError:
        return None  # the loader reports what is wrong with governance.yaml
    tier = governance.tier_name(config.environment)
    if getattr(rule, "production_only", False) and tier != "production":
        return None
    return rule if level_for(rule, tier, governance.tier(config.environment).levels) == "mandatory" else None


def _waived(config: EnvironmentConfig, rule_name: str, scope: str) -> bool:
    from configs.governance import load_governance

    return any(
        waiver.policy == rule_name and waiver.resource == scope
        for _, waiver in load_governance().waivers_of(config.environment)
    )


def _tier(config: EnvironmentConfig) -> str:
    from configs.governance import GOVERNANCE_NAME, tier_name

    return f"the {tier_name(config.environment)} tier ({GOVERNANCE_NAME})"


def on_demand_entry(config: EnvironmentConfig, entry: StrategyEntry, strategy: list[StrategyEntry]) -> bool:
    """As the pack's aws-ecs-service-on-demand-share judges it: FARGATE_SPOT never falls back to
    FARGATE, so FARGATE counts with a base (or without Spot beside it), and an EC2 provider
    counts with on-demand instances (a base, or a share above it)."""
    if entry.provider == "fargate_spot":
        return False
    if entry.provider == "fargate":
        return entry.base >= 1 or (all(e.provider != "fargate_spot" for e in strategy) and entry.weight > 0)
    provider = config.cluster.capacity.ec2.get(entry.provider)
    return provider is not None and (provider.on_demand_base >= 1 or provider.on_demand_percent_above_base > 0)


def check_rollouts(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """Circuit breaker off on a rolling service, and a minimum healthy percent below the rule's."""
    breaker, healthy = _mandatory(config, CIRCUIT_BREAKER), _mandatory(config, MIN_HEALTHY)
    for key, service in config.services.items():
        deployment, scope = service.deployment, f"service/{key}"
        if breaker and not deployment.native and not deployment.circuit_breaker and not _waived(config, CIRCUIT_BREAKER, scope):
            yield ("services", key, "deployment", "circuit_breaker"), (
                f"false is not allowed in {_tier(config)}: {CIRCUIT_BREAKER} is mandatory there, since a failing "
                "rollout would retry forever; remove the setting (default true)"
            )
        minimum = _min_healthy_for(healthy, service) if healthy else None
        if minimum is not None and deployment.min_healthy_percent < minimum and not _waived(config, MIN_HEALTHY, scope):
            behind = "behind the load balancer" if service.expose else "without a load balancer"
            yield ("services", key, "deployment", "min_healthy_percent"), (
                f"{deployment.min_healthy_percent} is below the {minimum} that {MIN_HEALTHY} requires for a service "
                f"{behind} in {_tier(config)}, since a rollout would drop serving tasks; use {minimum} (and max_percent: 200)"
            )


def _min_healthy_for(rule, service) -> int:
    """The pack's option for this service: ECS registers a load balancer exactly for `expose`."""
    return rule.options["minHealthyPercent" if service.expose else "unexposedMinHealthyPercent"]


def check_on_demand_share(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """A strategy with no on-demand share can run no task at all when Spot capacity is short."""
    if not _mandatory(config, ON_DEMAND_SHARE):
        return
    spot_only: dict[tuple, list[str]] = {}
    for key, service in config.services.items():
        strategy = config.strategy_for(key)
        if any(on_demand_entry(config, entry, strategy) for entry in strategy) or _waived(config, ON_DEMAND_SHARE, f"service/{key}"):
            continue
        where = ("services", key, "capacity") if service.capacity else ("cluster", "default_strategy")
        spot_only.setdefault(where, []).append(key)
    for where, keys in spot_only.items():
        providers = ", ".join(entry.provider for entry in config.strategy_for(keys[0]))
        yield where, (
            f"the capacity strategy of {', '.join(keys)} ({providers}) has no on-demand share, which {ON_DEMAND_SHARE} "
            f"requires in {_tier(config)}: Spot capacity has no fallback; add {{provider: fargate, base: 1}} or an EC2 "
            "provider with on_demand_base >= 1"
        )


def check_https(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """Exposed services without a certificate would be served over plain HTTP."""
    exposed = sorted(config.exposed_services)
    if not exposed or config.load_balancer.certificate_arn or not _mandatory(config, HTTPS_ONLY) or _waived(config, HTTPS_ONLY, "alb"):
        return
    yield ("load_balancer",), (
        f"the load balancer of {', '.join(exposed)} has no certificate_arn, so it would serve plain HTTP, which "
        f"{HTTPS_ONLY} forbids in {_tier(config)}; set load_balancer.certificate_arn (an ACM certificate in "
        f"{config.aws.region}): HTTP then redirects to HTTPS"
    )


TIER_CHECKS = (check_rollouts, check_on_demand_share, check_https)
