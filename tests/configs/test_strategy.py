"""configs/strategy.py called directly, as the components call it with unvalidated values:
every bound exactly, and each way a rule can be met (mutation testing found these open)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from configs.aws_limits import STRATEGY_MAX_BASE, STRATEGY_MAX_WEIGHT
from configs.strategy import capacity_problems, format_path, strategy_problems


@dataclass
class Entry:
    provider: str
    base: int = 0
    weight: int = 1


@dataclass
class Capacity:
    fargate: bool = False
    fargate_spot: bool = False
    ec2: dict[str, Any] = field(default_factory=dict)


def problems(*entries: Entry, ec2=None):
    return strategy_problems(list(entries), fargate=["fargate", "fargate_spot"], ec2=ec2 or {})


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (Entry("fargate", weight=0, base=1), [((), "every weight is 0; at least one entry needs a weight above 0")]),
        (Entry("fargate", weight=1, base=0), []),
        (Entry("fargate", weight=STRATEGY_MAX_WEIGHT), []),
        (Entry("fargate", base=STRATEGY_MAX_BASE), []),
        (Entry("fargate", weight=STRATEGY_MAX_WEIGHT + 1), [((0, "weight"), f"{STRATEGY_MAX_WEIGHT + 1} is outside 0-{STRATEGY_MAX_WEIGHT}")]),
        (Entry("fargate", weight=-1, base=1), [((0, "weight"), f"-1 is outside 0-{STRATEGY_MAX_WEIGHT}"),
                                               ((), "every weight is 0; at least one entry needs a weight above 0")]),
        (Entry("fargate", base=STRATEGY_MAX_BASE + 1), [((0, "base"), f"{STRATEGY_MAX_BASE + 1} is outside 0-{STRATEGY_MAX_BASE}")]),
        (Entry("fargate", base=-1), [((0, "base"), f"-1 is outside 0-{STRATEGY_MAX_BASE}")]),
    ],
)
def test_weight_and_base_bounds(entry, expected):
    assert problems(entry) == expected


def test_one_base_only_and_a_negative_base_is_not_a_base():
    assert problems(Entry("fargate", base=1), Entry("fargate_spot", base=2)) == [
        ((1, "base"), "only one entry of a strategy may have a base; remove the other bases")]
    # -1 is reported as out of range, not as a second base.
    assert problems(Entry("fargate", base=1), Entry("fargate_spot", base=-1)) == [((1, "base"), f"-1 is outside 0-{STRATEGY_MAX_BASE}")]


def test_a_negative_weight_is_not_a_weight_above_zero():
    assert ((), "every weight is 0; at least one entry needs a weight above 0") in problems(Entry("fargate", weight=-1))
    assert problems(Entry("fargate", weight=0), Entry("fargate_spot", weight=1)) == []


def test_an_undeclared_provider_is_not_counted_as_a_kind():
    # `general` is undeclared: reported once, and not as a mix of EC2 and Fargate.
    assert problems(Entry("fargate"), Entry("general")) == [
        ((1, "provider"), "'general' is not a declared capacity provider; declared: fargate, fargate_spot")]
    assert problems(Entry("fargate"), Entry("general"), ec2={"general": "x86_64"}) == [((), (
        "mixes EC2 and Fargate providers (fargate, general); AWS rejects a strategy that holds both, "
        "so split the service or pick one kind"))]


def test_ec2_architectures_mix_only_with_two():
    ec2 = {"a": "x86_64", "b": "arm64", "c": "x86_64"}
    assert problems(Entry("a"), Entry("c"), ec2=ec2) == []
    assert problems(Entry("a"), Entry("b"), ec2=ec2) == [
        ((), "mixes x86_64 and arm64 EC2 providers; one task definition has one architecture")]


@pytest.mark.parametrize(
    "capacity",
    [Capacity(fargate=True), Capacity(fargate_spot=True), Capacity(ec2={"general": object()})],
    ids=["fargate-alone", "fargate-spot-alone", "ec2-alone"],
)
def test_any_one_kind_of_capacity_is_enough(capacity):
    assert capacity_problems(capacity) == []


def test_no_capacity_at_all_is_refused():
    assert capacity_problems(Capacity()) == [
        (("cluster", "capacity"), "no capacity provider is enabled; enable fargate or declare an ec2 provider")]


def test_paths_read_as_yaml():
    assert format_path("cluster.default_strategy", (1, "provider")) == "cluster.default_strategy[1].provider"
    assert format_path("services.api.capacity", ()) == "services.api.capacity"


def test_a_mix_is_found_beside_an_undeclared_provider():
    # The undeclared entry is reported as such and does not hide the EC2/Fargate mix.
    found = problems(Entry("fargate"), Entry("general"), Entry("other"), ec2={"general": "x86_64"})
    assert found == [
        ((2, "provider"), "'other' is not a declared capacity provider; declared: fargate, fargate_spot, general"),
        ((), "mixes EC2 and Fargate providers (fargate, general, other); AWS rejects a strategy that holds both, "
             "so split the service or pick one kind"),
    ]
