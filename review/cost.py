"""An estimated monthly cost of an environment, from the validated config and the plan.

What would be *created* is counted from the plan (NAT gateways, their public IPs, interface
endpoints and their zones, the ALB, KMS keys, log groups); how much *runs* follows from the
config (task sizes, desired counts, capacity strategies, EC2 providers). Prices come from a
shipped table (review/prices); everything that is not a list price is an Assumption, stated
in every report. Each figure is a pure function of its inputs so it can be checked by hand.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Optional, Sequence

from configs.model import EnvironmentConfig, StrategyEntry
from review.offline import CapturedResource, Plan
from review.prices import PriceTable
from review.topology import component_label

FARGATE_PROVIDERS = ("fargate", "fargate_spot")

# vCPUs and memory (MiB) of the instance types the price tables carry: EC2 capacity is sized
# from these. ECS reserves a little memory on each instance for the agent; ignored here.
INSTANCE_SIZES: dict[str, tuple[int, int]] = {
    "m6i.large": (2, 8192), "m6i.xlarge": (4, 16384), "m5.large": (2, 8192), "m5.xlarge": (4, 16384),
    "m6g.large": (2, 8192), "m7g.large": (2, 8192), "c6i.large": (2, 4096), "c6g.large": (2, 4096),
    "t3.medium": (2, 4096), "t3.large": (2, 8192), "r6i.large": (2, 16384),
}


@dataclass(frozen=True)
class Assumptions:
    """What the estimate assumes beyond list prices. Shown with every estimate."""

    hours_per_month: float = 730.0  # AWS's own monthly convention (8760 h / 12)
    # Spot prices float with supply; AWS advertises "up to 70%" off for Fargate Spot and up to
    # 90% for EC2 Spot. These are typical discounts, not quotes.
    fargate_spot_discount: float = 0.70
    ec2_spot_discount: float = 0.60
    alb_lcu: float = 1.0  # average Load Balancer Capacity Units in use (a quiet ALB uses < 1)
    service_log_gb_per_task: float = 1.0  # GB of application logs per running task per month
    flow_log_gb: float = 5.0  # GB of VPC flow-log records per flow-log group per month
    other_log_gb: float = 0.5  # GB per month for any other log group (ECS Exec sessions, ...)

    def describe(self) -> list[str]:
        return [
            f"{self.hours_per_month:g} h per month; tasks run at their desired count all month",
            f"Fargate Spot {self.fargate_spot_discount:.0%} and EC2 Spot {self.ec2_spot_discount:.0%} below on-demand (Spot prices float)",
            "tasks split over a strategy as ECS places them: each base first, the rest by weight (fractional shares)",
            "EC2 capacity: enough of the first instance type for the tasks' vCPU and memory at the provider's target capacity, within min/max size",
            f"ALB at {self.alb_lcu:g} LCU on average",
            f"log ingestion: {self.service_log_gb_per_task:g} GB per task, {self.flow_log_gb:g} GB per flow-log group, "
            f"{self.other_log_gb:g} GB per other log group, per month",
            "not included: data transfer and NAT/endpoint data processing, log storage, ECR storage, "
            "Container Insights metrics, Secrets Manager and SSM API calls, taxes",
        ]


@dataclass(frozen=True)
class CostLine:
    component: str  # network, cluster, load balancer, service api, ...
    item: str  # what is charged, for a reader: "NAT gateway eu-west-1a"
    quantity: float  # in `unit`s per month
    unit: str
    unit_price: float  # USD per unit
    service: Optional[str] = None  # the service key a line belongs to, if any

    @property
    def monthly(self) -> float:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class CostEstimate:
    region: str
    citation: str
    lines: tuple[CostLine, ...]
    assumptions: Assumptions
    # Shared EC2 capacity apportioned to the services that use it, by vCPU demand.
    shared_by_service: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)

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


# ---- pure building blocks (checked against hand-computed figures in tests) ------------------


def task_shares(strategy: Sequence[StrategyEntry], tasks: float) -> dict[str, float]:
    """Tasks per provider: the entry with a base gets up to `base` tasks first, the rest is
    split by weight, as ECS places them (fractional: the long-run share of the placements)."""
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


def fargate_task_hour(cpu_units: int, memory_mib: int, vcpu_hour: float, gb_hour: float) -> float:
    """USD per hour of one task: Fargate bills the task's vCPUs and GB, not what it uses."""
    return cpu_units / 1024 * vcpu_hour + memory_mib / 1024 * gb_hour


def fargate_monthly(cpu_units: int, memory_mib: int, tasks: float, hours: float, vcpu_hour: float, gb_hour: float, discount: float = 0.0) -> float:
    return fargate_task_hour(cpu_units, memory_mib, vcpu_hour, gb_hour) * tasks * hours * (1 - discount)


def instances_needed(cpu_units: float, memory_mib: float, instance: tuple[int, int], target_capacity: int, min_size: int, max_size: int) -> int:
    """Instances an EC2 provider keeps: the binding resource (vCPU or memory) at the managed
    scaling target (90% means 10% headroom), never below min_size nor above max_size."""
    vcpus, mib = instance
    fill = max(cpu_units / (vcpus * 1024), memory_mib / mib)
    wanted = math.ceil(round(fill / (target_capacity / 100), 9))
    return max(min_size, min(max_size, wanted))


def on_demand_spot_split(instances: int, on_demand_base: int, on_demand_percent_above_base: int) -> tuple[float, float]:
    """(on-demand, Spot) instances of an Auto Scaling group's mixed instances policy."""
    base = min(instances, on_demand_base)
    above = instances - base
    on_demand = base + above * on_demand_percent_above_base / 100
    return on_demand, instances - on_demand


# ---- the estimate ---------------------------------------------------------------------------


def estimate_cost(config: EnvironmentConfig, plan: Plan, prices: PriceTable, assumptions: Assumptions = Assumptions()) -> CostEstimate:
    lines: list[CostLine] = []
    notes: list[str] = []
    lines += fargate_lines(config, prices, assumptions)
    ec2, shared, ec2_notes = ec2_lines(config, prices, assumptions)
    lines += ec2
    notes += ec2_notes
    lines += network_lines(plan, prices, assumptions)
    lines += load_balancer_lines(plan, prices, assumptions)
    lines += log_lines(config, plan, prices, assumptions)
    lines += kms_lines(plan, prices)
    lines += alarm_lines(plan, prices)
    return CostEstimate(prices.region, prices.citation, tuple(lines), assumptions, shared, tuple(notes))


def fargate_lines(config: EnvironmentConfig, prices: PriceTable, a: Assumptions) -> list[CostLine]:
    lines = []
    for key, service in sorted(config.services.items()):
        if config.uses_ec2(key):
            continue
        vcpu_hour, gb_hour = prices.fargate(config.architecture_for(key))
        task_hour = fargate_task_hour(service.cpu, service.memory, vcpu_hour, gb_hour)
        size = f"{service.cpu / 1024:g} vCPU / {service.memory / 1024:g} GB"
        for provider, tasks in task_shares(config.strategy_for(key), service.desired_count).items():
            if tasks == 0:
                continue
            spot = provider == "fargate_spot"
            label = f"Fargate Spot (-{a.fargate_spot_discount:.0%})" if spot else "Fargate"
            price = task_hour * (1 - a.fargate_spot_discount) if spot else task_hour
            lines.append(CostLine(f"service {key}", f"{label} {size} x {tasks:g} tasks", tasks * a.hours_per_month, "task-h", price, key))
    return lines


def ec2_demand(config: EnvironmentConfig, provider: str) -> dict[str, tuple[float, float]]:
    """service -> (CPU units, MiB) its tasks place on an EC2 provider at the desired count."""
    demand = {}
    for key, service in sorted(config.services.items()):
        tasks = task_shares(config.strategy_for(key), service.desired_count).get(provider, 0.0)
        if tasks:
            demand[key] = (tasks * service.cpu, tasks * service.memory)
    return demand


def ec2_lines(config: EnvironmentConfig, prices: PriceTable, a: Assumptions) -> tuple[list[CostLine], dict[str, float], list[str]]:
    lines: list[CostLine] = []
    shared: dict[str, float] = defaultdict(float)
    notes: list[str] = []
    for name, provider in sorted(config.cluster.capacity.ec2.items()):
        instance_type = provider.instance_types[0]
        hourly, size = prices.instance_hour(instance_type), INSTANCE_SIZES.get(instance_type)
        if hourly is None or size is None:
            notes.append(f"EC2 provider {name}: no price or size for {instance_type} in the {prices.region} table; not estimated")
            continue
        demand = ec2_demand(config, name)
        cpu = sum(c for c, _ in demand.values())
        memory = sum(m for _, m in demand.values())
        count = instances_needed(cpu, memory, size, provider.target_capacity, provider.min_size, provider.max_size)
        on_demand, spot = on_demand_spot_split(count, provider.on_demand_base, provider.on_demand_percent_above_base)
        provider_lines = [
            CostLine("cluster", f"{name}: {instance_type} on-demand x {on_demand:g}", on_demand * a.hours_per_month, "instance-h", hourly),
            CostLine("cluster", f"{name}: {instance_type} Spot (-{a.ec2_spot_discount:.0%}) x {spot:g}", spot * a.hours_per_month, "instance-h", hourly * (1 - a.ec2_spot_discount)),
            CostLine("cluster", f"{name}: gp3 root volumes {count} x {provider.root_volume_gb} GB", count * provider.root_volume_gb, "GB-month", prices.price("ebs_gp3_gb_month")),
        ]
        provider_lines = [line for line in provider_lines if line.quantity]
        lines += provider_lines
        provider_total = sum(line.monthly for line in provider_lines)
        for key, (service_cpu, _) in demand.items():
            shared[key] += provider_total * service_cpu / cpu
    return lines, dict(shared), notes


def _zone_of(resource: CapturedResource, plan: Plan) -> str:
    """The zone a NAT gateway serves, from its subnet's availabilityZone (names are zone-keyed)."""
    for subnet in plan.of_type("aws:ec2/subnet:Subnet"):
        zone = subnet.props.get("availabilityZone", "")
        if zone and resource.name.endswith(zone):
            return zone
    return resource.name


def network_lines(plan: Plan, prices: PriceTable, a: Assumptions) -> list[CostLine]:
    lines = []
    hours = a.hours_per_month
    for nat in plan.of_type("aws:ec2/natGateway:NatGateway"):
        lines.append(CostLine(component_label(plan, nat), f"NAT gateway {_zone_of(nat, plan)}", hours, "h", prices.price("nat_gateway_hour")))
    addresses = [eip for eip in plan.of_type("aws:ec2/eip:Eip")]
    if addresses:
        lines.append(CostLine(component_label(plan, addresses[0]), f"public IPv4 (Elastic IPs) x {len(addresses)}", len(addresses) * hours, "IP-h", prices.price("public_ipv4_hour")))
    interface = [e for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.props.get("vpcEndpointType") == "Interface"]
    if interface:
        az_hours = sum(len(e.props.get("subnetIds") or []) for e in interface) * hours
        services = ", ".join(sorted(_endpoint_suffix(e) for e in interface))
        zones = {len(e.props.get("subnetIds") or []) for e in interface}
        per = f"{'/'.join(str(z) for z in sorted(zones))} AZs"
        lines.append(CostLine(component_label(plan, interface[0]), f"interface endpoints x {len(interface)} in {per} ({services})", az_hours, "AZ-h", prices.price("interface_endpoint_az_hour")))
    return lines


def _endpoint_suffix(endpoint: CapturedResource) -> str:
    service = str(endpoint.props.get("serviceName", ""))
    return service.split(".", 3)[-1] if service.startswith("com.amazonaws.") else service


def load_balancer_lines(plan: Plan, prices: PriceTable, a: Assumptions) -> list[CostLine]:
    lines = []
    for lb in plan.of_type("aws:lb/loadBalancer:LoadBalancer"):
        if lb.props.get("loadBalancerType", "application") != "application":
            continue
        component = component_label(plan, lb)
        lines.append(CostLine(component, "Application Load Balancer", a.hours_per_month, "h", prices.price("alb_hour")))
        lines.append(CostLine(component, f"ALB capacity units ({a.alb_lcu:g} LCU assumed)", a.alb_lcu * a.hours_per_month, "LCU-h", prices.price("alb_lcu_hour")))
        if not lb.props.get("internal", False):
            # An internet-facing ALB holds (at least) one public IPv4 address per subnet.
            count = len(lb.props.get("subnets") or lb.props.get("subnetMappings") or [])
            if count:
                lines.append(CostLine(component, f"ALB public IPv4 x {count}", count * a.hours_per_month, "IP-h", prices.price("public_ipv4_hour")))
    return lines


def log_lines(config: EnvironmentConfig, plan: Plan, prices: PriceTable, a: Assumptions) -> list[CostLine]:
    lines = []
    for group in plan.of_type("aws:cloudwatch/logGroup:LogGroup"):
        component = component_label(plan, group)
        name = group.props.get("name", group.name)
        service = component.removeprefix("service ") if component.startswith("service ") else None
        if service in config.services:
            gb = config.services[service].desired_count * a.service_log_gb_per_task
        elif component == "network":
            gb = a.flow_log_gb
        else:
            gb = a.other_log_gb
        if gb:
            lines.append(CostLine(component, f"log ingestion {name}", gb, "GB", prices.price("logs_ingestion_gb"), service))
    return lines


def kms_lines(plan: Plan, prices: PriceTable) -> list[CostLine]:
    return [
        CostLine(component_label(plan, key), f"KMS key {key.name}", 1, "key-month", prices.price("kms_key_month"))
        for key in plan.of_type("aws:kms/key:Key")
    ]


def alarm_lines(plan: Plan, prices: PriceTable) -> list[CostLine]:
    """CloudWatch charges an alarm per metric it evaluates (a metric-math alarm: each metric in
    its expression; the expression itself is free)."""
    lines = []
    for alarm in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        metrics = sum(1 for query in alarm.props.get("metricQueries") or [] if query.get("metric")) or 1
        component = component_label(plan, alarm)
        service = component.removeprefix("service ") if component.startswith("service ") else None
        lines.append(CostLine(component, f"alarm {alarm.props.get('name', alarm.name)}", metrics, "alarm-metric-month",
                              prices.price("cloudwatch_alarm_metric_month"), service))
    return lines


def delta(base: CostEstimate, head: CostEstimate) -> dict[str, tuple[float, float]]:
    """component -> (base, head) monthly USD, for every component on either side."""
    before, after = base.by_component(), head.by_component()
    return {name: (before.get(name, 0.0), after.get(name, 0.0)) for name in sorted(set(before) | set(after))}


def money(amount: float) -> str:
    return f"${amount:,.2f}"


def signed_money(amount: float) -> str:
    sign = "+" if amount >= 0.005 else ("-" if amount <= -0.005 else "±")
    return f"{sign}${abs(amount):,.2f}"
