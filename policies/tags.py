"""Tags: the required tags on every taggable resource."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from .framework import ResourceRule, Settings
from .helpers import Unknown, get, is_unknown

# Every pulumi-aws resource type that takes `tags`, generated from the provider SDK by
# `python -m policies.config_gen` (a test keeps it current).
TAGGABLE_TYPES_FILE = Path(__file__).with_name("taggable_types.txt")
TAGGABLE_TYPES = tuple(TAGGABLE_TYPES_FILE.read_text().split()) if TAGGABLE_TYPES_FILE.exists() else ()


def tag_keys(props: Mapping, settings: Settings) -> set[str]:
    """Keys the resource will carry: its own tags plus the provider's default tags. Only keys
    matter here, and keys are known at preview even when a value is computed."""
    tags = props.get("tags") or {}
    if is_unknown(tags):
        raise Unknown(["tags"])
    if isinstance(tags, list):  # Auto Scaling groups: [{key, value, propagateAtLaunch}]
        # The provider's defaultTags do not reach Auto Scaling groups: only their own list counts.
        return {str(get(t, "key")) for t in tags if isinstance(t, Mapping)}
    if not isinstance(tags, Mapping):
        return set(settings.default_tags)
    return set(tags) | set(settings.default_tags)


def required_tags(props: Mapping, settings: Settings) -> Iterable[str]:
    missing = [tag for tag in settings.option("requiredTags") if tag not in tag_keys(props, settings)]
    if missing:
        yield f"lacks the tags {', '.join(missing)}"


RULES = [
    ResourceRule(
        name="aws-tags-required",
        description="Every taggable resource carries the required tags (env, team, ...).",
        remediation="add the tags under `tags` in the environment file (components pass them to every resource)",
        category="hygiene",
        types=TAGGABLE_TYPES,
        check=required_tags,
        options={"requiredTags": ["env", "team"]},
        option_schema={"requiredTags": {"type": "array", "items": {"type": "string"}}},
    ),
]
