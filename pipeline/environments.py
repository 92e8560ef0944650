"""The environments the workflows run, derived from the repository instead of hard-coded.

An environment is a `configs/<name>.yaml` with a `Pulumi.<name>.yaml` beside the project (a file
without a stack, such as `base.yaml`, is only a layer). Its region comes from the file itself
(after `extends`), its tier from `policies/governance.yaml` (an environment not listed there,
or no governance file at all, is production: fail closed). Promotion runs the tiers in
`TIERS` order; environments within one tier run in parallel.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from configs.environments import environment_names
from configs.errors import ConfigError, ConfigIssue
from configs.governance import load_governance
from configs.loader import load_layered

ROOT = Path(__file__).resolve().parents[1]
# The promotion order: every environment of a tier must succeed before the next tier starts.
TIERS = ("development", "staging", "production")
DEFAULT_TIER = "production"
GOVERNANCE = Path("policies") / "governance.yaml"


@dataclass(frozen=True)
class Target:
    environment: str
    region: str
    tier: str


def stack_names(root: Path = ROOT) -> list[str]:
    """The environments (configs/environments.py is the one definition), sorted."""
    return list(environment_names(root))


def tiers(root: Path = ROOT) -> tuple[dict[str, str], str]:
    """(environment -> tier, the default tier) as configs/governance.py reads (and validates)
    policies/governance.yaml; without that file every environment is production (fail closed)."""
    path = root / GOVERNANCE
    if not path.exists():
        return {}, DEFAULT_TIER
    governance = load_governance(path)
    return {name: placement.tier for name, placement in governance.environments.items()}, governance.default_tier


def region_of(name: str, root: Path = ROOT) -> str:
    """aws.region of configs/<name>.yaml after `extends`, or ConfigError at the file."""
    source = load_layered(root / "configs" / f"{name}.yaml")
    aws = source.data.get("aws")
    region = aws.get("region") if isinstance(aws, dict) else None
    if not isinstance(region, str) or not region:
        file, line = source.location(("aws", "region"))
        raise ConfigError([ConfigIssue(file, line, "aws.region", "missing; name the environment's region, e.g. eu-west-1")])
    return region


def targets(root: Path = ROOT) -> list[Target]:
    listed, default = tiers(root)
    return [Target(name, region_of(name, root), listed.get(name, default)) for name in stack_names(root)]


def by_tier(found: list[Target]) -> dict[str, list[dict[str, str]]]:
    """Tier -> the matrix entries of that tier (possibly empty), in promotion order."""
    return {tier: [asdict(t) for t in found if t.tier == tier] for tier in TIERS}


def github_outputs(found: list[Target]) -> str:
    """`name=<json>` lines for $GITHUB_OUTPUT: `all` and one per tier (compact JSON: one line)."""
    lines = [f"all={json.dumps([asdict(t) for t in found], separators=(',', ':'))}"]
    lines += [f"{tier}={json.dumps(entries, separators=(',', ':'))}" for tier, entries in by_tier(found).items()]
    return "\n".join(lines)


def main(argv: list[str], root: Optional[Path] = None) -> int:
    found = targets(root or ROOT)
    if argv and argv[0] == "--github-output":
        print(github_outputs(found))
    else:
        print(json.dumps([asdict(t) for t in found], indent=2))
    return 0
