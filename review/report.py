"""A plan report: everything `plan ENV` shows, computed once, rendered in any format."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from configs.model import EnvironmentConfig
from review.budget import BudgetVerdict, Saving, check_budget, savings
from review.cost import CostEstimate, estimate_cost
from review.diagram import render_mermaid
from review.offline import Plan
from review.prices import load_prices
from review.usage import UsageFile, load_usage
from review.verdict import PolicyResult


@dataclass(frozen=True)
class PlanReport:
    config: EnvironmentConfig
    plan: Plan
    cost: CostEstimate
    policy: Optional[PolicyResult]  # None when the verdict was not asked for
    diagram: str
    budget: Optional[BudgetVerdict] = None  # None when the environment sets no budget
    savings: tuple[Saving, ...] = ()

    @property
    def environment(self) -> str:
        return self.config.environment

    @property
    def resource_count(self) -> int:
        return sum(1 for r in self.plan.resources if r.custom)


def build_report(config: EnvironmentConfig, plan: Plan, policy: Optional[PolicyResult], usage: Optional[UsageFile] = None) -> PlanReport:
    prices = load_prices(config.aws.region)
    usage = usage or load_usage(config)
    cost = estimate_cost(config, plan, prices, usage)
    return PlanReport(config, plan, cost, policy, render_mermaid(config, plan), check_budget(config, cost),
                      tuple(savings(config, plan, cost, prices)))


def absent_report(head: PlanReport) -> PlanReport:
    """The side of a diff where the environment does not exist yet: no resources, $0, no
    findings. Diffed against it, everything the head plans is added and all its cost is new."""
    nothing = replace(head.cost, lines=(), shared_by_service={}, notes=())
    return PlanReport(head.config, Plan(head.environment), nothing, None, "", check_budget(head.config, nothing))
