"""What the pack config adds to the tiers of policies/governance.yaml (which hold the
enforcement level of each rule category per tier): per-policy exceptions and fixed options.

`config_gen.py` combines them with governance.yaml and the environment file into the file
`pulumi preview --policy-pack-config` reads."""

from __future__ import annotations

# Per-policy exceptions to a tier's category level, by tier. Empty on purpose: add one with a
# reason (and it needs the security team's review, as everything under policies/ does).
OVERRIDES: dict[str, dict[str, str]] = {}

# The level of every policy when the pack runs without a config: the production tier's, which
# is mandatory for every category (the pack cannot read governance.yaml; a test keeps the two
# equal), so an unconfigured run is the strict one.
UNCONFIGURED_LEVEL = "mandatory"

# The retention floor for production log groups (days); other environments only need one set.
PRODUCTION_MIN_RETENTION_DAYS = 90


def level_for(rule, tier_name: str, levels) -> str:
    """The rule's level in a tier: an override, else its category's level in the tier."""
    return OVERRIDES.get(rule.name, {}).get(tier_name) or getattr(levels, rule.category)
