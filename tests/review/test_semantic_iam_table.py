"""review/semantic.py expands IAM action patterns and reads access levels from the pack's table
(policies/iam_actions.json) exactly as it did with policy_sentry's own database and queries
(which kept 45 MB and a quarter of a second in every `review diff`); where policy_sentry did not
follow IAM, the table does: `?` matches one character."""

from __future__ import annotations

import pytest
from policy_sentry.analysis.expand import expand
from policy_sentry.querying.actions import get_action_data

from policies import iam_meaning
from review.semantic import access_level, expand_action


def policy_sentry_expansion(pattern: str) -> tuple[str, ...]:
    """What review/semantic.py answered before the table, with policy_sentry's queries."""
    if pattern == "*" or ":" not in pattern:
        return (pattern,)
    if "*" in pattern or "?" in pattern:
        return tuple(sorted(set(expand(pattern)))) or (pattern,)
    service, name = pattern.split(":", 1)
    for entry in (get_action_data(service.lower(), name) or {}).get(service.lower(), []):
        if entry["action"].lower() == pattern.lower():
            return (entry["action"],)
    return (pattern,)


def policy_sentry_level(action: str) -> str:
    if action == "*":
        return "Permissions management"
    if ":" not in action:
        return "Unknown"
    service, name = action.split(":", 1)
    for entry in (get_action_data(service.lower(), name) or {}).get(service.lower(), []):
        if entry["action"].lower() == action.lower():
            return entry["access_level"]
    return "Unknown"


def patterns_of(service: str) -> list[str]:
    """The whole service, and for its first and last action: the name, another spelling, a
    prefix and a suffix wildcard."""
    actions = sorted(iam_meaning.service_actions(service).values(), key=lambda a: a.name)
    found = [f"{service}:*"]
    for action in actions[:1] + actions[-1:]:
        name = action.name.split(":", 1)[1]
        found += [action.name, action.name.upper(), f"{service}:{name[:3]}*", f"{service}:*{name[-4:]}"]
    return found


SERVICES = sorted(iam_meaning._table()["actions"])


@pytest.mark.parametrize("chunk", range(4))
def test_every_service_expands_as_policy_sentry_expanded_it(chunk):
    patterns = [p for service in SERVICES[chunk::4] for p in patterns_of(service)]
    assert [expand_action(p) for p in patterns] == [policy_sentry_expansion(p) for p in patterns]
    concrete = [p for p in patterns if not iam_meaning.has_wildcard(p)]
    assert [access_level(p) for p in concrete] == [policy_sentry_level(p) for p in concrete]


@pytest.mark.parametrize("pattern", ["*", "s3", "nosuchservice:GetThing", "s3:NoSuchAction", "sqs:Delete*", "ec2:describe*"])
def test_edge_patterns_expand_as_policy_sentry_expanded_them(pattern):
    assert expand_action(pattern) == policy_sentry_expansion(pattern)
    if not iam_meaning.has_wildcard(pattern):
        assert access_level(pattern) == policy_sentry_level(pattern)


def test_a_question_mark_matches_one_character_as_in_iam():
    assert policy_sentry_expansion("iam:Pass?ole") == ("iam:Pass?ole",)  # policy_sentry missed it
    assert expand_action("iam:Pass?ole") == ("iam:PassRole",)
    assert access_level("iam:PassRole") == "Permissions management"
