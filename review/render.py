"""Plan and diff reports as text (terminals), markdown (a PR comment: summary line first,
details folded) and JSON (machines). Pure functions of the report objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from review.cost import CostEstimate, CostLine, delta, money, money_range, signed_money
from review.details import masked_inputs
from review.diff import COMMAND, PlanDiff, ResourceChange, top_input
from review.plan import render_counts, render_tree
from review.report import PlanReport
if TYPE_CHECKING:
    from review.preview import PreviewReport
from review.semantic import is_security_relevant
from review.verdict import PolicyResult

FORMATS = ("text", "markdown", "json")
ACTION_WORDS = {
    "add": "added", "remove": "removed", "replace": "REPLACED", "new-revision": "new task definition revision",
    "update": "updated in place", "ignored": "changed but ignored (ignore_changes)",
}


@dataclass(frozen=True)
class DiffReport:
    base: PlanReport
    head: PlanReport
    diff: PlanDiff
    base_label: str
    head_label: str


# ---- shared pieces ------------------------------------------------------------------------------


def policy_line(policy: Optional[PolicyResult]) -> str:
    return "policy not checked" if policy is None else f"policy {policy.headline()}"


def cost_line(cost: CostEstimate) -> str:
    return f"est. {money_range(cost)}"


def line_range(line: CostLine) -> str:
    """' (min $a – max $b)' when a line's ends differ from its expected figure, else ''."""
    if abs(line.minimum - line.monthly) < 0.005 and abs(line.maximum - line.monthly) < 0.005:
        return ""
    return f" (min {money(line.minimum)} – max {money(line.maximum)})"


def budget_attention(report: PlanReport, base: Optional[PlanReport] = None) -> list[str]:
    """The budget overrun, by how much and what drives it (and what this change adds)."""
    budget = report.budget
    if budget is None or not budget.exceeded:
        return []
    text = f"budget: {budget.headline()}; {budget.driver_text()}"
    if base is not None:
        grown = [(name, after - before) for name, before, after in cost_delta_rows(base.cost, report.cost) if after > before]
        if grown:
            text += "; this change adds " + ", ".join(f"{signed_money(amount)} {name}" for name, amount in sorted(grown, key=lambda g: -g[1]))
    return [text]


def savings_lines(report: PlanReport) -> list[str]:
    return [f"about {money(s.monthly)}/month: {s.text}" for s in report.savings]


def _budget_badge(report: PlanReport) -> str:
    if report.budget is None:
        return ""
    return (" · ❌ " if report.budget.exceeded else " · ✅ ") + report.budget.headline()


def short(value: Any, width: int = 60, path: str = "") -> str:
    """A value for one line of a report: long opaque values are shortened, security-relevant
    ones (IAM, images, ingress/egress, trust policies) never are."""
    text = json.dumps(value) if not isinstance(value, str) else value
    if len(text) <= width or is_security_relevant(path):
        return text
    return text[: width - 3] + "..."


def change_summary(diff: PlanDiff) -> str:
    counts = diff.counts()
    stateful = sum(1 for c in diff.changes if c.destroys_state)
    parts = []
    for action in ("replace", "remove", "add", "new-revision", "update", "ignored"):
        if counts[action]:
            word = {"replace": "replaced", "remove": "removed", "add": "added", "new-revision": "new revision",
                    "update": "updated", "ignored": "ignored"}[action]
            parts.append(f"{counts[action]} {word}")
    if stateful:
        parts.append(f"{stateful} destroying state")
    return ", ".join(parts) if parts else "no changes"


def action_words(change: ResourceChange) -> str:
    words = ACTION_WORDS[change.action]
    return f"{words} (because {change.because} is replaced)" if change.because else words


def change_detail(change: ResourceChange) -> list[str]:
    notes = []
    if change.holds:
        notes.append(f"holds state: {change.holds} would be lost")
    if change.protected and change.action in ("replace", "remove"):
        notes.append("protected: pulumi up refuses until protect is lifted")
    if change.action == "new-revision":
        notes.append("registers a new revision of the family; the service rolls to it unless it ignores taskDefinition")
    if change.rollout:
        # A `before:` job's run says what it does; a service's rollout names its strategy.
        notes.append(change.rollout if change.type == COMMAND else f"rolls out with {change.rollout}")
    return notes


def property_lines(change: ResourceChange) -> list[str]:
    """What the meaning explains (IAM grants, containers, flows) in full, then the other inputs."""
    covered = set(change.meaning.covered)
    raw = [f"{p.path}: {short(p.before, path=p.path)} -> {short(p.after, path=p.path)} ({p.effect})"
           for p in change.changes if top_input(p.path) not in covered]
    return [*change.meaning.lines, *raw]


def attention_items(report: "DiffReport") -> list[str]:
    """What a reviewer must look at before anything else, one line each."""
    items = []
    for change in report.diff.changes:
        if change.destroys_state:
            items.append(f"{change.name} ({change.type}) is {ACTION_WORDS[change.action]}: {change.holds} would be lost")
        if change.protected and change.action in ("replace", "remove"):
            items.append(f"{change.name} is protected: pulumi up refuses to {change.action} it until protect is lifted")
    items += [f"{a.resource}: {a.text}" for a in report.diff.attention]
    items += policy_attention(report.base.policy, report.head.policy)
    items += budget_attention(report.head, report.base)
    return items


def policy_attention(base: Optional[PolicyResult], head: Optional[PolicyResult]) -> list[str]:
    if head is None:
        return []
    before = {f.key for f in base.findings} if base else set()
    return [f"policy {f.level}{'' if f.key in before else ' (new)'}: {f.policy} on {f.resource}: {f.detail}"
            for f in head.findings if f.level == "mandatory" or (f.level == "advisory" and f.key not in before)]


# ---- text ---------------------------------------------------------------------------------------


def cost_text(cost: CostEstimate) -> str:
    lines = [f"Estimated monthly cost: {money_range(cost)} ({cost.citation})"]
    lines.append("  by component:")
    lines += [f"    {name:<22} {money(amount):>12}" for name, amount in cost.by_component().items()]
    lines.append("  by service (shared EC2 capacity apportioned by vCPU):")
    lines += [f"    {name:<22} {money(amount):>12}" for name, amount in cost.by_service().items()]
    lines.append("  lines:")
    for line in cost.lines:
        lines.append(f"    {line.component:<16} {line.item:<64} {line.quantity:>9,.1f} {line.unit:<12} x {line.unit_price:<9g} = {money(line.monthly):>10}{line_range(line)}")
    lines.append("  assumptions:")
    lines += [f"    - {text}" for text in cost.assumptions]
    lines += [f"    ! {note}" for note in cost.notes]
    return "\n".join(lines)


def policy_text(policy: Optional[PolicyResult]) -> str:
    if policy is None:
        return "Policy verdict: not checked (--no-policy)"
    lines = [f"Policy verdict: {policy.headline()}"]
    lines += [f"  [{f.level}] {f.policy} ({f.resource}): {f.detail}" for f in policy.findings]
    return "\n".join(lines)


def plan_text(report: PlanReport, details: bool = False) -> str:
    return "\n".join([
        f"Plan for {report.environment} (offline, under Pulumi mocks: no AWS account used)",
        f"{report.resource_count} resources, {policy_line(report.policy)}, {cost_line(report.cost)}"
        + (f", {report.budget.headline()}" if report.budget else ""),
        *[f"! {item}" for item in budget_attention(report)],
        "",
        render_tree(report.plan, details=details),
        "",
        "Resources by type:",
        render_counts(report.plan),
        "",
        policy_text(report.policy),
        "",
        cost_text(report.cost),
        *([f"Budget: {report.budget.headline()}; {report.budget.driver_text()}"] if report.budget else []),
        *(["What would save money (suggestions; nothing is changed):", *[f"  - {line}" for line in savings_lines(report)]] if report.savings else []),
        "",
        "Diagram (Mermaid; paste into a ```mermaid block):",
        report.diagram,
    ])


def diff_summary(report: DiffReport) -> str:
    base, head = report.base, report.head
    return (f"{change_summary(report.diff)}; {policy_line(head.policy)}; cost {signed_money(head.cost.total - base.cost.total)}/month "
            f"({money(base.cost.total)} -> {money_range(head.cost)})" + (f"; {head.budget.headline()}" if head.budget else ""))


def diff_text(report: DiffReport) -> str:
    base, head = report.base, report.head
    lines = [f"Diff for {head.environment}: {report.base_label} -> {report.head_label}", diff_summary(report), ""]
    attention = attention_items(report)
    if attention:
        lines += ["Needs attention:", *[f"  ! {item}" for item in attention], ""]
    for change in report.diff.changes:
        lines.append(f"{_marker(change)} {change.type}  {change.name}  [{change.component}]  {action_words(change)}")
        lines += [f"      {text}" for text in property_lines(change) + change_detail(change)]
    lines += ["", policy_diff_text(base.policy, head.policy), "", cost_delta_text(base.cost, head.cost)]
    if head.savings:
        lines += ["What would save money (suggestions; nothing is changed):", *[f"  - {line}" for line in savings_lines(head)]]
    return "\n".join(lines)


def _marker(change: ResourceChange) -> str:
    return {"add": "+", "remove": "-", "replace": "+-", "new-revision": "+~", "update": "~", "ignored": "="}[change.action]


def policy_diff_text(base: Optional[PolicyResult], head: Optional[PolicyResult]) -> str:
    if head is None:
        return "Policy verdict: not checked (--no-policy)"
    before = {f.key for f in base.findings} if base else set()
    lines = [f"Policy verdict after the change: {head.headline()}"]
    for finding in head.findings:
        status = "" if finding.key in before else " (new)"
        lines.append(f"  [{finding.level}]{status} {finding.policy} ({finding.resource}): {finding.detail}")
    after = {f.key for f in head.findings}
    for finding in (base.findings if base else ()):
        if finding.key not in after:
            lines.append(f"  [resolved] {finding.policy} ({finding.resource})")
    return "\n".join(lines)


def cost_delta_rows(base: CostEstimate, head: CostEstimate) -> list[tuple[str, float, float]]:
    return [(name, before, after) for name, (before, after) in delta(base, head).items() if abs(after - before) >= 0.005]


def cost_delta_text(base: CostEstimate, head: CostEstimate) -> str:
    lines = [f"Cost per month: {money(base.total)} -> {money(head.total)} ({signed_money(head.total - base.total)}; now {money_range(head)}; {head.citation})"]
    for name, before, after in cost_delta_rows(base, head):
        lines.append(f"  {name:<22} {money(before):>12} -> {money(after):>12}  {signed_money(after - before):>11}")
    return "\n".join(lines)


# ---- markdown -----------------------------------------------------------------------------------


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def cost_markdown(cost: CostEstimate) -> str:
    rows = ["| component | USD/month |", "|---|---:|"]
    rows += [f"| {name} | {money(amount)} |" for name, amount in cost.by_component().items()]
    rows += [f"| **total** | **{money(cost.total)}** (min {money(cost.min)} – max {money(cost.max)}) |", "", "| service | USD/month |", "|---|---:|"]
    rows += [f"| {name} | {money(amount)} |" for name, amount in cost.by_service().items()]
    rows += ["", "| component | item | quantity | unit price | USD/month | min – max |", "|---|---|---:|---:|---:|---:|"]
    rows += [f"| {l.component} | {_md_escape(l.item)} | {l.quantity:,.1f} {l.unit} | {l.unit_price:g} | {money(l.monthly)} | {money(l.minimum)} – {money(l.maximum)} |" for l in cost.lines]
    rows += ["", f"{cost.citation}. Assumptions:", *[f"- {_md_escape(text)}" for text in cost.assumptions]]
    rows += [f"- **not estimated:** {note}" for note in cost.notes]
    return "\n".join(rows)


def policy_markdown(policy: Optional[PolicyResult], base: Optional[PolicyResult] = None) -> str:
    if policy is None:
        return "Policy verdict not checked."
    before = {f.key for f in base.findings} if base else None
    rows = ["| level | policy | resource | finding |", "|---|---|---|---|"]
    for f in policy.findings:
        new = " **(new)**" if before is not None and f.key not in before else ""
        rows.append(f"| {f.level}{new} | `{f.policy}` | `{f.resource}` | {_md_escape(f.detail)} |")
    if base is not None:
        after = {f.key for f in policy.findings}
        rows += [f"| resolved | `{f.policy}` | `{f.resource}` | {_md_escape(f.detail)} |" for f in base.findings if f.key not in after]
    return "\n".join(rows) if len(rows) > 2 else "No findings."


def _badge(policy: Optional[PolicyResult]) -> str:
    if policy is None:
        return "policy not checked"
    return ("✅ " if policy.passed else "❌ ") + f"policy {policy.headline()}"


def plan_markdown(report: PlanReport, details: bool = False) -> str:
    summary = (f"**{report.environment}**: {report.resource_count} resources · {_badge(report.policy)} · "
               f"**{money_range(report.cost)}** (est.){_budget_badge(report)}")
    attention = budget_attention(report)
    return "\n\n".join([
        f"### Offline plan: `{report.environment}`",
        summary,
        *(["**Needs attention:**\n\n" + "\n".join(f"- ⚠️ {_md_escape(item)}" for item in attention)] if attention else []),
        f"```mermaid\n{report.diagram}\n```",
        _details("Policy verdict", policy_markdown(report.policy)),
        _details(f"Estimated cost: {money_range(report.cost)}", cost_markdown(report.cost) + savings_markdown(report)),
        _details("Resources by type", f"```\n{render_counts(report.plan)}\n```"),
        _details("Resource tree" + (" with inputs" if details else ""), f"```\n{render_tree(report.plan, details=details)}\n```"),
    ])


def savings_markdown(report: PlanReport) -> str:
    if not report.savings:
        return ""
    return "\n\n**What would save money** (suggestions; nothing is changed):\n\n" + "\n".join(f"- {_md_escape(line)}" for line in savings_lines(report))


def _change_row(change: ResourceChange) -> str:
    action = f"**{action_words(change)}**" if change.action in ("replace", "remove") else action_words(change)
    inputs = "<br>".join(_md_escape(text) for text in property_lines(change)) or "–"
    notes = "<br>".join(("⚠️ " if "state" in n or "protected" in n else "") + _md_escape(n) for n in change_detail(change))
    return f"| {action} | `{change.name}`<br><sub>{change.type}</sub> | {change.component} | {inputs} | {notes} |"


def diff_markdown(report: DiffReport) -> str:
    """The summary line first, then what needs attention, then everything else folded."""
    base, head, diff = report.base, report.head, report.diff
    delta = head.cost.total - base.cost.total
    summary = (f"**{head.environment}** (`{report.base_label}` → {report.head_label}): {change_summary(diff)} · {_badge(head.policy)} · "
               f"cost **{signed_money(delta)}/month** ({money(base.cost.total)} → {money_range(head.cost)}){_budget_badge(head)}")
    parts = [summary]
    attention = attention_items(report)
    if attention:
        parts.append("**Needs attention:**\n\n" + "\n".join(f"- ⚠️ {_md_escape(item)}" for item in attention))
    header = ["| action | resource | component | inputs | notes |", "|---|---|---|---|---|"]
    risky = [c for c in diff.changes if c.action in ("replace", "remove")]
    rest = [c for c in diff.changes if c.action not in ("replace", "remove")]
    if risky:
        parts.append(_details(f"Replaced or removed ({len(risky)})", "\n".join(header + [_change_row(c) for c in risky])))
    if rest:
        parts.append(_details(f"Other changes ({len(rest)})", "\n".join(header + [_change_row(c) for c in rest])))
    if not diff.changes:
        parts.append("No resource changes.")
    rows = ["| component | before | after | change |", "|---|---:|---:|---:|"]
    rows += [f"| {name} | {money(b)} | {money(a)} | {signed_money(a - b)} |" for name, b, a in cost_delta_rows(base.cost, head.cost)]
    parts.append(_details(f"Cost: {signed_money(delta)}/month", "\n".join(rows) + "\n\n" + cost_markdown(head.cost) + savings_markdown(head)))
    parts.append(_details(f"Policy verdict: {head.policy.headline() if head.policy else 'not checked'}", policy_markdown(head.policy, base.policy)))
    parts.append(_details("Diagram after the change", f"```mermaid\n{head.diagram}\n```"))
    return "\n\n".join(parts)


# ---- json ---------------------------------------------------------------------------------------


def cost_json(cost: CostEstimate) -> dict[str, Any]:
    return {
        "currency": "USD",
        "period": "month",
        "prices": cost.citation,
        "total": round(cost.total, 2),  # the expected figure
        "expected": round(cost.expected, 2),
        "min": round(cost.min, 2),
        "max": round(cost.max, 2),
        "by_component": {k: round(v, 2) for k, v in cost.by_component().items()},
        "by_service": {k: round(v, 2) for k, v in cost.by_service().items()},
        "lines": [
            {"component": l.component, "service": l.service, "item": l.item, "quantity": round(l.quantity, 4),
             "unit": l.unit, "unit_price": l.unit_price, "monthly": round(l.monthly, 2),
             "min": round(l.minimum, 2), "max": round(l.maximum, 2)}
            for l in cost.lines
        ],
        "assumptions": list(cost.assumptions),
        "notes": list(cost.notes),
    }


def policy_json(policy: Optional[PolicyResult]) -> Optional[dict[str, Any]]:
    if policy is None:
        return None
    return {
        "passed": policy.passed,
        "counts": {level: len(policy.at(level)) for level in ("mandatory", "advisory", "waived")},
        "findings": [{"policy": f.policy, "level": f.level, "resource": f.resource, "detail": f.detail} for f in policy.findings],
    }


def budget_json(report: PlanReport) -> Optional[dict[str, Any]]:
    budget = report.budget
    if budget is None:
        return None
    return {"monthly_usd": budget.limit, "expected": round(budget.expected, 2),
            "maximum": None if budget.maximum is None else round(budget.maximum, 2),
            "exceeded": budget.exceeded, "overrun": round(max(budget.overrun, 0.0), 2),
            "drivers": {name: round(amount, 2) for name, amount in budget.drivers}}


def plan_json_data(report: PlanReport) -> dict[str, Any]:
    return {
        "environment": report.environment,
        "resources": [
            {"type": r.type, "name": r.name, "parent": r.parent, "protect": r.protect, "ignore_changes": list(r.ignore_changes),
             "inputs": masked_inputs(r, parse_documents=True)}
            for r in sorted(report.plan.resources, key=lambda r: r.urn)
        ],
        "counts": report.plan.count_by_type(),
        "policy": policy_json(report.policy),
        "cost": cost_json(report.cost),
        "budget": budget_json(report),
        "savings": [{"monthly": round(s.monthly, 2), "suggestion": s.text} for s in report.savings],
        "diagram": report.diagram,
    }


def diff_json_data(report: DiffReport) -> dict[str, Any]:
    return {
        "environment": report.head.environment,
        "base": report.base_label,
        "head": report.head_label,
        "counts": report.diff.counts(),
        "needs_attention": attention_items(report),
        "changes": [
            {"action": c.action, "type": c.type, "name": c.name, "component": c.component,
             "holds_state": c.holds, "protected": c.protected, "because": c.because, "rollout": c.rollout,
             "meaning": list(c.meaning.lines), "attention": [a.text for a in c.attention],
             "inputs": [{"path": p.path, "before": p.before, "after": p.after, "effect": p.effect} for p in c.changes]}
            for c in report.diff.changes
        ],
        "policy": {"base": policy_json(report.base.policy), "head": policy_json(report.head.policy)},
        "cost": {"base": round(report.base.cost.total, 2), "head": round(report.head.cost.total, 2),
                 "head_min": round(report.head.cost.min, 2), "head_max": round(report.head.cost.max, 2),
                 "delta": round(report.head.cost.total - report.base.cost.total, 2),
                 "budget": budget_json(report.head),
                 "savings": [{"monthly": round(s.monthly, 2), "suggestion": s.text} for s in report.head.savings],
                 "by_component": {n: {"base": round(b, 2), "head": round(a, 2)} for n, b, a in cost_delta_rows(report.base.cost, report.head.cost)}},
    }


def render_plan(report: PlanReport, fmt: str, details: bool = False) -> str:
    """details: each resource's inputs in the tree (text, markdown); JSON always has them."""
    if fmt == "json":
        return json.dumps(plan_json_data(report), indent=2, sort_keys=True, default=str)
    return plan_markdown(report, details) if fmt == "markdown" else plan_text(report, details)


def render_diff(report: DiffReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(diff_json_data(report), indent=2, sort_keys=True, default=str)
    return diff_markdown(report) if fmt == "markdown" else diff_text(report)


# ---- the real engine's preview (review/preview.py), in the same format ----------------------


def preview_attention(report: "PreviewReport") -> list[str]:
    items = []
    for change in report.diff.changes:
        if change.destroys_state:
            items.append(f"{change.name} ({change.type}) is {ACTION_WORDS[change.action]}: {change.holds} would be lost")
        if change.protected and change.action in ("replace", "remove"):
            items.append(f"{change.name} is protected: pulumi up refuses to {change.action} it until protect is lifted")
    items += [f"{a.resource}: {a.text}" for a in report.diff.attention]
    items += policy_attention(report.policy, report.policy)
    items += [f"diagnostic {line}" for line in report.diagnostics if line.startswith("[error]")]
    return items


def _preview_policy_line(policy: Optional[PolicyResult]) -> str:
    return "policy not read (pass the preview's --event-log: pulumi preview --json carries no policy events)" if policy is None else policy_line(policy)


def preview_text(report: "PreviewReport") -> str:
    lines = [f"Preview for {report.environment} ({report.label})", f"{change_summary(report.diff)}; {_preview_policy_line(report.policy)}", ""]
    attention = preview_attention(report)
    if attention:
        lines += ["Needs attention:", *[f"  ! {item}" for item in attention], ""]
    for change in report.diff.changes:
        lines.append(f"{_marker(change)} {change.type}  {change.name}  [{change.component}]  {action_words(change)}")
        lines += [f"      {text}" for text in property_lines(change) + change_detail(change)]
    if report.policy is not None:
        lines += ["", policy_text(report.policy)]
    lines += [f"Diagnostic {line}" for line in report.diagnostics]
    return "\n".join(lines)


def preview_markdown(report: "PreviewReport") -> str:
    badge = _badge(report.policy) if report.policy is not None else "policy not read"
    parts = [f"**{report.environment}** ({report.label}): {change_summary(report.diff)} · {badge}"]
    attention = preview_attention(report)
    if attention:
        parts.append("**Needs attention:**\n\n" + "\n".join(f"- ⚠️ {_md_escape(item)}" for item in attention))
    header = ["| action | resource | component | inputs | notes |", "|---|---|---|---|---|"]
    risky = [c for c in report.diff.changes if c.action in ("replace", "remove")]
    rest = [c for c in report.diff.changes if c.action not in ("replace", "remove")]
    if risky:
        parts.append(_details(f"Replaced or removed ({len(risky)})", "\n".join(header + [_change_row(c) for c in risky])))
    if rest:
        parts.append(_details(f"Other changes ({len(rest)})", "\n".join(header + [_change_row(c) for c in rest])))
    if not report.diff.changes:
        parts.append("No resource changes.")
    if report.policy is not None:
        parts.append(_details(f"Policy verdict: {report.policy.headline()}", policy_markdown(report.policy)))
    if report.diagnostics:
        parts.append(_details(f"Diagnostics ({len(report.diagnostics)})", "\n".join(f"- {_md_escape(d)}" for d in report.diagnostics)))
    return "\n\n".join(parts)


def preview_json(report: "PreviewReport") -> dict[str, Any]:
    return {
        "environment": report.environment,
        "source": report.label,
        "counts": report.diff.counts(),
        "needs_attention": preview_attention(report),
        "changes": [
            {"action": c.action, "type": c.type, "name": c.name, "component": c.component, "holds_state": c.holds,
             "protected": c.protected, "meaning": list(c.meaning.lines), "attention": [a.text for a in c.attention],
             "inputs": [{"path": p.path, "before": p.before, "after": p.after, "effect": p.effect} for p in c.changes]}
            for c in report.diff.changes
        ],
        "policy": policy_json(report.policy),
        "diagnostics": list(report.diagnostics),
    }


def render_preview(report: "PreviewReport", fmt: str) -> str:
    if fmt == "json":
        return json.dumps(preview_json(report), indent=2, sort_keys=True, default=str)
    return preview_markdown(report) if fmt == "markdown" else preview_text(report)
