"""Edges of the log-group rules: the whole messages, retention outside production (any
retention, even 1 day), and the KMS requirement."""

from __future__ import annotations

import pytest

from .verdicts import problems
from .stack import all_mandatory, drop, edited, set_

RETENTION, KMS, GROUP = "aws-cloudwatch-log-group-retention", "aws-cloudwatch-log-group-kms", "prod-exec-logs"


@pytest.mark.parametrize("edit, problem", [
    pytest.param(drop(GROUP, "retentionInDays"), "retentionInDays is unset, so logs never expire", id="unset"),
    pytest.param(set_(GROUP, "retentionInDays", 0), "retentionInDays is unset, so logs never expire", id="zero"),
    pytest.param(set_(GROUP, "retentionInDays", 60), "retentionInDays is 60, below the production minimum of 90", id="below"),
])
def test_retention_messages(pack, edit, problem):
    assert problems(pack.verdict(edited(edit))) == [(RETENTION, GROUP, problem)]


@pytest.mark.parametrize("days", [1, 7])
def test_outside_production_any_retention_will_do(pack, days):
    assert problems(pack.verdict(edited(set_(GROUP, "retentionInDays", days)), all_mandatory(production=False))) == []


def test_outside_production_an_unset_retention_still_fails(pack):
    verdict = pack.verdict(edited(drop(GROUP, "retentionInDays")), all_mandatory(production=False))
    assert problems(verdict) == [(RETENTION, GROUP, "retentionInDays is unset, so logs never expire")]


def test_a_configured_floor_replaces_the_default(pack):
    config = all_mandatory(**{RETENTION: {"minRetentionDays": 365}})
    assert problems(pack.verdict(edited(), config)) == [
        (RETENTION, name, "retentionInDays is 90, below the production minimum of 365") for name in ("prod-api-logs", GROUP)]


def test_kms_message(pack):
    config = all_mandatory(**{KMS: {"requireKms": True}})
    assert problems(pack.verdict(edited(drop(GROUP, "kmsKeyId")), config)) == [(KMS, GROUP, "kmsKeyId is unset although logs.kms is on")]
