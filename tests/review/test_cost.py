"""Cost figures against hand-computed numbers (USD, list prices of the named table)."""

from __future__ import annotations

import pytest

from configs.model import StrategyEntry
from review.cost import (
    fargate_monthly,
    fargate_task_hour,
    instances_needed,
    on_demand_spot_split,
    task_shares,
)
from review.prices import UnknownRegion, load_prices


def entry(provider: str, base: int = 0, weight: int = 1) -> StrategyEntry:
    return StrategyEntry(provider=provider, base=base, weight=weight)


def test_one_half_vcpu_one_gb_task_for_720_hours_at_us_east_1_prices():
    # (0.5 x 0.04048 + 1 x 0.004445) x 720 = 0.024685 x 720 = 17.7732
    assert round(fargate_monthly(512, 1024, 1, 720, 0.04048, 0.004445), 2) == 17.77


def test_spot_discount_applies_to_the_whole_task_price():
    # 17.7732 x 0.3 = 5.33196
    assert round(fargate_monthly(512, 1024, 1, 720, 0.04048, 0.004445, discount=0.70), 5) == 5.33196


def test_task_hour_bills_configured_size():
    # 0.25 vCPU x 0.04048 + 0.5 GB x 0.004445 = 0.0101200 + 0.0022225
    assert fargate_task_hour(256, 512, 0.04048, 0.004445) == pytest.approx(0.0123425)


def test_shipped_tables_keep_the_us_east_1_seed_figures_out_of_eu_west_1():
    assert load_prices("us-east-1").fargate("x86_64") == (0.04048, 0.004445)
    assert load_prices("eu-west-1").fargate("x86_64") != (0.04048, 0.004445)
    assert load_prices("eu-west-1").as_of == "2025-06-01"


def test_unknown_region_names_the_shipped_tables():
    with pytest.raises(UnknownRegion, match=r"no price table for ap-south-1; shipped: eu-west-1, us-east-1"):
        load_prices("ap-south-1")


@pytest.mark.parametrize(
    ("strategy", "tasks", "expected"),
    [
        ([entry("fargate", base=1), entry("fargate_spot", weight=4)], 1, {"fargate": 1.0, "fargate_spot": 0.0}),
        ([entry("fargate", base=1), entry("fargate_spot", weight=4)], 6, {"fargate": 2.0, "fargate_spot": 4.0}),
        ([entry("fargate", base=2), entry("fargate_spot")], 3, {"fargate": 2.5, "fargate_spot": 0.5}),
        ([entry("fargate_spot")], 2, {"fargate_spot": 2.0}),
        ([entry("fargate", base=5), entry("fargate_spot")], 3, {"fargate": 3.0, "fargate_spot": 0.0}),
        ([entry("fargate", weight=0, base=1), entry("fargate_spot", weight=1)], 4, {"fargate": 1.0, "fargate_spot": 3.0}),
    ],
)
def test_task_shares_place_the_base_first_then_by_weight(strategy, tasks, expected):
    assert task_shares(strategy, tasks) == expected


@pytest.mark.parametrize(
    ("cpu", "memory", "target", "min_size", "max_size", "expected"),
    [
        (2048, 4096, 90, 1, 10, 2),  # 2 vCPU on 2-vCPU instances = 1.0 full; at 90% -> 1.11 -> 2
        (2048, 4096, 100, 1, 10, 1),  # exactly full at 100%
        (0, 0, 90, 1, 10, 1),  # nothing placed: min_size
        (1024, 16384, 100, 0, 10, 2),  # memory binds: 16 GiB on 8 GiB instances
        (40960, 0, 100, 0, 10, 10),  # 20 instances wanted, max_size caps
    ],
)
def test_instances_needed(cpu, memory, target, min_size, max_size, expected):
    assert instances_needed(cpu, memory, (2, 8192), target, min_size, max_size) == expected


@pytest.mark.parametrize(
    ("instances", "base", "percent", "expected"),
    [(2, 1, 25, (1.25, 0.75)), (1, 1, 25, (1.0, 0.0)), (4, 0, 0, (0.0, 4.0)), (3, 0, 100, (3.0, 0.0)), (0, 1, 50, (0.0, 0.0))],
)
def test_on_demand_spot_split(instances, base, percent, expected):
    assert on_demand_spot_split(instances, base, percent) == expected


def test_an_arm64_service_on_fargate_spot_is_priced_at_the_arm64_rate_less_the_spot_discount():
    from review.cost import Assumptions, fargate_lines
    from tests.harness import edited

    config = edited("staging", lambda d: d["services"]["worker"].update(
        architecture="arm64", capacity=[{"provider": "fargate_spot", "weight": 1}], desired_count=2))
    prices = load_prices("eu-west-1")
    lines = [line for line in fargate_lines(config, prices, Assumptions()) if line.component == "service worker"]
    # 1 vCPU x 0.03565 + 2 GB x 0.00391 = 0.04347 per task-hour (arm64), 70% off on Spot.
    assert [(line.item, line.quantity, round(line.unit_price, 6)) for line in lines] == [
        ("Fargate Spot (-70%) 1 vCPU / 2 GB x 2 tasks", 2 * 730, round(0.04347 * 0.3, 6))
    ]
