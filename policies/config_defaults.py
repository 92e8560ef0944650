"""The checked-in defaults table: how hard each kind of rule bites in each kind of environment.

`config_gen.py` combines it with the environment file into policies/config/<env>.json."""

from __future__ import annotations

from typing import Literal

EnvironmentKind = Literal["dev", "staging", "prod"]

# Security and governance block everywhere; cost and reliability rules advise where failure is
# cheap (dev, staging) and block in production; hygiene (tags, descriptions) blocks from staging.
LEVELS: dict[str, dict[EnvironmentKind, str]] = {
    "security": {"dev": "mandatory", "staging": "mandatory", "prod": "mandatory"},
    "governance": {"dev": "mandatory", "staging": "mandatory", "prod": "mandatory"},
    "reliability": {"dev": "advisory", "staging": "advisory", "prod": "mandatory"},
    "cost": {"dev": "advisory", "staging": "advisory", "prod": "mandatory"},
    "hygiene": {"dev": "advisory", "staging": "mandatory", "prod": "mandatory"},
}

# Per-policy exceptions to LEVELS, by environment kind. Empty on purpose: add one with a reason.
OVERRIDES: dict[str, dict[EnvironmentKind, str]] = {}

# The retention floor for production log groups (days); other environments only need one set.
PRODUCTION_MIN_RETENTION_DAYS = 90


def environment_kind(environment: str, production: bool) -> EnvironmentKind:
    if production:
        return "prod"
    return "dev" if environment.startswith("dev") else "staging"


def level_for(rule, kind: EnvironmentKind) -> str:
    return OVERRIDES.get(rule.name, {}).get(kind) or LEVELS[rule.category][kind]
