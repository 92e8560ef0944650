"""The capacity-provider strategy rules as one pure function over plain values.

Config validation (configs/checks.py) and the components that build a strategy (the cluster's
default strategy, a service's strategy) judge a strategy by the same rules and the same
sentences, so a strategy the loader accepts is one the components accept, and a component
called directly (tests, other programs) still refuses what AWS would reject at apply time.

https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-capacity-providers.html
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Protocol, Sequence

from configs.aws_limits import FARGATE_PROVIDERS, STRATEGY_MAX_BASE, STRATEGY_MAX_WEIGHT

# (path relative to the strategy, message); the path holds list indices and field names.
StrategyProblem = tuple[tuple, str]

# AWS reserves these prefixes for capacity provider names (CreateCapacityProvider); an EC2
# provider's key becomes part of its name.
RESERVED_PROVIDER_PREFIXES = ("aws", "ecs", "fargate")


class Entry(Protocol):
    """What a strategy entry offers (configs.model.StrategyEntry)."""

    provider: str
    base: int
    weight: int


def strategy_problems(
    strategy: Sequence[Entry],
    *,
    fargate: Iterable[str],
    ec2: Mapping[str, str],
) -> list[StrategyProblem]:
    """Every rule a capacity-provider strategy breaks, in a stable order.

    fargate: the declared Fargate provider keys (fargate, fargate_spot); ec2: the declared EC2
    provider keys with their architecture. Fargate Spot runs x86_64 and arm64 alike (ARM64
    on platform version 1.4.0 or later, which LATEST is), so the task's architecture does not
    matter here.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html
    """
    fargate = [key for key in FARGATE_PROVIDERS if key in set(fargate)]
    declared = fargate + list(ec2)
    problems: list[StrategyProblem] = []
    if not strategy:
        return [((), "a strategy needs at least one entry; name a declared provider with a weight above 0")]
    seen: set[str] = set()
    for index, entry in enumerate(strategy):
        if entry.provider not in declared:
            problems.append(((index, "provider"), (
                f"{entry.provider!r} is not a declared capacity provider; declared: {', '.join(declared) or 'none'}"
            )))
        if entry.provider in seen:
            problems.append(((index, "provider"), f"{entry.provider!r} appears twice in one strategy; merge the entries"))
        seen.add(entry.provider)
        # The model enforces these ranges; a component called with unvalidated entries may not.
        if not 0 <= entry.weight <= STRATEGY_MAX_WEIGHT:
            problems.append(((index, "weight"), f"{entry.weight} is outside 0-{STRATEGY_MAX_WEIGHT}"))
        if not 0 <= entry.base <= STRATEGY_MAX_BASE:
            problems.append(((index, "base"), f"{entry.base} is outside 0-{STRATEGY_MAX_BASE}"))
    # AWS rejects a strategy that holds both kinds (CreateService / PutClusterCapacityProviders).
    kinds = {"ec2" if entry.provider in ec2 else "fargate" for entry in strategy if entry.provider in declared}
    if len(kinds) > 1:
        names = ", ".join(entry.provider for entry in strategy)
        problems.append(((), (
            f"mixes EC2 and Fargate providers ({names}); AWS rejects a strategy that holds both, "
            "so split the service or pick one kind"
        )))
    with_base = [index for index, entry in enumerate(strategy) if entry.base > 0]
    if len(with_base) > 1:
        problems.append(((with_base[1], "base"), "only one entry of a strategy may have a base; remove the other bases"))
    if not any(entry.weight > 0 for entry in strategy):
        problems.append(((), "every weight is 0; at least one entry needs a weight above 0"))
    architectures = {ec2[entry.provider] for entry in strategy if entry.provider in ec2}
    if len(architectures) > 1:
        problems.append(((), "mixes x86_64 and arm64 EC2 providers; one task definition has one architecture"))
    return problems


def capacity_strategy_problems(strategy: Sequence[Entry], capacity: Any) -> list[StrategyProblem]:
    """strategy_problems with the declared providers read from a configs.model.Capacity."""
    return strategy_problems(
        strategy,
        fargate=[key for key in FARGATE_PROVIDERS if getattr(capacity, key)],
        ec2={key: provider.architecture for key, provider in capacity.ec2.items()},
    )


def capacity_problems(capacity: Any) -> list[tuple[tuple, str]]:
    """(YAML path, message) for every rule a configs.model.Capacity breaks: an EC2 provider key
    becomes an AWS capacity provider name, which must not start with a reserved prefix; and a
    cluster needs at least one provider."""
    problems: list[tuple[tuple, str]] = [
        (
            ("cluster", "capacity", "ec2", key),
            f"{key!r} is reserved (fargate, fargate_spot and names starting aws/ecs); rename the provider",
        )
        for key in capacity.ec2
        if key.lower().startswith(RESERVED_PROVIDER_PREFIXES)
    ]
    if not (capacity.fargate or capacity.fargate_spot or capacity.ec2):
        problems.append(
            (("cluster", "capacity"), "no capacity provider is enabled; enable fargate or declare an ec2 provider")
        )
    return problems


def format_path(prefix: str, path: tuple) -> str:
    """`cluster.default_strategy` + (1, "provider") -> `cluster.default_strategy[1].provider`."""
    text = prefix
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
