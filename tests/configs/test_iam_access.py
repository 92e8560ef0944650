"""configs/iam_access.json answers the access-level expansion exactly as policy_sentry's own
database and queries do (configs/arns.py uses the compact table to keep 45 MB and a quarter of
a second out of every plan)."""

from __future__ import annotations

import re

import pytest
from policy_sentry.querying.actions import get_actions_with_arn_type_and_access_level
from policy_sentry.querying.all import get_all_service_prefixes
from policy_sentry.querying.arns import get_matching_raw_arns, get_resource_type_name_with_raw_arn
from policy_sentry.shared.iam_data import iam_definition

from configs import iam_access_gen
from configs.arns import access_actions, parse_arn, service_prefixes

LEVELS = ("Read", "Write", "List", "Tagging")
_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
_VALUES = {"Partition": "aws", "Region": "eu-west-1", "Account": "123456789012"}


def concrete(template: str) -> str:
    """An ARN of the template's shape: its ${Placeholders} filled in."""
    return _PLACEHOLDER.sub(lambda m: _VALUES.get(m.group(1), f"example-{m.group(1).lower()}"), template)


def every_resource_arn() -> list[str]:
    return sorted(
        {
            concrete(resource["arn"])
            for data in iam_definition.values()
            if isinstance(data, dict)
            for resource in data.get("resources", {}).values()
        }
    )


def policy_sentry_access_actions(arn: str, level: str):
    """What configs/arns.py computed before the table, with policy_sentry's own queries:
    (actions, resource types), or None where access_actions refuses the ARN or the level."""
    service = arn.split(":", 5)[2]
    resource_types = list(dict.fromkeys(n for raw in get_matching_raw_arns(arn) if (n := get_resource_type_name_with_raw_arn(raw)) is not None))
    actions = sorted({a for t in resource_types for a in get_actions_with_arn_type_and_access_level(service, t, level)})
    return (actions, resource_types) if actions else None


def table_access_actions(arn: str, level: str):
    try:
        return access_actions(arn, [level])
    except ValueError:
        return None


def outcome(function, *args):
    """The result, or the type of what it raised (policy_sentry's ARN matching raises
    IndexError for a few templates; the table uses the same matching, so it must too)."""
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001 - compared, not hidden
        return type(error)


def test_the_access_table_is_current():
    assert iam_access_gen.main(["--check"]) == 0, "run: python -m configs.iam_access_gen"


def test_the_service_prefixes_are_policy_sentrys():
    assert service_prefixes() == frozenset(get_all_service_prefixes())


def test_every_resource_type_of_every_service_expands_as_policy_sentry_does():
    checked = granted = 0
    for arn in every_resource_arn():
        try:
            parse_arn(arn)
        except ValueError:
            continue  # refused before any expansion (e.g. Service Catalog's "catalog", an account id not of 12 digits)
        for level in LEVELS:
            expected = outcome(policy_sentry_access_actions, arn, level)
            assert outcome(table_access_actions, arn, level) == expected, (arn, level)
            checked += 1
            granted += isinstance(expected, tuple)
    assert checked > 4 * 1500 and granted > 3000


@pytest.mark.parametrize(
    "arn, levels, expected",
    [
        ("arn:aws:sqs:eu-west-1:123456789012:jobs", ["Write"], (["sqs:CancelMessageMoveTask", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:DeleteQueue", "sqs:PurgeQueue", "sqs:SendMessage", "sqs:StartMessageMoveTask"], ["queue"])),
        ("arn:aws:s3:::bucket/reports/*", ["Tagging"], (None, ["object"])),
    ],
)
def test_access_actions_reads_the_table(arn, levels, expected):
    actions, types = access_actions(arn, levels)
    assert types == expected[1]
    if expected[0] is not None:
        assert actions == expected[0]
    assert (actions, types) == policy_sentry_access_actions(arn, levels[0])
