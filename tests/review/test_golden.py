"""Golden outputs of `plan` and `diff` on the reference environments and on prepared changes,
plus exact contracts for what each prepared change must show.

Regenerate after an intended change:  UPDATE_GOLDEN=1 python3 run.py test tests/review
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from functools import lru_cache
from pathlib import Path

import pytest

from review.cost import money, money_range
from review.render import render_diff, render_plan
from review.workflow import diff_report, plan_report
from review.verdict import policy_results
from tests.harness import edited, plan_of, reference_config, reference_plan

GOLDEN = Path(__file__).resolve().parent / "golden"
# The environments whose plans are pinned as goldens: the shipped examples (a user's new
# environment gets every other per-environment test, and a golden once one is committed).
GOLDEN_ENVIRONMENTS = tuple(sorted(path.name[len("plan-"):-len(".txt")] for path in GOLDEN.glob("plan-*.txt")))


def add_service(data):
    data["services"]["billing"] = {"image": {"uri": "public.ecr.aws/acme/billing:v1.0.0"}, "cpu": 256, "memory": 512, "user": "10001"}


def change_private_prefix(data):
    data["network"]["subnet_prefix"] = {"public": 24, "private": 21}


def switch_nat(data):
    data["network"]["nat"] = "single"


def raise_desired_count(data):
    data["services"]["api"]["desired_count"] = 4


def widen_worker_access(data):
    """read -> read+write on one queue: the issue's example (sqs:DeleteQueue, sqs:PurgeQueue gained)."""
    data["services"]["worker"]["access"] = {"read": [ORDERS_QUEUE], "write": [ORDERS_QUEUE]}


def bump_api_image(data):
    data["services"]["api"]["image"]["tag"] = "v1.5.0"
    data["services"]["api"]["environment"]["FEATURE_FLAGS"] = "checkout-v2"


def open_alb_to_the_internet(data):
    data["load_balancer"]["ingress_cidrs"] = ["0.0.0.0/0"]


def change_vpc_cidr(data):
    data["network"]["cidr"] = "10.40.0.0/16"


def add_a_large_service_over_budget(data):
    """dev's budget is $250; a 4 vCPU / 8 GB service with 2 tasks (on dev's 4:1 Spot strategy) goes over."""
    data["budget"] = {"monthly_usd": 250}
    data["services"]["search"] = {"image": {"uri": "public.ecr.aws/acme/search:v1.0.0"}, "cpu": 4096, "memory": 8192,
                                  "user": "10001", "desired_count": 2}


ORDERS_QUEUE = "arn:aws:sqs:eu-west-1:111111111111:orders"
# name -> (the environment it edits, the edit); the base of every change is that environment
# as checked in, except where BASES gives an edited base.
CHANGES = {
    "add-service": ("dev", add_service), "subnet-cidr": ("dev", change_private_prefix), "nat-single": ("dev", switch_nat),
    "desired-count": ("dev", raise_desired_count), "iam-gained": ("dev", widen_worker_access),
    "image-bump": ("dev", bump_api_image), "open-ingress": ("dev", open_alb_to_the_internet),
    "vpc-cidr": ("prod", change_vpc_cidr), "over-budget": ("dev", add_a_large_service_over_budget),
}
BASES = {"iam-gained": "worker-reads-orders", "over-budget": "dev-with-budget"}
BASE_EDITS = {
    "worker-reads-orders": ("dev", lambda data: data["services"]["worker"].update(access={"read": [ORDERS_QUEUE]})),
    "dev-with-budget": ("dev", lambda data: data.update(budget={"monthly_usd": 250})),
}


@lru_cache(maxsize=None)
def verdicts():
    """Every side's verdict from one pack process (starting it is the slow part)."""
    sides = [(reference_config(env), reference_plan(env)) for env in GOLDEN_ENVIRONMENTS]
    sides += [(changed_config(name), changed_plan(name)) for name in [*CHANGES, *BASE_EDITS]]
    results = policy_results(sides)
    return dict(zip([*GOLDEN_ENVIRONMENTS, *CHANGES, *BASE_EDITS], results))


@lru_cache(maxsize=None)
def changed_config(name):
    environment, edit = CHANGES.get(name) or BASE_EDITS[name]
    return edited(environment, edit)


@lru_cache(maxsize=None)
def changed_plan(name):
    return plan_of(changed_config(name))


def plan_of_reference(env):
    return plan_report(reference_config(env), policy=False, plan=reference_plan(env))


def with_policy(report, name):
    return dataclasses.replace(report, policy=verdicts()[name])


def base_of(name):
    """(config, plan, verdict key) of the side a change starts from."""
    if name in BASES:
        return changed_config(BASES[name]), changed_plan(BASES[name]), BASES[name]
    environment = CHANGES[name][0]
    return reference_config(environment), reference_plan(environment), environment


def change_report(name):
    base_config, base_plan, base_key = base_of(name)
    report = diff_report(base_config, changed_config(name), ("main", name), policy=False, plans=(base_plan, changed_plan(name)))
    return type(report)(with_policy(report.base, base_key), with_policy(report.head, name), report.diff, report.base_label, report.head_label)


def check_golden(name: str, text: str) -> None:
    """Compares `text` with the golden file. With UPDATE_GOLDEN=1 (never in CI) it rewrites the
    file instead and prints the diff, so a human reads every rewritten golden before committing
    it; the comparison then runs against what was there before, so an update never passes a
    test by comparing a file with itself."""
    path = GOLDEN / name
    expected = path.read_text() if path.exists() else ""
    if updating_goldens() and expected != text + "\n":
        path.write_text(text + "\n")
        print(golden_diff(name, expected, text + "\n"))
        pytest.fail(f"{name} rewritten (UPDATE_GOLDEN=1); review the diff above, then run the tests without it")
    assert path.exists(), f"{path.name} is missing; run with UPDATE_GOLDEN=1 and review the file"
    assert text + "\n" == expected, golden_diff(name, expected, text + "\n")


def updating_goldens() -> bool:
    """UPDATE_GOLDEN=1 rewrites goldens; under CI (CI set) that would approve any output."""
    if os.environ.get("UPDATE_GOLDEN") != "1":
        return False
    if os.environ.get("CI"):
        raise RuntimeError("UPDATE_GOLDEN=1 is refused when CI is set: goldens are reviewed and committed by a human")
    return True


def golden_diff(name: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{name}", f"b/{name}")
    return "".join(lines)


@pytest.mark.parametrize("env", GOLDEN_ENVIRONMENTS)
@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_plan_golden(env, fmt):
    report = with_policy(plan_of_reference(env), env)
    check_golden(f"plan-{env}.{ {'text': 'txt', 'markdown': 'md', 'json': 'json'}[fmt] }", render_plan(report, fmt))


@pytest.mark.parametrize("env", GOLDEN_ENVIRONMENTS)
def test_reference_environment_against_itself_has_no_changes(env):
    report = diff_report(reference_config(env), reference_config(env), ("main", "working tree"), policy=False,
                         plans=(reference_plan(env), reference_plan(env)))
    assert report.diff.changes == ()
    check_golden(f"diff-{env}-unchanged.txt", render_diff(report, "text"))


@pytest.mark.parametrize("name", list(CHANGES))
@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_diff_golden(name, fmt):
    check_golden(f"diff-{name}.{'md' if fmt == 'markdown' else 'json'}", render_diff(change_report(name), fmt))


def actions(report, type_):
    return sorted((c.action, c.name) for c in report.diff.changes if c.type == type_)


def test_subnet_cidr_change_replaces_the_private_subnets_and_what_holds_their_ids():
    report = change_report("subnet-cidr")
    assert actions(report, "aws:ec2/subnet:Subnet") == [("replace", "dev-network-private-eu-west-1a"), ("replace", "dev-network-private-eu-west-1b")]
    associations = actions(report, "aws:ec2/routeTableAssociation:RouteTableAssociation")
    assert associations == [("replace", "dev-network-private-eu-west-1a-rta"), ("replace", "dev-network-private-eu-west-1b-rta")]
    assert "**REPLACED**" in render_diff(report, "markdown")


def test_desired_count_is_a_change_the_service_ignores():
    report = change_report("desired-count")
    service = next(c for c in report.diff.changes if c.type == "aws:ecs/service:Service")
    assert (service.action, [(p.path, p.before, p.after, p.effect) for p in service.changes]) == (
        "ignored", [("desiredCount", 1.0, 4.0, "ignored")])


def test_single_nat_adds_one_gateway_and_its_address_and_costs_their_hours():
    report = change_report("nat-single")
    added = sorted(c.type for c in report.diff.changes if c.action == "add")
    assert added.count("aws:ec2/natGateway:NatGateway") == 1 and added.count("aws:ec2/eip:Eip") == 1
    # eu-west-1: 730 h x 0.048 (NAT) + 730 h x 0.005 (public IPv4) + 20 GB (the default usage)
    # x 0.048 of NAT data processing = 35.04 + 3.65 + 0.96
    nat_delta = report.head.cost.by_component()["network"] - report.base.cost.by_component()["network"]
    assert round(nat_delta, 2) == 39.65


def test_added_service_is_added_and_costs_its_tasks():
    report = change_report("add-service")
    assert ("add", "dev-billing-service") in actions(report, "aws:ecs/service:Service")
    assert not [c for c in report.diff.changes if c.action in ("remove", "replace")]
    # 1 task at 0.25 x 0.04048 + 0.5 x 0.004445 = 0.0123425/h x 730 = 9.010025 on demand; dev's
    # strategy puts 1/5 on FARGATE and 4/5 on FARGATE_SPOT at 70% off (as whole tasks: on Spot at
    # the min, on demand at the max)
    on_demand, spot = 9.010025 * 0.2, 9.010025 * 0.8 * 0.3
    # Its log group /ecs/dev/billing: 1 GB per task and month at eu-west-1's $0.57/GB, kept dev's
    # 7 days at $0.03/GB-month.
    log_ingestion, log_storage = 1 * 0.57, 1 * 7 / (365 / 12) * 0.03
    lines = {line.item: round(line.monthly, 4) for line in report.head.cost.lines if line.service == "billing"}
    assert lines == {
        "Fargate 0.25 vCPU / 0.5 GB x86_64 x 0.2 tasks (min 0, max 1)": round(on_demand, 4),
        "Fargate Spot 0.25 vCPU / 0.5 GB x86_64 x 0.8 tasks (min 1, max 0)": round(spot, 4),
        "log ingestion /ecs/dev/billing": log_ingestion,
        "log storage /ecs/dev/billing (0.2 months kept)": round(log_storage, 4),
    }
    assert round(report.head.cost.by_service()["billing"], 4) == round(on_demand + spot + log_ingestion + log_storage, 4)


def test_goldens_are_never_rewritten_under_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("UPDATE_GOLDEN", "1")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(RuntimeError, match="UPDATE_GOLDEN=1 is refused when CI is set"):
        check_golden("plan-dev.txt", "anything")
    monkeypatch.delenv("CI")
    assert updating_goldens() is True


def test_an_update_fails_the_test_and_shows_the_diff(monkeypatch, capsys):
    name = "scratch-golden-test.txt"
    path = GOLDEN / name
    path.write_text("old line\n")
    try:
        monkeypatch.setenv("UPDATE_GOLDEN", "1")
        monkeypatch.delenv("CI", raising=False)
        with pytest.raises(pytest.fail.Exception, match="scratch-golden-test.txt rewritten"):
            check_golden(name, "new line")
        assert path.read_text() == "new line\n"
        assert "-old line\n+new line" in capsys.readouterr().out
        check_golden(name, "new line")  # unchanged: an update run passes
        monkeypatch.delenv("UPDATE_GOLDEN")
        with pytest.raises(AssertionError, match="-new line"):
            check_golden(name, "other line")
    finally:
        path.unlink()


def test_widened_access_diffs_the_policy_as_grants_and_calls_out_the_write_actions_gained():
    report = change_report("iam-gained")
    (change,) = report.diff.changes
    assert (change.action, change.name) == ("update", "dev-worker-task-policy")
    gained = ["sqs:CancelMessageMoveTask", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:DeleteQueue",
              "sqs:PurgeQueue", "sqs:SendMessage", "sqs:StartMessageMoveTask"]
    assert change.meaning.lines == (f"policy + Allow on {ORDERS_QUEUE}: {', '.join(gained)}",)
    assert [a.text for a in change.attention] == [f"policy gains Write: {', '.join(gained)} on {ORDERS_QUEUE}"]
    markdown = render_diff(report, "markdown")
    attention = markdown.split("**Needs attention:**", 1)[1].split("<details>", 1)[0]
    assert "sqs:DeleteQueue" in attention and "sqs:PurgeQueue" in attention
    assert '{"Version"' not in markdown  # the document is never shown as a cut-off JSON string


def test_same_grants_spelled_with_a_wildcard_are_no_change():
    from review.semantic import grants

    spelled = {"Statement": [{"Effect": "Allow", "Action": ["sqs:DeleteMessage", "SQS:deletequeue"], "Resource": ORDERS_QUEUE}]}
    pattern = {"Statement": [{"Effect": "Allow", "Action": "sqs:Delete*", "Resource": [ORDERS_QUEUE]}]}
    assert grants(spelled) == grants(pattern)


def test_image_bump_shows_repository_and_both_tags_in_full():
    report = change_report("image-bump")
    (change,) = [c for c in report.diff.changes if c.type == "aws:ecs/taskDefinition:TaskDefinition"]
    assert change.action == "new-revision"
    assert change.meaning.lines == (
        "container api: image 111111111111.dkr.ecr.eu-west-1.amazonaws.com/dev/api: tag v1.4.2 -> v1.5.0",
        "container api: environment + FEATURE_FLAGS=checkout-v2",
    )


def test_secret_looking_environment_values_are_masked():
    from review.semantic import container_lines

    before = [{"name": "app", "image": "repo:v1", "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}]}]
    after = [{"name": "app", "image": "repo:v1", "environment": [{"name": "DB_PASSWORD", "value": "hunter3"}, {"name": "MODE", "value": "a"}]}]
    assert container_lines(before, after) == ["container app: environment DB_PASSWORD: **** -> ****", "container app: environment + MODE=a"]


def test_opening_the_load_balancer_is_a_new_ingress_flow_from_the_internet():
    report = change_report("open-ingress")
    assert [(a.resource, a.text) for a in report.diff.attention] == [
        ("dev-alb-sg-in-80-0-0-0-0-0", "new ingress 0.0.0.0/0 -> dev-alb-sg:80/tcp (from the internet)")]
    removed = next(c for c in report.diff.changes if c.action == "remove")
    assert removed.meaning.lines == ("no longer allows ingress 203.0.113.0/24 -> dev-alb-sg:80/tcp",)


def test_vpc_cidr_change_lists_the_services_the_load_balancer_and_the_auto_scaling_group_as_dependents():
    report = change_report("vpc-cidr")
    updated = {(c.type, c.name): c.because for c in report.diff.changes if c.action == "update"}
    assert updated[("aws:ecs/service:Service", "prod-api-service")] == "prod-alb-tg-api"  # its name carries the VPC range
    assert updated[("aws:ecs/service:Service", "prod-worker-service")] == "prod-network-private-eu-west-1a"
    assert updated[("aws:lb/loadBalancer:LoadBalancer", "prod-alb")] == "prod-network-public-eu-west-1a"
    assert updated[("aws:autoscaling/group:Group", "prod-cluster-general-asg")] == "prod-network-private-eu-west-1a"
    replaced = {c.name: c.because for c in report.diff.changes if c.action == "replace"}
    assert replaced["prod-network-vpc"] is None and replaced["prod-api-sg"] == "prod-network-vpc"
    assert "updated in place (because prod-network-private-eu-west-1a is replaced)" in render_diff(report, "text")


def test_a_new_environment_is_all_added_and_its_cost_goes_from_zero():
    report = diff_report(None, reference_config("dev"), ("main (no configs/dev.yaml)", "working tree"), policy=False,
                         plans=(None, reference_plan("dev")))
    report = type(report)(report.base, with_policy(report.head, "dev"), report.diff, report.base_label, report.head_label)
    custom = [r for r in reference_plan("dev").resources if r.custom]
    assert report.diff.counts()["add"] == len(custom) and len(report.diff.changes) == len(custom)
    assert report.base.cost.total == 0 and report.base.plan.resources == []
    total = money(report.head.cost.total)
    assert f"cost **+{total}/month** ($0.00 → {money_range(report.head.cost)})" in render_diff(report, "markdown").splitlines()[0]
    check_golden("diff-new-environment.md", render_diff(report, "markdown"))


def test_files_resolve_their_extends_next_to_each_file(tmp_path):
    from configs.loader import load_environment

    for side, tag in (("old", "v2.0.0"), ("new", "v2.1.0")):
        folder = tmp_path / side
        folder.mkdir()
        (folder / "dev.yaml").write_text((GOLDEN.parents[2] / "configs" / "dev.yaml").read_text())
        (folder / "base.yaml").write_text((GOLDEN.parents[2] / "configs" / "base.yaml").read_text().replace("tag: v2.0.0", f"tag: {tag}"))
    report = diff_report(load_environment(tmp_path / "old" / "dev.yaml"), load_environment(tmp_path / "new" / "dev.yaml"),
                         ("old", "new"), policy=False)
    (change,) = report.diff.changes
    assert change.name == "dev-worker-task-definition"
    assert change.meaning.lines == ("container worker: image 111111111111.dkr.ecr.eu-west-1.amazonaws.com/dev/worker: tag v2.0.0 -> v2.1.0",)


def test_over_budget_says_by_how_much_and_what_drives_it_and_exits_4():
    from review.exit_status import BLOCKED, DONE, exit_status

    report = change_report("over-budget")
    assert report.base.budget is not None and not report.base.budget.exceeded
    budget = report.head.budget
    assert budget.limit == 250 and budget.exceeded
    # search: 2 tasks x (4 x 0.04048 + 8 x 0.004445) = 0.39496/h x 730 h = 288.3208 on demand, 4:1 on
    # Spot at 70% off: x (0.2 + 0.8 x 0.3) = 126.861152; plus 2 GB of logs x 0.57 = 1.14 and their
    # 7 days' storage 2 x 7 / (365 / 12) x 0.03 = 0.013808: 128.014960. Container Insights: one more
    # service, 24 metrics x 0.30 = 7.20, and 2 tasks x 0.05 GB x 0.57 = 0.057 of performance events.
    assert round(budget.expected - report.base.cost.total, 2) == round(128.014960 + 7.20 + 0.057, 2)
    assert round(budget.overrun, 2) == round(report.head.cost.total - 250, 2)
    markdown = render_diff(report, "markdown")
    attention = markdown.split("**Needs attention:**", 1)[1].split("<details>", 1)[0]
    assert f"exceeds the budget of $250.00 by ${budget.overrun:,.2f}" in attention
    assert "this change adds +$128.01 service search, +$7.26 cluster" in attention
    assert exit_status(report.head.policy, budget=report.head.budget) == BLOCKED
    assert exit_status(report.base.policy, budget=report.base.budget) == DONE


def test_dev_is_told_what_would_save_money_and_nothing_is_changed():
    report = with_policy(plan_of_reference("dev"), "dev")
    texts = [s.text for s in report.savings]
    # 7 interface endpoints x 2 AZs x 730 h x 0.011 = 112.42 against one NAT (0.048 + 0.005) x 730 = 38.69
    nat = next(s for s in report.savings if s.text.startswith("network.nat: single"))
    assert round(nat.monthly, 2) == round(112.42 - 38.69, 2)
    assert any(t.startswith("scheduled capacity") for t in texts)
    assert not any(t.startswith("services.") for t in texts)  # dev already runs 4:1 on Spot
