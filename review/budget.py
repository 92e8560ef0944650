"""The environment's budget (`budget: {monthly_usd: N}`) against the estimate, and what would
save money.

An estimate over budget makes `plan` and `review diff` exit 4 (the same as a mandatory policy
violation), after the report says by how much and what drives it. The gate judges the expected
estimate; when the estimate has a range, its maximum is named too.

Savings are suggestions computed from the price table, never applied: each trades something
(resilience, interruption, availability outside working hours) that only the team can judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from configs.model import EnvironmentConfig
from review.cost import HOURS_PER_MONTH, CostEstimate, fargate_spot_discount, money
from review.offline import Plan
from review.prices import PriceTable

INTERFACE = "Interface"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
NAT = "aws:ec2/natGateway:NatGateway"
# Scheduled capacity: tasks running 12 h on 5 working days (60 of 168 hours a week).
WORKING_HOURS_SHARE = 60 / 168


@dataclass(frozen=True)
class Saving:
    monthly: float
    text: str


@dataclass(frozen=True)
class BudgetVerdict:
    limit: float
    expected: float
    maximum: Optional[float]  # the top of the estimate's range, when it has one
    drivers: tuple[tuple[str, float], ...]  # the largest components, largest first

    @property
    def exceeded(self) -> bool:
        return self.expected > self.limit

    @property
    def overrun(self) -> float:
        return self.expected - self.limit

    def headline(self) -> str:
        upto = f" (up to {money(self.maximum)})" if self.maximum is not None and self.maximum > self.expected else ""
        if self.exceeded:
            return (f"over budget: est. {money(self.expected)}/month{upto} exceeds the budget of {money(self.limit)} "
                    f"by {money(self.overrun)} ({self.overrun / self.limit:.0%})")
        return f"within budget: est. {money(self.expected)}/month{upto} of {money(self.limit)}"

    def driver_text(self) -> str:
        return "driven by " + ", ".join(f"{name} {money(amount)} ({amount / self.expected:.0%})" for name, amount in self.drivers)


def estimate_range(cost: CostEstimate) -> tuple[float, Optional[float]]:
    """(expected, maximum): the estimate's expected value and the top of its range."""
    return cost.expected, cost.max


def check_budget(config: EnvironmentConfig, cost: CostEstimate, top: int = 3) -> Optional[BudgetVerdict]:
    if config.budget is None:
        return None
    expected, maximum = estimate_range(cost)
    drivers = sorted(cost.by_component().items(), key=lambda item: (-item[1], item[0]))[:top]
    return BudgetVerdict(config.budget.monthly_usd, expected, maximum, tuple(drivers))


# ---- what would save money -------------------------------------------------------------------


def _interface_endpoint_az_hours(plan: Plan) -> int:
    return sum(len(e.props.get("subnetIds") or []) for e in plan.of_type(ENDPOINT) if e.props.get("vpcEndpointType") == INTERFACE)


def nat_savings(config: EnvironmentConfig, plan: Plan, prices: PriceTable, hours: float) -> list[Saving]:
    one_nat = hours * (prices.price("nat_gateway_hour") + prices.price("public_ipv4_hour"))
    per_gb = prices.price("nat_gateway_gb")
    endpoints = _interface_endpoint_az_hours(plan) * hours * prices.price("interface_endpoint_az_hour")
    nats = len(plan.of_type(NAT))
    found = []
    if config.network.nat == "none" and endpoints > one_nat:
        found.append(Saving(endpoints - one_nat, (
            f"network.nat: single with only the free S3 gateway endpoint instead of interface endpoints: "
            f"{money(one_nat)} for one NAT gateway and its address against {money(endpoints)} for the endpoints "
            f"(plus ${per_gb:g}/GB through the NAT; tasks then reach the internet)")))
    if nats > 1:
        found.append(Saving((nats - 1) * one_nat, (
            f"network.nat: single instead of {nats} NAT gateways (one per zone): one zone's failure then cuts "
            f"every zone's egress")))
    if nats and endpoints:
        found.append(Saving(endpoints, (
            f"network.endpoints: [s3] (the free gateway endpoint) instead of the interface endpoints: AWS API "
            f"traffic then goes through the NAT at ${per_gb:g}/GB")))
    return found


def _on_demand_fargate(config: EnvironmentConfig, cost: CostEstimate) -> dict[str, float]:
    """service -> monthly cost of its on-demand Fargate tasks."""
    result: dict[str, float] = {}
    for line in cost.lines:
        if line.service and line.component == f"service {line.service}" and line.item.startswith("Fargate ") and "Spot" not in line.item:
            result[line.service] = result.get(line.service, 0.0) + line.monthly
    return result


def spot_savings(config: EnvironmentConfig, cost: CostEstimate, discount: float) -> list[Saving]:
    """Half the on-demand Fargate tasks above one on Spot; services that already use Spot
    have chosen their share."""
    found = []
    for service, monthly in sorted(_on_demand_fargate(config, cost).items()):
        providers = {entry.provider for entry in config.strategy_for(service)}
        tasks = config.services[service].desired_count
        if "fargate_spot" in providers or tasks < 2:
            continue
        moved = (tasks - 1) / 2 / tasks
        found.append(Saving(monthly * moved * discount, (
            f"services.{service}.capacity: [{{provider: fargate, base: 1, weight: 1}}, {{provider: fargate_spot, weight: 1}}] "
            f"puts half its tasks above the first on Fargate Spot ({discount:.0%} off; Spot tasks can be interrupted)")))
    return found


def schedule_savings(config: EnvironmentConfig, cost: CostEstimate) -> list[Saving]:
    """Outside production, tasks that only need working hours (12 h x 5 days); services that
    already have an `autoscaling.schedule` have chosen theirs."""
    if config.is_production:
        return []
    unscheduled = {
        key for key, service in config.services.items() if not (service.autoscaling and service.autoscaling.schedule)
    }
    compute = sum(amount for key, amount in cost.by_service().items() if key in unscheduled)
    if compute <= 0:
        return []
    return [Saving(compute * (1 - WORKING_HOURS_SHARE), (
        f"scheduled capacity: scaling the services to 0 outside working hours (12 h on 5 days, {WORKING_HOURS_SHARE:.0%} "
        f"of the week) saves that share of their {money(compute)}/month")) ]


def savings(config: EnvironmentConfig, plan: Plan, cost: CostEstimate, prices: PriceTable) -> list[Saving]:
    """What would save money, largest first; suggestions only, nothing is changed."""
    found = nat_savings(config, plan, prices, HOURS_PER_MONTH)
    found += spot_savings(config, cost, fargate_spot_discount(prices))
    found += schedule_savings(config, cost)
    return sorted((s for s in found if s.monthly >= 0.5), key=lambda s: (-s.monthly, s.text))
