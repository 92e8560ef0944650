"""Cost figures against hand-computed numbers (USD, list prices of the named table)."""

from __future__ import annotations

import pytest

from configs.instance_types import instance_type
from configs.model import StrategyEntry
from review.cost import (
    CostEstimate,
    CostLine,
    container_insights_lines,
    ec2_lines,
    efs_lines,
    estimate_cost,
    fargate_lines,
    fargate_task_hour,
    instances_to_place,
    load_balancer_lines,
    log_lines,
    managed_scaling_instances,
    money,
    money_range,
    on_demand_spot_split,
    secret_lines,
    task_shares,
    traffic_lines,
    whole_task_split,
    Built,
    Inputs,
)
from review.offline import CapturedResource, Plan
from review.prices import UnknownRegion, load_prices
from review.usage import Usage, UsageFile
from tests.harness import edited, reference_config, reference_plan

EU = load_prices("eu-west-1")


def entry(provider: str, base: int = 0, weight: int = 1) -> StrategyEntry:
    return StrategyEntry(provider=provider, base=base, weight=weight)


def inputs(config, plan=None, usage: Usage = Usage()) -> Inputs:
    return Inputs(config, plan or Plan(config.environment), EU, UsageFile(usage, "configs/usage/test.yaml"))


def one_service(data, **service):
    """dev with one Fargate service `api` (0.5 vCPU / 1 GB) shaped by `service`."""
    data["services"] = {"api": {**data["services"]["api"], "connects_to": [], "sidecars": {}, **service}}


# ---- hand-checked cases ---------------------------------------------------------------------


def test_one_fargate_task_for_730_hours_in_eu_west_1():
    # (0.5 x 0.04048 + 1 x 0.004445) x 730 = 0.024685 x 730 = 18.02005
    config = edited("dev", lambda d: one_service(d, desired_count=1, capacity=[{"provider": "fargate"}]))
    built = Built()
    fargate_lines(inputs(config), built)
    (line,) = built.lines
    assert (line.quantity, line.unit, line.unit_price) == (730.0, "task-h", pytest.approx(0.024685))
    assert round(line.monthly, 2) == 18.02
    assert (round(line.minimum, 2), round(line.maximum, 2)) == (18.02, 18.02)


def worker_fleet_lines(*, on_demand_percent: int, target_capacity: int, autoscaling) -> Built:
    """prod's EC2 lines with only the worker, 2 tasks of 1 vCPU / 2 GB, on one m6i.large
    provider (on-demand base 1) over 2 zones."""
    def fleet(data):
        data["network"]["availability_zones"] = 2
        data["cluster"]["capacity"]["ec2"] = {"general": {
            "instance_types": ["m6i.large"], "min_size": 1, "max_size": 10, "on_demand_base": 1,
            "on_demand_percent_above_base": on_demand_percent, "target_capacity": target_capacity}}
        data["services"] = {"worker": {**data["services"]["worker"], "desired_count": 2, "autoscaling": autoscaling,
                                       "capacity": [{"provider": "general"}]}}
    built = Built()
    ec2_lines(inputs(edited("prod", fleet)), built)
    return built


def test_asg_with_base_1_and_25_percent_for_2_tasks_over_2_zones():
    # 2 tasks of 1 vCPU / 2 GB fit one m6i.large (2 vCPU / 8 GiB), but spread over 2 zones: M = 2.
    # target 90%: N = ceil(2 / 0.9) = 3. On-demand: base 1 + ceil(25% of 2 = 0.5) = 2; Spot 1.
    # 2 x 730 x 0.107 = 156.22; 1 x 730 x 0.107 x 0.4 = 31.244; 3 x 30 GB x 0.088 = 7.92
    built = worker_fleet_lines(on_demand_percent=25, target_capacity=90, autoscaling=None)
    on_demand, spot, volumes = built.lines
    assert on_demand.item == "general: m6i.large on-demand x 2 (min 2, max 3)"
    assert round(on_demand.monthly, 2) == 156.22
    assert spot.item == "general: m6i.large Spot (-60%) x 1 (min 1 at -90%, max 0)"
    assert round(spot.monthly, 3) == 31.244
    assert (volumes.quantity, round(volumes.monthly, 2)) == (3, 7.92)
    # min: Spot at -90%: 730 x 0.0107 = 7.811; max: all 3 on on-demand = 234.33
    assert round(sum(line.minimum for line in built.lines), 3) == round(156.22 + 7.811 + 7.92, 3)
    assert round(sum(line.maximum for line in built.lines), 2) == round(3 * 730 * 0.107 + 7.92, 2)
    assert built.shared_by_service == {"worker": pytest.approx(156.22 + 31.244 + 7.92)}


def insights_of_ten_tasks(mode: str) -> Built:
    """The Container Insights lines of dev with one service at 10 tasks, in the given mode."""
    def ten_tasks(data):
        one_service(data, desired_count=10)
        data["cluster"]["container_insights"] = mode
    built = Built()
    container_insights_lines(inputs(edited("dev", ten_tasks)), built)
    return built


def test_container_insights_enhanced_for_10_tasks():
    # One service at 10 tasks with one container each: 14 (cluster) + 24 (service) + 10 x (10 + 10)
    # = 238 metrics x $0.30 = $71.40; performance events 10 x 0.2 GB x $0.57 = $1.14.
    built = insights_of_ten_tasks("enhanced")
    metrics, events = built.lines
    assert (metrics.item, metrics.quantity, metrics.unit_price) == ("Container Insights (enhanced) 238 metrics", 238, 0.30)
    assert round(metrics.monthly, 2) == 71.40
    assert round(events.monthly, 2) == 1.14


def test_container_insights_enhanced_counts_each_sidecar_as_a_container():
    # dev's api carries one sidecar: 14 + 24 + 10 x (10 + 2 x 10) = 338 metrics
    def with_sidecar(data):
        sidecars = data["services"]["api"]["sidecars"]
        one_service(data, desired_count=10, sidecars=sidecars)
        data["cluster"]["container_insights"] = "enhanced"
    built = Built()
    container_insights_lines(inputs(edited("dev", with_sidecar)), built)
    assert built.lines[0].quantity == 338


def test_container_insights_standard_counts_no_task_metrics():
    built = Built()
    container_insights_lines(inputs(edited("dev", lambda d: one_service(d, desired_count=10))), built)
    assert built.lines[0].quantity == 14 + 24


def test_nat_with_100_gb():
    # 100 GB x $0.048 = $4.80 of data processing, besides the gateway's hours.
    config = reference_config("staging")
    built = Built()
    traffic_lines(inputs(config, reference_plan("staging"), Usage(nat_gb=100)), built)
    nat = next(line for line in built.lines if line.item.startswith("NAT data"))
    assert (nat.item, nat.quantity, nat.unit_price, round(nat.monthly, 2)) == ("NAT data processing 100 GB", 100, 0.048, 4.80)
    assert "100 GB a month through NAT gateways (from configs/usage/test.yaml)" in built.assumptions


@pytest.mark.parametrize(("internal", "items"), [
    (False, ["Application Load Balancer", "ALB capacity units (0.1 LCU average)", "ALB public IPv4 x 2"]),
    # An internal ALB's addresses are private: no public IPv4 charge.
    (True, ["Application Load Balancer", "ALB capacity units (0.1 LCU average)"]),
])
def test_only_an_internet_facing_alb_pays_a_public_ipv4_per_subnet(internal, items):
    alb = CapturedResource(type="aws:lb/loadBalancer:LoadBalancer", name="dev-alb", urn="urn:pulumi:dev::p::aws:lb/loadBalancer:LoadBalancer::dev-alb",
                           parent="", custom=True, props={"loadBalancerType": "application", "internal": internal, "subnets": ["subnet-a", "subnet-b"]})
    built = Built()
    load_balancer_lines(inputs(reference_config("dev"), Plan("dev", [alb])), built)
    assert [line.item for line in built.lines] == items


def test_cross_az_is_charged_in_both_directions():
    built = Built()
    traffic_lines(inputs(reference_config("staging"), reference_plan("staging"), Usage(cross_az_gb=50)), built)
    line = next(line for line in built.lines if line.item.startswith("cross-AZ"))
    assert (line.quantity, round(line.monthly, 2)) == (100, 1.00)


# ---- the range --------------------------------------------------------------------------------


def test_prod_range_scales_api_to_its_autoscaling_bounds():
    cost = estimate_cost(reference_config("prod"), reference_plan("prod"), EU)
    api = [line for line in cost.lines if line.service == "api" and "Fargate" in line.item]
    on_demand, spot = api
    # expected 3 tasks: 2.5 on-demand, 0.5 Spot; min 3: 2 + 1 Spot; max 20: base 2, 18 split 9/9,
    # and the Spot 9 priced on-demand (no capacity): 20 x 730 x 0.024685 = 360.401
    assert on_demand.item == "Fargate 0.5 vCPU / 1 GB x86_64 x 2.5 tasks (min 2, max 11)"
    assert round(on_demand.maximum + spot.maximum, 3) == round(20 * 730 * 0.024685, 3)
    assert round(spot.minimum, 4) == round(730 * 0.024685 * 0.3, 4)
    assert cost.min < cost.expected < cost.max


def test_money_range_is_the_reports_form():
    cost = CostEstimate("eu-west-1", "c", (CostLine("x", "y", 1, "u", 10.0, low=5.0, high=20.0),), ())
    assert money_range(cost) == "$10.00 expected (min $5.00 – max $20.00)/month"


def test_expected_task_count_comes_from_the_usage_file():
    config = reference_config("staging")
    usage = UsageFile(Usage.model_validate({"services": {"api": {"expected_tasks": 4}}}), "u.yaml")
    cost = estimate_cost(config, reference_plan("staging"), EU, usage)
    assert [line.item for line in cost.lines if line.service == "api"][:2] == [
        "Fargate 0.5 vCPU / 1 GB x86_64 x 2.5 tasks (min 1, max 4)",
        "Fargate Spot 0.5 vCPU / 1 GB x86_64 x 1.5 tasks (min 1, max 2)",
    ]


def test_alb_lcu_defaults_lower_outside_production():
    dev = estimate_cost(reference_config("dev"), reference_plan("dev"), EU)
    prod = estimate_cost(reference_config("prod"), reference_plan("prod"), EU)
    lcu = lambda cost: next(line for line in cost.lines if line.item.startswith("ALB capacity")).quantity / 730
    assert (round(lcu(dev), 4), round(lcu(prod), 4)) == (0.1, 1.0)


def test_kms_rotation_ranges_from_none_to_two_versions():
    cost = estimate_cost(reference_config("prod"), reference_plan("prod"), EU)
    line = next(line for line in cost.lines if "rotated versions" in line.item)
    assert (line.monthly, line.minimum, line.maximum) == (1.0, 0.0, 2.0)


def test_secrets_are_billed_per_distinct_secret():
    cost = estimate_cost(reference_config("prod"), reference_plan("prod"), EU)
    line = next(line for line in cost.lines if line.item.startswith("Secrets Manager"))
    assert (line.quantity, line.unit_price) == (1, 0.40)


# ---- pure building blocks ---------------------------------------------------------------------


def test_task_hour_bills_configured_size():
    # 0.25 vCPU x 0.04048 + 0.5 GB x 0.004445 = 0.0101200 + 0.0022225
    assert fargate_task_hour(256, 512, 0.04048, 0.004445) == pytest.approx(0.0123425)


def test_unknown_region_names_the_shipped_tables():
    with pytest.raises(UnknownRegion, match=r"no price table for ap-south-1; shipped: eu-west-1, us-east-1, us-west-2"):
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
    ("strategy", "tasks", "favour", "expected"),
    [
        # 1 task at Spot 4:1 runs either on Spot or on on-demand, never 0.8/0.2
        ([entry("fargate_spot", weight=4), entry("fargate")], 1, ["fargate_spot"], {"fargate_spot": 1, "fargate": 0}),
        ([entry("fargate_spot", weight=4), entry("fargate")], 1, ["fargate"], {"fargate_spot": 0, "fargate": 1}),
        ([entry("fargate_spot", weight=4), entry("fargate")], 1, [], {"fargate_spot": 1, "fargate": 0}),
        ([entry("fargate", base=2), entry("fargate_spot")], 3, ["fargate_spot"], {"fargate": 2, "fargate_spot": 1}),
        ([entry("fargate", base=2), entry("fargate_spot")], 3, ["fargate"], {"fargate": 3, "fargate_spot": 0}),
        ([entry("fargate", base=2), entry("fargate_spot")], 20, ["fargate"], {"fargate": 11, "fargate_spot": 9}),
        ([entry("fargate", weight=0, base=1), entry("fargate_spot")], 4, ["fargate"], {"fargate": 1, "fargate_spot": 3}),
        # ECS places no task beyond its base on a weight-0 provider, even the favoured one: the
        # fractional task (2/3 Spot, 4/3 general) goes to the largest remainder instead.
        ([entry("fargate", weight=0, base=1), entry("fargate_spot"), entry("general", weight=2)], 3, ["fargate"],
         {"fargate": 1, "fargate_spot": 1, "general": 1}),
    ],
)
def test_whole_task_split_rounds_the_fractional_task_towards_the_favoured_provider(strategy, tasks, favour, expected):
    assert whole_task_split(strategy, tasks, favour) == expected


M6I_LARGE = instance_type("m6i.large")


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        ([(1024, 2048)] * 2, 1),  # both fit one 2-vCPU instance
        ([(1024, 2048)] * 3, 2),
        ([(512, 6144), (512, 6144)], 2),  # memory binds: 12 GiB on 8 GiB instances
        ([(2048, 1024), (512, 512), (1536, 512)], 2),  # first fit decreasing: 2048 | 1536 + 512
        ([], 0),
    ],
)
def test_instances_to_place(tasks, expected):
    assert instances_to_place(tasks, M6I_LARGE) == expected


@pytest.mark.parametrize(
    ("occupied", "zones", "target", "min_size", "max_size", "expected"),
    [
        (1, 2, 100, 0, 10, 2),  # one instance would do, but the tasks spread over 2 zones
        (2, 2, 90, 1, 10, 3),  # ceil(2 / 0.9)
        (9, 3, 90, 0, 10, 10),  # ceil(9 / 0.9) = 10 exactly
        (0, 0, 90, 1, 10, 1),  # nothing placed: min_size
        (20, 3, 100, 0, 10, 10),  # max_size caps
    ],
)
def test_managed_scaling_instances(occupied, zones, target, min_size, max_size, expected):
    assert managed_scaling_instances(occupied, zones, target, min_size, max_size) == expected


@pytest.mark.parametrize(
    ("instances", "base", "percent", "expected"),
    [(2, 1, 25, (2, 0)), (3, 1, 25, (2, 1)), (5, 1, 25, (2, 3)), (6, 1, 25, (3, 3)), (1, 1, 25, (1, 0)),
     (4, 0, 0, (0, 4)), (3, 0, 100, (3, 0)), (0, 1, 50, (0, 0))],
)
def test_on_demand_spot_split_rounds_on_demand_up(instances, base, percent, expected):
    assert on_demand_spot_split(instances, base, percent) == expected


def test_an_arm64_service_on_fargate_spot_is_priced_at_the_arm64_spot_rate():
    config = edited("staging", lambda d: d["services"]["worker"].update(
        architecture="arm64", capacity=[{"provider": "fargate_spot", "weight": 1}], desired_count=2))
    built = Built()
    fargate_lines(inputs(config), built)
    (line,) = [line for line in built.lines if line.component == "service worker"]
    # 1 vCPU x 0.03238 + 2 GB x 0.00356 = 0.0395 per task-hour (arm64), 70% off on Spot; the max
    # (autoscaling max 4) at the arm64 on-demand rate.
    assert (line.item, line.quantity, round(line.unit_price, 6)) == ("Fargate Spot 1 vCPU / 2 GB arm64 x 2 tasks (min 1, max 4)", 2 * 730, round(0.0395 * 0.3, 6))
    assert round(line.maximum, 2) == round(4 * 730 * 0.0395, 2)


def test_efs_storage_and_elastic_throughput_from_the_usage_file():
    def with_efs(data):
        data["storage"] = {"efs": {"uploads": {}, "archive": {"throughput": "bursting"}}}

    config = edited("prod", with_efs)
    usage = UsageFile(Usage.model_validate({"efs": {"uploads": {"storage_gb": 100, "read_gb": 500, "write_gb": 50}}}), "u.yaml")
    built = Built()
    efs_lines(Inputs(config, Plan("prod"), EU, usage), built)
    assert {line.component for line in built.lines} == {"storage"}
    assert [(line.item, line.quantity, line.unit, line.unit_price) for line in built.lines] == [
        ("EFS archive Standard storage 10 GB", 10.0, "GB-month", 0.33),  # the default; bursting bills no transfer
        ("EFS uploads Standard storage 100 GB", 100.0, "GB-month", 0.33),
        ("EFS uploads elastic throughput reads 500 GB", 500.0, "GB", 0.03),
        ("EFS uploads elastic throughput writes 50 GB", 50.0, "GB", 0.07),
    ]
    assert sum(line.monthly for line in built.lines) == pytest.approx(3.3 + 33 + 15 + 3.5)
    assert built.assumptions[1].startswith("EFS uploads: 100 GB stored, 500 GB read and 50 GB written a month (from u.yaml)")
    assert built.assumptions[0].startswith("EFS archive: 10 GB stored (bursting: no transfer charge) (defaults; set efs.archive in u.yaml)")


def test_an_expected_spot_instance_keeps_its_line_when_the_minimum_runs_none():
    # 2 tasks over 2 zones at target 100%: 2 instances, base 1 on demand and 0% above: 1 Spot.
    # At the autoscaling minimum (1 task) the one instance is the on-demand base: no Spot at all.
    # 1 x 730 x 0.107 x 0.4 = 31.244; its min 0 and max 0 (the max runs on demand).
    built = worker_fleet_lines(on_demand_percent=0, target_capacity=100, autoscaling={"min": 1, "max": 2, "cpu": 60})
    assert [line.item for line in built.lines] == [
        "general: m6i.large on-demand x 1 (min 1, max 2)",
        "general: m6i.large Spot (-60%) x 1 (min 0 at -90%, max 0)",
        "general: gp3 root volumes 2 x 30 GB",
    ]
    spot = built.lines[1]
    assert (round(spot.monthly, 3), spot.minimum, spot.maximum) == (31.244, 0.0, 0.0)


def test_a_service_log_group_that_ingests_nothing_leaves_the_other_groups_priced():
    # log_gb_per_task 0: dev's service groups (api, worker) ingest nothing; the cluster's exec
    # logs and the job's logs (0.5 GB each, as any other group) and the flow logs (5 GB) are still priced.
    built = Built()
    log_lines(inputs(reference_config("dev"), reference_plan("dev"), Usage(log_gb_per_task=0)), built)
    assert [(line.component, line.item, line.quantity) for line in built.lines if line.unit == "GB"] == [
        ("cluster", "log ingestion /ecs/dev/exec", 0.5),
        ("job migrate", "log ingestion /ecs/dev/migrate", 0.5),
        ("network", "log ingestion /vpc/dev/flow-logs", 5.0),
    ]


def test_container_insights_disabled_costs_nothing():
    built = insights_of_ten_tasks("disabled")
    assert (built.lines, built.assumptions) == ([], [])


def test_a_secret_the_stack_creates_is_billed_beside_the_referenced_ones():
    config = reference_config("dev")
    secret = CapturedResource(type="aws:secretsmanager/secret:Secret", name="dev-token", urn="urn:pulumi:dev::p::aws:secretsmanager/secret:Secret::dev-token",
                              parent="", custom=True, props={"name": "dev/token"})
    built = Built()
    secret_lines(inputs(config, Plan("dev", [secret])), built)
    (line,) = built.lines
    assert (line.item, line.quantity, line.unit_price) == ("Secrets Manager secrets x 2 (1 referenced, 1 created)", 2, 0.40)


@pytest.mark.parametrize(
    ("amount", "text"),
    [(1234.5, "$1,234.50"), (-22.1, "-$22.10"), (-0.3, "-$0.30"), (0.0, "$0.00"),
     # less than half a cent either way reads as nothing, never "-$0.00"
     (-0.004, "$0.00")],
)
def test_money(amount, text):
    assert money(amount) == text


def test_a_provider_without_tasks_leaves_the_next_providers_line():
    # weight 0 and no base: ECS places nothing on fargate, so only the Spot line (2 tasks).
    config = edited("dev", lambda d: one_service(d, desired_count=2, autoscaling=None, capacity=[
        {"provider": "fargate", "weight": 0}, {"provider": "fargate_spot", "weight": 1}]))
    built = Built()
    fargate_lines(inputs(config), built)
    assert [(line.item, line.quantity) for line in built.lines] == [("Fargate Spot 0.5 vCPU / 1 GB x86_64 x 2 tasks (min 2, max 2)", 1460.0)]


def test_a_spot_share_the_min_and_max_round_away_still_has_its_line():
    # base 1 on fargate, then 1:1: 2 tasks expected are 1.5 fargate and 0.5 Spot; the min (1
    # task) is the base and the max (2 tasks, rounded towards on-demand) runs both on fargate.
    # Spot: 0.5 x 730 x 0.024685 x 0.3 = $2.70, min 0, max 0.
    config = edited("dev", lambda d: one_service(d, desired_count=2, autoscaling={"min": 1, "max": 2, "cpu": 60}, capacity=[
        {"provider": "fargate", "base": 1, "weight": 1}, {"provider": "fargate_spot", "weight": 1}]))
    built = Built()
    fargate_lines(inputs(config), built)
    assert [line.item for line in built.lines] == [
        "Fargate 0.5 vCPU / 1 GB x86_64 x 1.5 tasks (min 1, max 2)", "Fargate Spot 0.5 vCPU / 1 GB x86_64 x 0.5 tasks (min 0, max 0)"]
    spot = built.lines[1]
    assert (round(spot.monthly, 2), spot.minimum, spot.maximum) == (2.70, 0.0, 0.0)


def test_a_service_on_ec2_leaves_the_fargate_services_after_it_priced():
    # "batch" (EC2, sorted first) is priced by ec2_lines; "worker" after it is still a Fargate line.
    def mixed(data):
        data["cluster"]["capacity"]["ec2"] = {"general": {"instance_types": ["m6i.large"], "min_size": 1, "max_size": 4}}
        worker = {**data["services"]["worker"], "desired_count": 1, "autoscaling": None, "capacity": [{"provider": "fargate"}]}
        data["services"] = {"batch": {**worker, "capacity": [{"provider": "general"}]}, "worker": worker}
    built = Built()
    fargate_lines(inputs(edited("prod", mixed)), built)
    assert [line.component for line in built.lines] == ["service worker"]
