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
from review.policy_verdict import PolicyPackClient
from review.verdict import PolicyFeed, policy_results

QUIET = Progress(enabled=False)


def _plans(configs: list[EnvironmentConfig], progress: Progress) -> list[Plan]:
    plans = []
    for config in configs:
        with progress.step(f"running the program for {config.environment} under Pulumi mocks"):
            plans.append(run_program(config))
    return plans


def _policies(configs: list[EnvironmentConfig], plans: list[Plan], enabled: bool, progress: Progress) -> list[Optional[object]]:
    """The verdicts of plans already made (tests pass them in)."""
    if not enabled:
        return [None] * len(configs)
    with progress.step("asking the policy pack (CrossGuard, over gRPC)"):
        return list(policy_results(list(zip(configs, plans))))


def _plans_and_policies(configs: list[EnvironmentConfig], enabled: bool, progress: Progress) -> tuple[list[Plan], list[Optional[object]]]:
    """The programs, each judged while it runs. The pack's process is spawned first, so its
    start-up (imports, about a second) runs on the other core while the program starts here;
    then each resource goes to the pack as it is registered (PolicyFeed), so the pack's
    evaluation overlaps the program too, and only AnalyzeStack is left when it ends."""
    if not enabled:
        return _plans(configs, progress), [None] * len(configs)
    plans, verdicts = [], []
    pack = PolicyPackClient(stack=configs[0].environment).spawn()  # connected by the first feed
    try:
        for config in configs:
            with progress.step(f"running the program for {config.environment} under Pulumi mocks, the policy pack judging each resource"):
                feed = PolicyFeed(pack, config)
                try:
                    plans.append(run_program(config, on_register=feed.submit))
                except BaseException:
                    feed.abandon()
                    raise
                verdicts.append(feed.result())
    finally:
        pack.close()
    return plans, verdicts


def plan_report(config: EnvironmentConfig, *, policy: bool = True, progress: Progress = QUIET, plan: Optional[Plan] = None) -> PlanReport:
    usage = load_usage(config)  # a bad usage file is reported before the program runs
    if plan is not None:
        plans, (verdict,) = [plan], _policies([config], [plan], policy, progress)
    else:
        plans, (verdict,) = _plans_and_policies([config], policy, progress)
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
    if plans is not None:
        (base_plan, head_plan), verdicts = plans, _policies([base, head], list(plans), policy, progress)
    else:
        (base_plan, head_plan), verdicts = _plans_and_policies([base, head], policy, progress)
    base_report = build_report(base, base_plan, verdicts[0], usage)
    head_report = build_report(head, head_plan, verdicts[1], usage)
    return DiffReport(base_report, head_report, diff_plans(base_plan, head_plan), *labels)
