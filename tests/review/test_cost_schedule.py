"""The saving of scheduled capacity against always-on (review/cost_schedule.py), by hand, and
the diagram's queue."""

from __future__ import annotations

from review.budget import schedule_savings
from review.cost import estimate_cost, fargate_task_hour
from review.diagram import render_mermaid
from review.prices import load_prices
from tests.harness import edited, reference_config, reference_plan

EU = load_prices("eu-west-1")
# staging's worker: 1 vCPU / 2 GB x86_64; stopped 20:00-07:00 on weeknights and all weekend
# (103 h of the week's 168), 1-4 tasks for the 65 working hours.
ON_DEMAND = fargate_task_hour(1024, 2048, *EU.fargate("x86_64"))
MONTH_PER_WEEK = 730 / 168


def test_staging_worker_saving_against_always_on():
    cost = estimate_cost(reference_config("staging"), reference_plan("staging"), EU)
    [line] = [line for line in cost.lines if line.item.startswith("scheduled capacity")]
    assert (line.component, line.service, line.unit) == ("service worker", "worker", "task-h")
    assert line.item == "scheduled capacity (Europe/Dublin): 0-0 for 103 h/week, 1-4 for 65 h/week"
    # expected: 1 task (on-demand: the strategy's base) not running 103 h a week
    assert round(line.quantity, 6) == round(-103 * MONTH_PER_WEEK, 6)
    assert round(line.monthly, 6) == round(-103 * MONTH_PER_WEEK * ON_DEMAND, 6)
    # min: autoscaling.min 1 against 0 at night; max: autoscaling.max 4 against 0 at night, on-demand
    assert round(line.minimum, 6) == round(-103 * MONTH_PER_WEEK * ON_DEMAND, 6)
    assert round(line.maximum, 6) == round(-4 * 103 * MONTH_PER_WEEK * ON_DEMAND, 6)
    assert any(a.startswith("scheduled capacity: hours per week") for a in cost.assumptions)


def test_a_schedule_that_raises_capacity_costs_more():
    def weekday_peak(data):
        data["services"]["worker"]["autoscaling"]["schedule"] = [
            {"cron": "cron(0 9 ? * MON-FRI *)", "min": 3, "max": 4}, {"cron": "cron(0 17 ? * MON-FRI *)", "min": 1, "max": 4}]

    config = edited("staging", weekday_peak)
    [line] = [line for line in estimate_cost(config, reference_plan("staging"), EU).lines if line.item.startswith("scheduled")]
    assert line.item == "scheduled capacity (Europe/Dublin): 1-4 for 128 h/week, 3-4 for 40 h/week"
    assert round(line.monthly, 6) == round(2 * 40 * MONTH_PER_WEEK * ON_DEMAND, 6)  # 2 more tasks 40 h a week
    assert round(line.maximum, 6) == 0.0  # the maximum is the same 4


def test_no_saving_line_without_a_schedule():
    cost = estimate_cost(reference_config("prod"), reference_plan("prod"), EU)
    assert [line for line in cost.lines if line.item.startswith("scheduled capacity")] == []


def test_the_suggestion_leaves_out_services_that_have_a_schedule():
    config = reference_config("staging")
    cost = estimate_cost(config, reference_plan("staging"), EU)
    [suggestion] = schedule_savings(config, cost)
    others = sum(amount for key, amount in cost.by_service().items() if key != "worker")
    assert f"saves that share of their ${others:,.2f}/month" in suggestion.text


def test_the_diagram_shows_the_queue_feeding_the_worker():
    text = render_mermaid(reference_config("staging"), reference_plan("staging"))
    assert '  sqs_orders>"SQS orders"]' in text
    assert '  sqs_orders -->|"100 messages per task"| svc_worker' in text
    assert 'svc_worker["worker<br/>1 vCPU / 2 GB x 1<br/>autoscaling 1-4<br/>2 scheduled (Europe/Dublin)"]' in text
