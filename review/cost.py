"""An estimated monthly cost of an environment, as a range: expected, min and max.

What would be *created* is counted from the plan (NAT gateways, public IPs, interface
endpoints and their zones, the ALB, KMS keys, log groups, repositories); how much *runs*
follows from the config (task sizes, autoscaling bounds, capacity strategies, EC2 providers);
what flows through it (GB, LCUs, log volume) from the usage file (review/usage.py) or its
stated defaults. Prices come from review/prices, each rate with its source.

- expected: the expected task count (the usage file's, else desired_count), tasks split over a
  strategy as ECS places them in the long run, EC2 Spot at its typical discount;
- min: every service at its autoscaling minimum, whole tasks rounded towards Spot, Spot at its
  deepest discount;
- max: every service at its autoscaling maximum, whole tasks rounded towards on-demand, and
  on-demand prices for what would run on Spot (the fallback when Spot capacity is short).

Each figure is a pure function of its inputs so it can be checked by hand (tests/review/test_cost.py).
Other cost lines (jobs, sidecars, alarms, ...) are small functions of the same shape: add them
to LINE_BUILDERS.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Optional, Sequence

from configs.instance_types import InstanceType, instance_type
from configs.model import EnvironmentConfig, StrategyEntry
from configs.schedules import REFERENCE_YEAR, runs_per_month
from review.offline import CapturedResource, Plan
from review.prices import PriceTable
from review.topology import component_label
from review.usage import (
    DEFAULT_ALB_LCU_OTHER,
    DEFAULT_ALB_LCU_PRODUCTION,
    DEFAULT_CROSS_AZ_GB,
    DEFAULT_ECR_GB_PER_REPOSITORY,
    DEFAULT_EFS_READ_GB,
    DEFAULT_EFS_STORAGE_GB,
    DEFAULT_EFS_WRITE_GB,
    DEFAULT_ENDPOINT_GB,
    DEFAULT_FLOW_LOG_GB,
    DEFAULT_INTERNET_EGRESS_GB,
    DEFAULT_LOG_GB_PER_TASK,
    DEFAULT_NAT_GB,
    Usage,
    UsageFile,
    expected_tasks,
    task_bounds,
)

HOURS_PER_MONTH = 730.0  # AWS's own monthly convention (8760 h / 12)
FARGATE_PROVIDERS = ("fargate", "fargate_spot")
SPOT_PROVIDERS = ("fargate_spot",)
# EC2 Spot prices float; AWS advertises "up to 90%" off on-demand. 60% is a typical discount for
# general-purpose types, not a quote; the min uses the deepest.
EC2_SPOT_DISCOUNT = 0.60
EC2_SPOT_DEEPEST_DISCOUNT = 0.90
OTHER_LOG_GB = 0.5  # GB per month for any other log group (ECS Exec sessions, ...)
# Container Insights metrics bill as custom metrics, one per metric name and dimension set. Counts
# from the ECS metrics list (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html):
# ClusterName, ClusterName+ServiceName and ClusterName+TaskDefinitionFamily; enhanced
# observability adds TaskId and ContainerName dimensions.
CI_METRICS_PER_CLUSTER = 14
CI_METRICS_PER_SERVICE = 14 + 10  # the service's dimension and its task definition family's
CI_METRICS_PER_TASK = 10  # enhanced only
CI_METRICS_PER_CONTAINER = 10  # enhanced only
CI_LOG_GB_PER_TASK = {"enabled": 0.05, "enhanced": 0.2}  # performance log events per task per month
KMS_ROTATIONS_BILLED = 2  # AWS bills a key's first and second rotated versions, then no more


@dataclass(frozen=True)
class CostLine:
    component: str  # network, cluster, load balancer, service api, ...
    item: str  # what is charged, for a reader: "NAT gateway eu-west-1a"
    quantity: float  # in `unit`s per month, expected
    unit: str
    unit_price: float  # USD per unit
    service: Optional[str] = None  # the service key a line belongs to, if any
    low: Optional[float] = None  # USD per month at the min end; None: same as expected
    high: Optional[float] = None  # USD per month at the max end; None: same as expected

    @property
    def monthly(self) -> float:
        return self.quantity * self.unit_price

    @property
    def minimum(self) -> float:
        return self.monthly if self.low is None else self.low

    @property
    def maximum(self) -> float:
        return self.monthly if self.high is None else self.high


@dataclass(frozen=True)
class CostEstimate:
    """The result the reports and the budget gate read: expected, min, max, lines, assumptions."""

    region: str
    citation: str
    lines: tuple[CostLine, ...]
    assumptions: tuple[str, ...]
    # Shared EC2 capacity apportioned to the services that use it, by vCPU demand (expected).
    shared_by_service: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def expected(self) -> float:
        return sum(line.monthly for line in self.lines)

    @property
    def total(self) -> float:  # the expected figure; kept for callers that predate the range
        return self.expected

    @property
    def min(self) -> float:
        return sum(line.minimum for line in self.lines)

    @property
    def max(self) -> float:
        return sum(line.maximum for line in self.lines)

    def by_component(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for line in self.lines:
            totals[line.component] += line.monthly
        return dict(sorted(totals.items()))

    def by_service(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float, self.shared_by_service)
        for line in self.lines:
            if line.service is not None:
                totals[line.service] += line.monthly
        return dict(sorted(totals.items()))


@dataclass(frozen=True)
class Inputs:
    """What every line builder reads."""

    config: EnvironmentConfig
    plan: Plan
    prices: PriceTable
    usage: UsageFile
    hours: float = HOURS_PER_MONTH


@dataclass
class Built:
    lines: list[CostLine] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    shared_by_service: dict[str, float] = field(default_factory=lambda: defaultdict(float))


# ---- pure building blocks (checked against hand-computed figures in tests) ------------------


def task_shares(strategy: Sequence[StrategyEntry], tasks: float) -> dict[str, float]:
    """Tasks per provider in the long run: the entry with a base gets up to `base` tasks first,
    the rest is split by weight, as ECS places them (fractional: the share of the placements)."""
    shares = {entry.provider: 0.0 for entry in strategy}
    remaining = float(tasks)
    for entry in strategy:
        taken = min(float(entry.base), remaining)
        shares[entry.provider] += taken
        remaining -= taken
    total_weight = sum(entry.weight for entry in strategy)
    if remaining > 0 and total_weight > 0:
        for entry in strategy:
            shares[entry.provider] += remaining * entry.weight / total_weight
    return shares


def whole_task_split(strategy: Sequence[StrategyEntry], tasks: int, favour: Iterable[str] = ()) -> dict[str, int]:
    """Whole tasks per provider at one moment: each base first, then the weights' whole shares;
    the tasks the weights leave fractional go to the `favour` providers first (the min favours
    Spot, the max on-demand), then to the largest remainders."""
    fractional = task_shares(strategy, tasks)
    whole = {provider: math.floor(round(share, 9)) for provider, share in fractional.items()}
    left = tasks - sum(whole.values())
    preferred = list(favour)
    weighted = [e.provider for e in strategy if e.weight > 0 or fractional[e.provider] > whole[e.provider]]
    order = sorted(
        dict.fromkeys(weighted),
        key=lambda p: (p not in preferred, preferred.index(p) if p in preferred else 0, -(fractional[p] - whole[p])),
    )
    for provider in order:
        if left <= 0:
            break
        if fractional[provider] > whole[provider] or provider in preferred:
            whole[provider] += 1
            left -= 1
    return whole


def fargate_task_hour(cpu_units: int, memory_mib: int, vcpu_hour: float, gb_hour: float) -> float:
    """USD per hour of one task: Fargate bills the task's vCPUs and GB, not what it uses."""
    return cpu_units / 1024 * vcpu_hour + memory_mib / 1024 * gb_hour


def instances_to_place(tasks: Sequence[tuple[int, ...]], instance: InstanceType) -> int:
    """Instances the tasks occupy (first-fit decreasing on vCPU, memory and, when a task has a
    third figure, the GPUs it reserves, which ECS pins one task each): M of managed scaling."""
    free: list[list[int]] = []
    for task in sorted(tasks, reverse=True):
        need = [task[0], task[1], task[2] if len(task) > 2 else 0]
        for room in free:
            if all(left >= wanted for left, wanted in zip(room, need)):
                for dimension, wanted in enumerate(need):
                    room[dimension] -= wanted
                break
        else:
            free.append([instance.cpu_units - need[0], instance.memory_mib - need[1], instance.gpus - need[2]])
    return len(free)


def managed_scaling_instances(occupied: int, zones_used: int, target_capacity: int, min_size: int, max_size: int) -> int:
    """Instances ECS managed scaling keeps: N = ceil(M / target), where M is the instances the
    tasks occupy and at least one per zone the tasks spread over (services spread over zones
    by default), within the group's min and max size.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-scaling-behavior.html"""
    needed = max(occupied, zones_used)
    wanted = math.ceil(round(needed * 100 / target_capacity, 9)) if needed else 0
    return max(min_size, min(max_size, wanted))


def on_demand_spot_split(instances: int, on_demand_base: int, on_demand_percent_above_base: int) -> tuple[int, int]:
    """(on-demand, Spot) instances of a mixed instances policy: the base, then the percentage of
    the rest, a fraction rounded in favour of on-demand as EC2 Auto Scaling does."""
    base = min(instances, on_demand_base)
    above = instances - base
    on_demand = base + math.ceil(round(above * on_demand_percent_above_base / 100, 9))
    return on_demand, instances - on_demand


# ---- the estimate ---------------------------------------------------------------------------

LineBuilder = Callable[[Inputs, Built], None]


def estimate_cost(config: EnvironmentConfig, plan: Plan, prices: PriceTable, usage: Optional[UsageFile] = None) -> CostEstimate:
    inputs = Inputs(config, plan, prices, usage or UsageFile(Usage(), f"configs/usage/{config.environment}.yaml"))
    built = Built()
    built.assumptions.append(
        f"{inputs.hours:g} h per month. expected: each service at its expected task count, tasks split over a strategy "
        "as ECS places them in the long run; min: autoscaling minimum, whole tasks rounded towards Spot, Spot at its deepest "
        "discount; max: autoscaling maximum, whole tasks rounded towards on-demand, on-demand prices where Spot would run"
    )
    for builder in LINE_BUILDERS:
        builder(inputs, built)
    unverified = sorted(key for key, rate in prices.rates.items() if not rate.evidence and not rate.derived)
    built.assumptions.append(
        f"prices: {len(prices.rates)} rates, {len(prices.rates) - len(unverified)} confirmed beyond the pricing page "
        f"(evidence in review/prices/{prices.region}.json); `python3 run.py prices refresh {prices.region}` re-reads all from the Price List API"
    )
    built.assumptions.append(
        "not included: Savings Plans and Reserved Instances, free tiers, taxes, API requests (Secrets Manager, SSM, KMS, "
        "CloudWatch), Route 53, ACM (free), S3 access-log storage, Spot price swings beyond the stated discounts"
    )
    return CostEstimate(prices.region, prices.citation, tuple(built.lines), tuple(built.assumptions),
                        dict(built.shared_by_service), tuple(built.notes))


@dataclass(frozen=True)
class TaskRange:
    min: int
    expected: int
    max: int


def task_range(config: EnvironmentConfig, usage: UsageFile, key: str) -> TaskRange:
    low, high = task_bounds(config, key)
    return TaskRange(low, expected_tasks(config, usage, key), high)


def fargate_lines(inputs: Inputs, built: Built) -> None:
    config, prices, hours = inputs.config, inputs.prices, inputs.hours
    for key, service in sorted(config.services.items()):
        if config.uses_ec2(key):
            continue
        tasks = task_range(config, inputs.usage, key)
        strategy = config.strategy_for(key)
        expected = task_shares(strategy, tasks.expected)
        low = whole_task_split(strategy, tasks.min, favour=SPOT_PROVIDERS)
        high = whole_task_split(strategy, tasks.max, favour=("fargate",))
        architecture = config.architecture_for(key)
        on_demand_hour = fargate_task_hour(service.cpu, service.memory, *prices.fargate(architecture))
        spot_hour = fargate_task_hour(service.cpu, service.memory, *prices.fargate(architecture, spot=True))
        size = f"{service.cpu / 1024:g} vCPU / {service.memory / 1024:g} GB {architecture}"
        # expected, low and high each name every provider of the strategy.
        for provider in expected:
            if not (expected[provider] or low[provider] or high[provider]):
                continue
            spot = provider in SPOT_PROVIDERS
            price = spot_hour if spot else on_demand_hour
            label = "Fargate Spot" if spot else "Fargate"
            built.lines.append(CostLine(
                f"service {key}", f"{label} {size} x {expected[provider]:g} tasks (min {low[provider]}, max {high[provider]})",
                expected[provider] * hours, "task-h", price, key,
                low=low[provider] * hours * price,
                high=high[provider] * hours * on_demand_hour,  # Spot short: the same tasks on on-demand
            ))
    if any(not config.uses_ec2(key) for key in config.services):
        built.assumptions.append(
            f"Fargate Spot at {fargate_spot_discount(prices):.0%} below on-demand (AWS: up to 70%; Spot prices float, both architectures)"
        )


def fargate_spot_discount(prices: PriceTable) -> float:
    """The Spot discount the table's Fargate Spot rates assume (they derive from on-demand)."""
    return 1 - float(prices.rates["fargate_spot_vcpu_hour.x86_64"].derived["factor"])


def ec2_demand(config: EnvironmentConfig, provider: str, counts: Mapping[str, int], favour: Iterable[str]) -> dict[str, tuple[int, int, int]]:
    """service -> (whole tasks, CPU units, MiB per task) its tasks place on an EC2 provider."""
    demand = {}
    for key, service in sorted(config.services.items()):
        tasks = whole_task_split(config.strategy_for(key), counts[key], favour).get(provider, 0)
        if tasks:
            demand[key] = (tasks, service.cpu, service.memory)
    return demand


def zone_count(config: EnvironmentConfig) -> int:
    zones = config.network.availability_zones
    return zones if isinstance(zones, int) else len(zones)


def provider_instances(config: EnvironmentConfig, name: str, demand: Mapping[str, tuple[int, int, int]], instance: InstanceType) -> int:
    provider = config.cluster.capacity.ec2[name]
    tasks = [
        (cpu, memory, config.services[key].gpu or 0) for key, (count, cpu, memory) in demand.items() for _ in range(count)
    ]
    zones_used = max((min(count, zone_count(config)) for count, _, _ in demand.values()), default=0)
    return managed_scaling_instances(instances_to_place(tasks, instance), zones_used, provider.target_capacity, provider.min_size, provider.max_size)


def instance_label(instance: InstanceType) -> str:
    """The type as the lines name it; GPU types with their GPU count (what makes them dear)."""
    return f"{instance.name} ({instance.gpus} GPU)" if instance.gpus else instance.name


def ec2_lines(inputs: Inputs, built: Built) -> None:
    config, prices, hours = inputs.config, inputs.prices, inputs.hours
    ranges = {key: task_range(config, inputs.usage, key) for key in config.services}
    for name, provider in sorted(config.cluster.capacity.ec2.items()):
        type_name = provider.instance_types[0]
        hourly, instance = prices.instance_hour(type_name), instance_type(type_name)
        if hourly is None or instance is None:
            built.notes.append(f"EC2 provider {name}: no price or size for {type_name} in the {prices.region} table; not estimated")
            continue
        demand = {
            "expected": ec2_demand(config, name, {k: r.expected for k, r in ranges.items()}, ()),
            "min": ec2_demand(config, name, {k: r.min for k, r in ranges.items()}, SPOT_PROVIDERS),
            "max": ec2_demand(config, name, {k: r.max for k, r in ranges.items()}, (name,)),
        }
        count = {case: provider_instances(config, name, d, instance) for case, d in demand.items()}
        label = instance_label(instance)
        split = {case: on_demand_spot_split(n, provider.on_demand_base, provider.on_demand_percent_above_base) for case, n in count.items()}
        volume_price = prices.price("ebs_gp3_gb_month") * provider.root_volume_gb
        spot_hourly, deepest_hourly = hourly * (1 - EC2_SPOT_DISCOUNT), hourly * (1 - EC2_SPOT_DEEPEST_DISCOUNT)
        lines = [
            CostLine("cluster", f"{name}: {label} on-demand x {split['expected'][0]} (min {split['min'][0]}, max {count['max']})",
                     split["expected"][0] * hours, "instance-h", hourly,
                     low=split["min"][0] * hours * hourly, high=count["max"] * hours * hourly),
            CostLine("cluster", f"{name}: {label} Spot (-{EC2_SPOT_DISCOUNT:.0%}) x {split['expected'][1]} (min {split['min'][1]} at -{EC2_SPOT_DEEPEST_DISCOUNT:.0%}, max 0)",
                     split["expected"][1] * hours, "instance-h", spot_hourly,
                     low=split["min"][1] * hours * deepest_hourly, high=0.0),
            CostLine("cluster", f"{name}: gp3 root volumes {count['expected']} x {provider.root_volume_gb} GB",
                     count["expected"], "volume-month", volume_price,
                     low=count["min"] * volume_price, high=count["max"] * volume_price),
        ]
        lines = [line for line in lines if line.quantity or line.minimum or line.maximum]
        built.lines += lines
        provider_total = sum(line.monthly for line in lines)
        cpu_total = sum(count * cpu for count, cpu, _ in demand["expected"].values())
        for key, (tasks, cpu, _) in demand["expected"].items():
            built.shared_by_service[key] += provider_total * tasks * cpu / cpu_total
    if config.cluster.capacity.ec2:
        built.assumptions.append(
            "EC2 capacity follows ECS managed scaling: N = ceil(M / target capacity) whole instances of the provider's first type, "
            "M = instances the tasks occupy (first fit on vCPU and memory) and at least one per zone they spread over, within "
            f"min/max size; on-demand base plus the percentage above it rounded up; EC2 Spot {EC2_SPOT_DISCOUNT:.0%} below on-demand "
            f"({EC2_SPOT_DEEPEST_DISCOUNT:.0%} in the min)"
        )


def _zone_of(resource: CapturedResource, plan: Plan) -> str:
    """The zone a NAT gateway serves, from its subnet's availabilityZone (names are zone-keyed)."""
    for subnet in plan.of_type("aws:ec2/subnet:Subnet"):
        zone = subnet.props.get("availabilityZone", "")
        if zone and resource.name.endswith(zone):
            return zone
    return resource.name


def _interface_endpoints(plan: Plan) -> list[CapturedResource]:
    return [e for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.props.get("vpcEndpointType") == "Interface"]


def network_lines(inputs: Inputs, built: Built) -> None:
    plan, prices, hours = inputs.plan, inputs.prices, inputs.hours
    nats = plan.of_type("aws:ec2/natGateway:NatGateway")
    for nat in nats:
        built.lines.append(CostLine(component_label(plan, nat), f"NAT gateway {_zone_of(nat, plan)}", hours, "h", prices.price("nat_gateway_hour")))
    addresses = plan.of_type("aws:ec2/eip:Eip")
    if addresses:
        built.lines.append(CostLine(component_label(plan, addresses[0]), f"public IPv4 (Elastic IPs) x {len(addresses)}", len(addresses) * hours, "IP-h", prices.price("public_ipv4_hour")))
    interface = _interface_endpoints(plan)
    if interface:
        az_hours = sum(len(e.props.get("subnetIds") or []) for e in interface) * hours
        services = ", ".join(sorted(_endpoint_suffix(e) for e in interface))
        zones = {len(e.props.get("subnetIds") or []) for e in interface}
        per = f"{'/'.join(str(z) for z in sorted(zones))} AZs"
        built.lines.append(CostLine(component_label(plan, interface[0]), f"interface endpoints x {len(interface)} in {per} ({services})", az_hours, "AZ-h", prices.price("interface_endpoint_az_hour")))


def traffic_lines(inputs: Inputs, built: Built) -> None:
    """Data processing and transfer: GB from the usage file or its defaults."""
    plan, prices, usage = inputs.plan, inputs.prices, inputs.usage
    if plan.of_type("aws:ec2/natGateway:NatGateway"):
        gb = usage.figure("nat_gb", DEFAULT_NAT_GB)
        built.lines.append(CostLine("network", f"NAT data processing {gb:g} GB", gb, "GB", prices.price("nat_gateway_gb")))
        built.assumptions.append(usage.says("nat_gb", DEFAULT_NAT_GB, "{value} GB a month through NAT gateways"))
    if _interface_endpoints(plan):
        gb = usage.figure("endpoint_gb", DEFAULT_ENDPOINT_GB)
        built.lines.append(CostLine("network", f"interface endpoint data processing {gb:g} GB", gb, "GB", prices.price("interface_endpoint_gb")))
        built.assumptions.append(usage.says("endpoint_gb", DEFAULT_ENDPOINT_GB, "{value} GB a month through interface endpoints"))
    gb = usage.figure("internet_egress_gb", DEFAULT_INTERNET_EGRESS_GB)
    if gb:
        built.lines.append(CostLine("network", f"internet egress {gb:g} GB", gb, "GB", prices.price("internet_egress_gb")))
    built.assumptions.append(usage.says("internet_egress_gb", DEFAULT_INTERNET_EGRESS_GB, "{value} GB a month to the internet at the first tier's rate (the account's free 100 GB not counted)"))
    if zone_count(inputs.config) > 1:
        gb = usage.figure("cross_az_gb", DEFAULT_CROSS_AZ_GB)
        if gb:
            # Both sides pay: the sending zone's out and the receiving zone's in.
            built.lines.append(CostLine("network", f"cross-AZ transfer {gb:g} GB (charged out and in)", 2 * gb, "GB", prices.price("cross_az_gb")))
        built.assumptions.append(usage.says("cross_az_gb", DEFAULT_CROSS_AZ_GB, "{value} GB a month between zones"))


def _endpoint_suffix(endpoint: CapturedResource) -> str:
    service = str(endpoint.props.get("serviceName", ""))
    return service.split(".", 3)[-1] if service.startswith("com.amazonaws.") else service


def default_alb_lcu(config: EnvironmentConfig) -> float:
    """Quiet ALBs bill well under 1 LCU (public dev bills: 0.05-0.8); production carries traffic."""
    return DEFAULT_ALB_LCU_PRODUCTION if config.is_production else DEFAULT_ALB_LCU_OTHER


def load_balancer_lines(inputs: Inputs, built: Built) -> None:
    plan, prices, hours = inputs.plan, inputs.prices, inputs.hours
    lcu = inputs.usage.figure("alb_lcu", default_alb_lcu(inputs.config))
    # components/load_balancer.py always writes loadBalancerType and internal.
    albs = [lb for lb in plan.of_type("aws:lb/loadBalancer:LoadBalancer") if lb.props["loadBalancerType"] == "application"]
    for lb in albs:
        component = component_label(plan, lb)
        built.lines.append(CostLine(component, "Application Load Balancer", hours, "h", prices.price("alb_hour")))
        built.lines.append(CostLine(component, f"ALB capacity units ({lcu:g} LCU average)", lcu * hours, "LCU-h", prices.price("alb_lcu_hour")))
        if not lb.props["internal"]:
            # An internet-facing ALB holds (at least) one public IPv4 address per subnet.
            count = len(lb.props.get("subnets") or lb.props.get("subnetMappings") or [])
            if count:
                built.lines.append(CostLine(component, f"ALB public IPv4 x {count}", count * hours, "IP-h", prices.price("public_ipv4_hour")))
    if albs:
        tier = "production" if inputs.config.is_production else "non-production"
        built.assumptions.append(inputs.usage.says("alb_lcu", default_alb_lcu(inputs.config), "ALB at {value} LCU on average", f"the {tier} default"))


def _log_gb(inputs: Inputs, group: CapturedResource, component: str) -> tuple[float, float, float, Optional[str]]:
    """(expected, min, max) GB ingested a month by a log group, and its service."""
    config, usage = inputs.config, inputs.usage
    service = component.removeprefix("service ") if component.startswith("service ") else None
    if service in config.services:
        per_task = usage.figure("log_gb_per_task", DEFAULT_LOG_GB_PER_TASK)
        tasks = task_range(config, usage, service)
        return tasks.expected * per_task, tasks.min * per_task, tasks.max * per_task, service
    gb = usage.figure("flow_log_gb", DEFAULT_FLOW_LOG_GB) if component == "network" else OTHER_LOG_GB
    return gb, gb, gb, None


def log_lines(inputs: Inputs, built: Built) -> None:
    """Ingestion, and storage at steady state: a month's GB kept for the retention period."""
    plan, prices = inputs.plan, inputs.prices
    ingest, store = prices.price("logs_ingestion_gb"), prices.price("logs_storage_gb_month")
    for group in plan.of_type("aws:cloudwatch/logGroup:LogGroup"):
        component = component_label(plan, group)
        name = group.props.get("name", group.name)
        gb, low, high, service = _log_gb(inputs, group, component)
        if not (gb or high):
            continue
        built.lines.append(CostLine(component, f"log ingestion {name}", gb, "GB", ingest, service, low=low * ingest, high=high * ingest))
        months = float(group.props.get("retentionInDays") or 3653) / (365 / 12)
        built.lines.append(CostLine(component, f"log storage {name} ({months:.1f} months kept)", gb * months, "GB-month", store, service,
                                    low=low * months * store, high=high * months * store))
    usage = inputs.usage
    built.assumptions.append(
        usage.says("log_gb_per_task", DEFAULT_LOG_GB_PER_TASK, "log ingestion {value} GB per running task a month")
        + "; " + usage.says("flow_log_gb", DEFAULT_FLOW_LOG_GB, "{value} GB of flow logs a month")
        + f"; {OTHER_LOG_GB:g} GB per other log group; storage: each month's GB kept for the retention period, uncompressed (an upper bound)"
    )


def container_insights_lines(inputs: Inputs, built: Built) -> None:
    config, prices, usage = inputs.config, inputs.prices, inputs.usage
    mode = config.cluster.container_insights
    if mode == "disabled":
        return
    metric = prices.price("cloudwatch_metric_month")
    ranges = [task_range(config, usage, key) for key in sorted(config.services)]
    containers = [containers_per_task(config, key) for key in sorted(config.services)]

    def metrics(pick: Callable[[TaskRange], int]) -> int:
        fixed = CI_METRICS_PER_CLUSTER + CI_METRICS_PER_SERVICE * len(ranges)
        if mode != "enhanced":
            return fixed
        return fixed + sum(pick(r) * (CI_METRICS_PER_TASK + CI_METRICS_PER_CONTAINER * c) for r, c in zip(ranges, containers))

    expected = metrics(lambda r: r.expected)
    built.lines.append(CostLine("cluster", f"Container Insights ({mode}) {expected} metrics", expected, "metric-month", metric,
                                low=metrics(lambda r: r.min) * metric, high=metrics(lambda r: r.max) * metric))
    per_task = CI_LOG_GB_PER_TASK[mode]
    ingest = prices.price("logs_ingestion_gb")
    tasks = [sum(pick(r) for r in ranges) for pick in (lambda r: r.expected, lambda r: r.min, lambda r: r.max)]
    built.lines.append(CostLine("cluster", f"Container Insights performance log events ({per_task:g} GB per task)", tasks[0] * per_task, "GB", ingest,
                                low=tasks[1] * per_task * ingest, high=tasks[2] * per_task * ingest))
    detail = (f"+ {CI_METRICS_PER_TASK} per task and {CI_METRICS_PER_CONTAINER} per container " if mode == "enhanced" else "")
    built.assumptions.append(
        f"Container Insights ({mode}): {CI_METRICS_PER_CLUSTER} metrics per cluster, {CI_METRICS_PER_SERVICE} per service {detail}"
        f"as custom metrics, {per_task:g} GB of performance log events per task a month"
    )


def containers_per_task(config: EnvironmentConfig, key: str) -> int:
    """The app container plus its sidecars (the `sidecars` key arrives with issue #14)."""
    return 1 + len(getattr(config.services[key], "sidecars", None) or {})


def registry_lines(inputs: Inputs, built: Built) -> None:
    repositories = inputs.plan.of_type("aws:ecr/repository:Repository")
    if not repositories:
        return
    default = DEFAULT_ECR_GB_PER_REPOSITORY * len(repositories)
    gb = inputs.usage.figure("ecr_gb", default)
    built.lines.append(CostLine("registry", f"ECR storage {gb:g} GB in {len(repositories)} repositories", gb, "GB-month", inputs.prices.price("ecr_storage_gb_month")))
    built.assumptions.append(inputs.usage.says("ecr_gb", default, "{value} GB of images stored", f"default: {DEFAULT_ECR_GB_PER_REPOSITORY:g} GB per repository"))


def efs_lines(inputs: Inputs, built: Built) -> None:
    """Per storage.efs file system: Standard storage by the GB-month, and with elastic
    throughput each GB read and written (bursting includes its throughput in the storage price)."""
    config, prices, usage = inputs.config, inputs.prices, inputs.usage
    for key, file_system in sorted(config.storage.efs.items()):
        stored, stored_given = usage.efs(key, "storage_gb", DEFAULT_EFS_STORAGE_GB)
        figures = [(stored, stored_given)]
        built.lines.append(CostLine("storage", f"EFS {key} Standard storage {stored:g} GB", stored, "GB-month", prices.price("efs_standard_gb_month")))
        if file_system.throughput == "elastic":
            read, read_given = usage.efs(key, "read_gb", DEFAULT_EFS_READ_GB)
            written, written_given = usage.efs(key, "write_gb", DEFAULT_EFS_WRITE_GB)
            figures += [(read, read_given), (written, written_given)]
            built.lines.append(CostLine("storage", f"EFS {key} elastic throughput reads {read:g} GB", read, "GB", prices.price("efs_elastic_read_gb")))
            built.lines.append(CostLine("storage", f"EFS {key} elastic throughput writes {written:g} GB", written, "GB", prices.price("efs_elastic_write_gb")))
        where = f"from {usage.origin}" if any(given for _, given in figures) else f"defaults; set efs.{key} in {usage.origin}"
        traffic = f", {figures[1][0]:g} GB read and {figures[2][0]:g} GB written a month" if len(figures) > 1 else " (bursting: no transfer charge)"
        built.assumptions.append(
            f"EFS {key}: {stored:g} GB stored{traffic} ({where}); Standard storage only (no lifecycle to Infrequent Access); "
            "its AWS Backup copies are billed by AWS Backup and not included"
        )


def secret_lines(inputs: Inputs, built: Built) -> None:
    """Secrets Manager bills each secret a month, wherever it is read from."""
    referenced = {ref.secret for service in inputs.config.services.values() for ref in service.secrets.values() if ref.secret}
    created = inputs.plan.of_type("aws:secretsmanager/secret:Secret")
    count = len(referenced) + len(created)
    if count:
        built.lines.append(CostLine("environment", f"Secrets Manager secrets x {count} ({len(referenced)} referenced, {len(created)} created)",
                                    count, "secret-month", inputs.prices.price("secretsmanager_secret_month")))


def kms_lines(inputs: Inputs, built: Built) -> None:
    """$1 a key-month, and $1 more for each of a key's first two automatic rotations: a yearly
    rotated key costs $1 in its first year, $2 in its second, $3 from its third."""
    plan, prices = inputs.plan, inputs.prices
    rotation = prices.price("kms_rotation_month")
    rotated = 0
    for key in plan.of_type("aws:kms/key:Key"):
        component = component_label(plan, key)
        built.lines.append(CostLine(component, f"KMS key {key.name}", 1, "key-month", prices.price("kms_key_month")))
        if key.props.get("enableKeyRotation"):
            rotated += 1
            built.lines.append(CostLine(component, f"KMS key {key.name} rotated versions (1 expected, 0-{KMS_ROTATIONS_BILLED})", 1, "version-month", rotation,
                                        low=0.0, high=KMS_ROTATIONS_BILLED * rotation))
    if rotated:
        keys = "1 key rotates" if rotated == 1 else f"{rotated} keys rotate"
        built.assumptions.append(f"KMS: {keys} yearly; expected one billed rotated version per key (the three-year average), "
                                 f"none in the first year, {KMS_ROTATIONS_BILLED} from the third")


def alarm_lines(inputs: Inputs, built: Built) -> None:
    """CloudWatch charges an alarm per metric it evaluates (a metric-math alarm: each metric in
    its expression; the expression itself is free)."""
    plan, prices = inputs.plan, inputs.prices
    for alarm in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        metrics = sum(1 for query in alarm.props.get("metricQueries") or [] if query.get("metric")) or 1
        component = component_label(plan, alarm)
        service = component.removeprefix("service ") if component.startswith("service ") else None
        built.lines.append(CostLine(component, f"alarm {alarm.props.get('name', alarm.name)}", metrics, "alarm-metric-month",
                                    prices.price("cloudwatch_alarm_metric_month"), service))


def service_connect_note(inputs: Inputs, built: Built) -> None:
    """Cloud Map bills each instance registered in a namespace (Service Connect registers every
    server task) and the discovery calls. Not priced: the price table transcribes only rates
    whose pricing page, offer and usage type were checked, and no Cloud Map rate was (the build
    machines cannot reach the page or the Price List API); the assumption says so instead."""
    from configs.service_connect import is_server

    servers = sorted(key for key in inputs.config.services if is_server(inputs.config, key))
    if servers:
        built.assumptions.append(
            f"not priced: Cloud Map's charge per registered instance for the Service Connect servers' tasks "
            f"({', '.join(servers)}) and its discovery calls, small per task but not yet in review/prices with its "
            "page and usage type"
        )


# ---- jobs and task storage ------------------------------------------------------------------

# A job's state machine has one Task state (components/job.py): an execution enters it and ends,
# 2 transitions; each retry of a failed run is one more. Scheduler invokes it once per run.
STATE_TRANSITIONS_PER_RUN = 2
# Fargate gives every task 20 GB of storage; ephemeral_storage above it is billed per GB-hour.
# https://aws.amazon.com/fargate/pricing/
FARGATE_FREE_STORAGE_GB = 20


@dataclass(frozen=True)
class JobRuns:
    """A month of a job: runs and minutes (expected), and the most it can run (every run
    failing at the timeout and retried `retries` times)."""

    runs: float
    minutes: float
    max_runs: float
    max_minutes: int

    @property
    def task_hours(self) -> float:
        return self.runs * self.minutes / 60

    @property
    def max_task_hours(self) -> float:
        return self.max_runs * self.max_minutes / 60


def job_runs(config: EnvironmentConfig, usage: UsageFile, key: str) -> JobRuns:
    job = config.jobs[key]
    runs = runs_per_month(job.schedule) if job.schedule else usage.one_off_runs(key)
    return JobRuns(runs, usage.job_minutes(key, job.timeout_minutes), runs * (1 + job.retries), job.timeout_minutes)


def job_task_lines(inputs: Inputs, built: Built, key: str, month: JobRuns) -> None:
    """The job's task time on each provider of its strategy, in the share ECS gives it; the max
    prices Spot's share on-demand, as the service lines do."""
    config, prices = inputs.config, inputs.prices
    job, component = config.jobs[key], f"job {key}"
    shares = task_shares(config.strategy_for(key), 1)
    runs = f"{month.runs:g} runs x {month.minutes:g} min (max {month.max_runs:g} x {month.max_minutes} min)"
    for provider, share in shares.items():
        if not share:
            continue
        if provider in FARGATE_PROVIDERS:
            architecture = config.architecture_for(key)
            on_demand = fargate_task_hour(job.cpu, job.memory, *prices.fargate(architecture))
            price = fargate_task_hour(job.cpu, job.memory, *prices.fargate(architecture, spot=provider in SPOT_PROVIDERS))
            what = f"{'Fargate Spot' if provider in SPOT_PROVIDERS else 'Fargate'} {job.cpu / 1024:g} vCPU / {job.memory / 1024:g} GB {architecture}"
            unit, per_hour = "task-h", 1.0
        else:
            type_name = config.cluster.capacity.ec2[provider].instance_types[0]
            hourly, instance = prices.instance_hour(type_name), instance_type(type_name)
            if hourly is None or instance is None:
                built.notes.append(f"job {key}: no price or size for {type_name} in the {prices.region} table; its runs on {provider} not estimated")
                continue
            # The instances the task occupies while it runs, priced on demand: a run is too short
            # to say which of the provider's on-demand or Spot instances it lands on.
            per_hour = float(instances_to_place([(job.cpu, job.memory, job.gpu or 0)], instance))
            price = on_demand = hourly
            what = f"{provider}: {instance_label(instance)} on-demand"
            unit = "instance-h"
        quantity = month.task_hours * share * per_hour
        built.lines.append(CostLine(component, f"{what}: {runs}", quantity, unit, price,
                                    high=month.max_task_hours * share * per_hour * on_demand))


def job_lines(inputs: Inputs, built: Built) -> None:
    """Runs x minutes x the task's rate; scheduled jobs add Step Functions transitions and
    Scheduler invocations (their free tiers, 4,000 transitions and 14 million invocations a
    month, are not counted). A one-off job runs only when started: 0 runs unless the usage
    file says otherwise."""
    config, prices, usage = inputs.config, inputs.prices, inputs.usage
    for key, job in sorted(config.jobs.items()):
        month = job_runs(config, usage, key)
        job_task_lines(inputs, built, key, month)
        component = f"job {key}"
        if job.schedule:
            transition = prices.price("stepfunctions_transition")
            built.lines.append(CostLine(component, f"Step Functions state transitions ({STATE_TRANSITIONS_PER_RUN} per run, 1 per retry)",
                                        month.runs * STATE_TRANSITIONS_PER_RUN, "transition", transition,
                                        high=month.runs * (STATE_TRANSITIONS_PER_RUN + job.retries) * transition))
            built.lines.append(CostLine(component, f"EventBridge Scheduler invocations ({job.schedule})", month.runs, "invocation",
                                        prices.price("scheduler_invocation")))
            built.assumptions.append(
                f"job {key}: {month.runs:g} runs a month from {job.schedule} (counted over {REFERENCE_YEAR}, 730 h a month), "
                + usage_minutes(usage, key, month) + f"; max: every run stopped at timeout_minutes {job.timeout_minutes} "
                f"and retried {job.retries} times; free tiers of Step Functions and Scheduler not counted"
            )
        else:
            runs = usage.one_off_runs(key)
            where = f"from {usage.origin}" if usage.job(key).runs_per_month is not None else f"default; set jobs.{key}.runs_per_month in {usage.origin}"
            # A before: job runs at each `pulumi up` that changes its task definition: as many runs as such deploys.
            kind = f"runs before {', '.join(job.before)} roll out" if job.before else "one-off"
            built.assumptions.append(
                f"job {key} ({kind}): {runs:g} runs a month ({where}), " + usage_minutes(usage, key, month)
            )
    if any(config.uses_ec2(key) for key in config.jobs):
        built.assumptions.append(
            "jobs on EC2: the instances the task occupies for the run's minutes at on-demand rates (the instances "
            "managed scaling launches and keeps briefly around a run, and room on instances services keep, not counted)"
        )


def usage_minutes(usage: UsageFile, key: str, month: JobRuns) -> str:
    where = f"from {usage.origin}" if usage.job(key).minutes is not None else f"default, at most timeout_minutes; set jobs.{key}.minutes in {usage.origin}"
    return f"{month.minutes:g} minutes a run ({where})"


def ephemeral_storage_lines(inputs: Inputs, built: Built) -> None:
    """Fargate task storage above the free 20 GB, per task-hour: services at their task counts,
    jobs for their runs (the loader refuses ephemeral_storage on EC2 capacity). The items do not
    start with "Fargate ": review/budget.py reads those as the on-demand tasks Spot could take."""
    config, prices, hours = inputs.config, inputs.prices, inputs.hours
    rate = prices.price("fargate_ephemeral_gb_hour")
    for key, service in sorted(config.services.items()):
        if service.ephemeral_storage is None or config.uses_ec2(key):
            continue
        extra = service.ephemeral_storage - FARGATE_FREE_STORAGE_GB
        tasks = task_range(config, inputs.usage, key)
        built.lines.append(CostLine(
            f"service {key}", f"task storage {extra} GB above Fargate's free {FARGATE_FREE_STORAGE_GB} x {tasks.expected} tasks (min {tasks.min}, max {tasks.max})",
            extra * tasks.expected * hours, "GB-h", rate, key, low=extra * tasks.min * hours * rate, high=extra * tasks.max * hours * rate,
        ))
    for key, job in sorted(config.jobs.items()):
        if job.ephemeral_storage is None or config.uses_ec2(key):
            continue
        extra = job.ephemeral_storage - FARGATE_FREE_STORAGE_GB
        month = job_runs(config, inputs.usage, key)
        built.lines.append(CostLine(
            f"job {key}", f"task storage {extra} GB above Fargate's free {FARGATE_FREE_STORAGE_GB} for {month.task_hours:g} task-hours (max {month.max_task_hours:g})",
            extra * month.task_hours, "GB-h", rate, high=extra * month.max_task_hours * rate,
        ))

from review.cost_schedule import scheduled_capacity_lines  # noqa: E402  (it reads this module's helpers)

LINE_BUILDERS: list[LineBuilder] = [
    fargate_lines,
    scheduled_capacity_lines,
    ec2_lines,
    job_lines,
    ephemeral_storage_lines,
    network_lines,
    traffic_lines,
    load_balancer_lines,
    log_lines,
    container_insights_lines,
    registry_lines,
    efs_lines,
    secret_lines,
    kms_lines,
    alarm_lines,
    service_connect_note,
]


def delta(base: CostEstimate, head: CostEstimate) -> dict[str, tuple[float, float]]:
    """component -> (base, head) monthly USD, for every component on either side."""
    before, after = base.by_component(), head.by_component()
    return {name: (before.get(name, 0.0), after.get(name, 0.0)) for name in sorted(set(before) | set(after))}


def money(amount: float) -> str:
    """$1,234.50; a saving (a negative line) reads -$22.10."""
    return f"-${-amount:,.2f}" if round(amount, 2) < 0 else f"${abs(amount):,.2f}"


def money_range(cost: CostEstimate) -> str:
    """$X expected (min $A – max $B)/month: the form every report uses."""
    return f"{money(cost.expected)} expected (min {money(cost.min)} – max {money(cost.max)})/month"


def signed_money(amount: float) -> str:
    sign = "+" if amount >= 0.005 else ("-" if amount <= -0.005 else "±")
    return f"{sign}${abs(amount):,.2f}"
