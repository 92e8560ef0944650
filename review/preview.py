"""The real engine's preview in the offline review's format: `review render-preview`.

    pulumi preview --stack ENV --json --event-log events.jsonl --policy-pack policies ... > preview.json
    python3 run.py review render-preview preview.json --event-log events.jsonl --format markdown

What each output carries (pulumi's own source, pkg/display/json.go and sdk/go/common/display/types.go):
- `pulumi preview --json` writes one PreviewDigest: `steps` (op, urn, oldState/newState with
  `inputs`, `diffReasons`, `replaceReasons`, `detailedDiff` {path: {kind, inputDiff}}),
  `diagnostics`, `changeSummary`. It skips policy events ("we don't handle policy events in
  JSON serialization"), so policy violations are not in it.
- `--event-log FILE` writes the engine's events as JSON lines; a violation is a line with a
  `policyEvent` (resourceUrn, message, policyName, policyPackName, enforcementLevel). Without
  the event log the report says the policy verdict was not read.

Steps become the same ResourceChange records as the offline diff (one per URN: a replacement's
create-replacement/replace/delete-replaced steps are one "replace"), with the same meaning of
IAM documents, container definitions and security-group flows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from review.diff import PlanDiff, PropertyChange, ResourceChange, flatten
from review.replacements import STATEFUL
from review.semantic import meaning
from review.topology import COMPONENT_LABELS, ENVIRONMENT_LABEL, SERVICE_TYPE
from review.verdict import Finding, PolicyResult

# Engine step ops -> the review's actions; ops not listed (same, read, refresh, ...) change nothing.
ACTIONS = {
    "create": "add", "delete": "remove", "update": "update",
    "replace": "replace", "create-replacement": "replace", "delete-replaced": "replace",
    "import": "add", "import-replacement": "replace", "discard": "remove",
}
REPLACE_KINDS = ("add-replace", "delete-replace", "update-replace")
LEVELS = {"mandatory": "mandatory", "advisory": "advisory", "warning": "advisory", "remediate": "advisory"}


@dataclass(frozen=True)
class PreviewReport:
    environment: str
    diff: PlanDiff
    policy: Optional[PolicyResult]  # None without an event log
    diagnostics: tuple[str, ...]
    label: str


def parse_urn(urn: str) -> tuple[str, str, list[str], str]:
    """urn:pulumi:STACK::PROJECT::ParentType$Type::name -> (stack, type, type chain, name)."""
    parts = urn.split("::", 3)
    stack = parts[0].split(":")[-1]
    chain = parts[2].split("$")
    return stack, chain[-1], chain, parts[3]


def _state(step: dict, key: str) -> Optional[dict]:
    state = step.get(key)
    return state if isinstance(state, dict) else None


def _component(stack: str, chain: list[str], state: Optional[dict]) -> str:
    """The top-level component, as the offline review labels it (`service api`, `network`)."""
    components = chain[1:-1] if chain and chain[0] == "ecsplatform:index:Environment" else chain[:-1]
    if not components:
        return ENVIRONMENT_LABEL
    top = components[0]
    if top == SERVICE_TYPE:
        parent = (state or {}).get("parent", "")
        name = parent.rsplit("::", 1)[-1] if len(components) == 1 and parent else ""
        return f"service {name.removeprefix(stack + '-')}" if name else "service"
    return COMPONENT_LABELS.get(top, top.split(":")[-1].lower())


def _value(inputs: dict, path: str) -> Any:
    flat = dict(flatten(inputs))
    if path in flat:
        return flat[path]
    return inputs.get(path, "<absent>")


def _property_changes(step: dict, old: dict, new: dict) -> list[PropertyChange]:
    detailed = step.get("detailedDiff") or {}
    changes = [
        PropertyChange(path, _value(old, path), _value(new, path), "replace" if diff.get("kind") in REPLACE_KINDS else "update")
        for path, diff in sorted(detailed.items())
    ]
    if changes:
        return changes
    replace = set(step.get("replaceReasons") or [])
    return [PropertyChange(key, old.get(key, "<absent>"), new.get(key, "<absent>"), "replace" if key in replace else "update")
            for key in sorted(set(step.get("diffReasons") or []) | replace)]


def _ids(steps: Iterable[dict]) -> dict[str, str]:
    """Resource ids (sg-...) -> names, from the states the preview carries."""
    names = {}
    for step in steps:
        for key in ("oldState", "newState"):
            state = _state(step, key)
            if state and state.get("id"):
                names[str(state["id"])] = parse_urn(str(state.get("urn") or step["urn"]))[3]
    return names


def preview_diff(digest: dict) -> PlanDiff:
    steps = [s for s in digest.get("steps") or [] if s.get("op") in ACTIONS]
    names = _ids(digest.get("steps") or [])
    chosen: dict[str, dict] = {}
    for step in steps:
        urn = step["urn"]
        # A replacement is several steps for one URN: keep the one that carries the diff.
        if urn not in chosen or step.get("op") == "replace":
            chosen[urn] = step
    changes = []
    for urn, step in chosen.items():
        stack, type_, chain, name = parse_urn(urn)
        old_state, new_state = _state(step, "oldState"), _state(step, "newState")
        if (new_state or old_state or {}).get("custom") is False or type_.startswith("pulumi:"):
            continue  # components, the stack and providers are no cloud resource
        action = ACTIONS[step["op"]]
        old, new = (old_state or {}).get("inputs") or {}, (new_state or {}).get("inputs") or {}
        props = _property_changes(step, old, new) if action in ("update", "replace") else []
        holds = STATEFUL.get(type_) if action in ("replace", "remove") else None
        protected = bool((old_state or new_state or {}).get("protect"))
        explained = meaning(type_, name, old if old_state else None, new if action != "remove" else None, names)
        changes.append(ResourceChange(action, type_, name, _component(stack, chain, new_state or old_state), tuple(props),
                                      holds, protected, None, explained))
    return PlanDiff(tuple(sorted(changes, key=lambda c: (c.component, c.type, c.name))))


def policy_from_events(lines: Iterable[str]) -> PolicyResult:
    """The violations of a preview's event log (JSON lines with a `policyEvent`)."""
    findings = set()
    for line in lines:
        line = line.strip()
        if not line:
            continue
        event = json.loads(line).get("policyEvent")
        if not event:
            continue
        urn = event.get("resourceUrn") or ""
        resource = parse_urn(urn)[3] if urn.startswith("urn:") else "the stack"
        level = LEVELS.get(str(event.get("enforcementLevel", "")).lower(), "advisory")
        detail = " ".join(str(event.get("message", "")).split())  # one line, as the offline findings
        findings.add(Finding(event.get("policyName", "?"), level, resource, detail))
    order = {"mandatory": 0, "advisory": 1}
    return PolicyResult(tuple(sorted(findings, key=lambda f: (order.get(f.level, 2), f.policy, f.resource, f.detail))))


def preview_report(digest: dict, events: Optional[Iterable[str]], label: str = "pulumi preview") -> PreviewReport:
    diff = preview_diff(digest)
    stacks = {parse_urn(s["urn"])[0] for s in digest.get("steps") or [] if str(s.get("urn", "")).startswith("urn:")}
    diagnostics = tuple(f"[{d.get('severity', 'info')}] {str(d.get('message', '')).strip()}" for d in digest.get("diagnostics") or []
                        if d.get("severity") in ("error", "warning"))
    return PreviewReport(", ".join(sorted(stacks)) or "?", diff, None if events is None else policy_from_events(events), diagnostics, label)
