"""The saving of scheduled capacity (`autoscaling.schedule`) against always-on, as one negative
cost line per scheduled service: hours per week at each scheduled min/max (configs/schedules.py),
against the expected count, the autoscaling minimum and maximum the other lines price all month.

- expected: the expected count, held within each window's min-max;
- min: the autoscaling minimum against each window's min;
- max: the autoscaling maximum against each window's max.

A task-hour is priced as the service's own lines price it: Fargate by the strategy's split at
that count (Spot favoured at the min, on-demand at the max); EC2 as the task's share of an
instance of the provider's first type at its managed-scaling target (the provider's min_size
may keep instances running that this line counts as saved).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

from configs.instance_types import instance_type
from configs.schedules import HOURS_PER_WEEK, CapacityWindow, Entry, weekly_capacity

if TYPE_CHECKING:
    from review.cost import Built, Inputs


def scheduled_capacity_lines(inputs: "Inputs", built: "Built") -> None:
    from review.cost import CostLine, task_range

    config = inputs.config
    scheduled = False
    for key, service in sorted(config.services.items()):
        scaling = service.autoscaling
        if scaling is None or not scaling.schedule:
            continue
        scheduled = True
        windows = weekly_capacity([Entry(e.cron, e.min, e.max) for e in scaling.schedule], (scaling.min, scaling.max))
        prices = _task_hour_prices(inputs, key)
        if prices is None:
            built.notes.append(f"service {key}: scheduled capacity not estimated (no price for its capacity)")
            continue
        tasks = task_range(config, inputs.usage, key)
        month = inputs.hours / HOURS_PER_WEEK
        expected = saved_task_hours(windows, lambda w: tasks.expected - min(max(tasks.expected, w.min), w.max)) * month
        low = saved_task_hours(windows, lambda w: tasks.min - w.min) * month
        high = saved_task_hours(windows, lambda w: tasks.max - w.max) * month
        built.lines.append(CostLine(
            f"service {key}", f"scheduled capacity ({scaling.timezone}): {describe(windows)}",
            -expected, "task-h", prices[1], key, low=-low * prices[0], high=-high * prices[2],
        ))
    if scheduled:
        built.assumptions.append(
            "scheduled capacity: hours per week at each scheduled min-max from the cron entries (52 weeks, local time; "
            "at() and rate() entries not counted), saved against always-on at the expected count, the autoscaling "
            "minimum and maximum"
        )


def saved_task_hours(windows: tuple[CapacityWindow, ...], fewer: Callable[[CapacityWindow], int]) -> float:
    """Task-hours per week the schedule saves (negative: it adds capacity)."""
    return sum(fewer(window) * window.hours_per_week for window in windows)


def describe(windows: tuple[CapacityWindow, ...]) -> str:
    """`0-0 for 108 h/week, 1-4 for 60 h/week` (min-max tasks)."""
    return ", ".join(f"{w.min}-{w.max} for {w.hours_per_week:g} h/week" for w in windows)


def _task_hour_prices(inputs: "Inputs", key: str) -> Optional[tuple[float, float, float]]:
    """USD per task-hour at the (min, expected, max) ends."""
    from review.cost import SPOT_PROVIDERS, fargate_task_hour, task_range, task_shares, whole_task_split

    config, prices = inputs.config, inputs.prices
    service, strategy = config.services[key], config.strategy_for(key)
    if config.uses_ec2(key):
        provider = config.cluster.capacity.ec2[strategy[0].provider]
        hourly, instance = prices.instance_hour(provider.instance_types[0]), instance_type(provider.instance_types[0])
        if hourly is None or instance is None:
            return None
        share = max(service.cpu / instance.cpu_units, service.memory / instance.memory_mib) * 100 / provider.target_capacity
        return (hourly * share,) * 3
    architecture = config.architecture_for(key)
    on_demand = fargate_task_hour(service.cpu, service.memory, *prices.fargate(architecture))
    spot = fargate_task_hour(service.cpu, service.memory, *prices.fargate(architecture, spot=True))

    def blended(split: dict) -> float:
        total = sum(split.values())
        if not total:
            return on_demand
        return sum(count * (spot if provider in SPOT_PROVIDERS else on_demand) for provider, count in split.items()) / total

    tasks = task_range(config, inputs.usage, key)
    low = blended(whole_task_split(strategy, max(tasks.min, 1), favour=SPOT_PROVIDERS))
    expected = blended(task_shares(strategy, max(tasks.expected, 1)))
    return low, expected, on_demand
