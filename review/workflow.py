"""The steps of `plan` and `diff`: run the program under mocks, ask the policy pack, build
the reports. Kept apart from the CLI so tests drive the same path with fixed inputs."""

from __future__ import annotations

from typing import Optional

from configs.model import EnvironmentConfig
from review.diff import diff_plans
from review.offline import Plan, run_program
from review.progress import Progress
from review.render import DiffReport
from review.report import PlanReport, absent_report, build_report
from review.usage import load_usage
from review.verdict import policy_results

QUIET = Progress(enabled=False)


def _plans(configs: list[EnvironmentConfig], progress: Progress) -> list[Plan]:
    plans = []
    for config in configs:
        with progress.step(f"running the program for {config.environment} under Pulumi mocks"):
            plans.append(run_program(config))
    return plans


def _policies(configs: list[EnvironmentConfig], plans: list[Plan], enabled: bool, progress: Progress) -> list[Optional[object]]:
    if not enabled:
        return [None] * len(configs)
    with progress.step("asking the policy pack (CrossGuard, over gRPC)"):
        return list(policy_results(list(zip(configs, plans))))


def plan_report(config: EnvironmentConfig, *, policy: bool = True, progress: Progress = QUIET, plan: Optional[Plan] = None) -> PlanReport:
    usage = load_usage(config)  # a bad usage file is reported before the program runs
    plans = [plan] if plan is not None else _plans([config], progress)
    (verdict,) = _policies([config], plans, policy, progress)
    return build_report(config, plans[0], verdict, usage)


def diff_report(
    base: Optional[EnvironmentConfig],
    head: EnvironmentConfig,
    labels: tuple[str, str],
    *,
    policy: bool = True,
    progress: Progress = QUIET,
    plans: Optional[tuple[Optional[Plan], Plan]] = None,
) -> DiffReport:
    """base None: the environment is new (its file does not exist at the base ref)."""
    if base is None:
        head_report = plan_report(head, policy=policy, progress=progress, plan=plans[1] if plans else None)
        base_report = absent_report(head_report)
        return DiffReport(base_report, head_report, diff_plans(base_report.plan, head_report.plan), *labels)
    # One usage file (the working tree's) for both sides: the cost delta is the config's change.
    usage = load_usage(head)
    base_plan, head_plan = plans if plans is not None else _plans([base, head], progress)
    verdicts = _policies([base, head], [base_plan, head_plan], policy, progress)
    base_report = build_report(base, base_plan, verdicts[0], usage)
    head_report = build_report(head, head_plan, verdicts[1], usage)
    return DiffReport(base_report, head_report, diff_plans(base_plan, head_plan), *labels)
