"""What a change does: the plans of two configs compared resource by resource.

Resources are matched by URN (type chain + name, as the engine matches them; an alias on the
new side matches the old URN). Inputs are compared path by path; a path in the resource's
ignore_changes is reported as ignored, a path in the replacement table (review/replacements)
as a replacement, which then spreads to resources whose replacement-forcing inputs refer to
the replaced one (a new subnet id replaces its NAT gateway and route table association).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Optional

from review.offline import CapturedResource, Plan, mock_id
from review.replacements import STATEFUL, change_effect, under
from review.topology import component_label

MISSING = "<absent>"


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any
    after: Any
    effect: str  # update | replace | new-revision | ignored


@dataclass(frozen=True)
class ResourceChange:
    action: str  # add | remove | replace | new-revision | update | ignored
    type: str
    name: str
    component: str
    changes: tuple[PropertyChange, ...] = ()
    holds: Optional[str] = None  # what is lost on replace/remove (STATEFUL), else None
    protected: bool = False
    because: Optional[str] = None  # the replaced resource this replacement follows from

    @property
    def destroys_state(self) -> bool:
        return self.holds is not None and self.action in ("replace", "remove")


@dataclass(frozen=True)
class PlanDiff:
    changes: tuple[ResourceChange, ...]

    def of(self, action: str) -> list[ResourceChange]:
        return [c for c in self.changes if c.action == action]

    def counts(self) -> dict[str, int]:
        order = ("add", "remove", "replace", "new-revision", "update", "ignored")
        return {action: len(self.of(action)) for action in order}


# ---- comparing inputs ------------------------------------------------------------------------


def flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, leaf) pairs: `a.b[0].c`; empty containers are leaves so they show as values."""
    if isinstance(value, dict) and value:
        for key in sorted(value):
            yield from flatten(value[key], f"{path}.{key}" if path else key)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from flatten(item, f"{path}[{index}]")
    else:
        yield path, value


def property_changes(before: CapturedResource, after: CapturedResource) -> list[PropertyChange]:
    old, new = dict(flatten(before.props)), dict(flatten(after.props))
    result = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path, MISSING), new.get(path, MISSING)
        if a == b:
            continue
        effect = "ignored" if any(under(path, p) for p in after.ignore_changes) else change_effect(after.type, path)
        result.append(PropertyChange(path, a, b, effect))
    return result


def _action(changes: list[PropertyChange]) -> Optional[str]:
    effects = {c.effect for c in changes}
    for action in ("replace", "new-revision", "update", "ignored"):
        if action in effects:
            return action
    return None


# ---- the diff --------------------------------------------------------------------------------


def diff_plans(base: Plan, head: Plan) -> PlanDiff:
    old = {r.urn: r for r in base.resources if r.custom}
    new = {r.urn: r for r in head.resources if r.custom}
    moved = {alias: r.urn for r in new.values() for alias in r.aliases if alias in old}
    changes: dict[str, ResourceChange] = {}
    for urn, resource in new.items():
        previous = old.get(urn) or next((old[a] for a, target in moved.items() if target == urn), None)
        if previous is None:
            changes[urn] = ResourceChange("add", resource.type, resource.name, component_label(head, resource))
            continue
        props = property_changes(previous, resource)
        action = _action(props)
        if action is not None:
            changes[urn] = _change(action, head, resource, props)
    for urn, resource in old.items():
        if urn not in new and urn not in moved:
            changes[urn] = _change("remove", base, resource, [])
    _spread_replacements(head, new, changes)
    ordered = sorted(changes.values(), key=lambda c: (c.component, c.type, c.name))
    return PlanDiff(tuple(ordered))


def _change(action: str, plan: Plan, resource: CapturedResource, props: list[PropertyChange], because: Optional[str] = None) -> ResourceChange:
    holds = STATEFUL.get(resource.type) if action in ("replace", "remove") else None
    return ResourceChange(action, resource.type, resource.name, component_label(plan, resource), tuple(props), holds, resource.protect, because)


def _spread_replacements(head: Plan, new: dict[str, CapturedResource], changes: dict[str, ResourceChange]) -> None:
    """A replaced resource gets a new id; whatever holds that id in an input that forces
    replacement is replaced too, and so on. Mocks keep ids stable, so this is done here."""
    frontier = [new[urn] for urn, c in changes.items() if c.action == "replace" and urn in new]
    while frontier:
        replaced = frontier.pop()
        replaced_id = mock_id(replaced.type, replaced.name)  # what another resource holds to refer to it
        arn_suffix = "/" + replaced.name
        for urn, resource in new.items():
            if changes.get(urn) is not None and changes[urn].action in ("replace", "add"):
                continue
            paths = [
                path for path, value in flatten(resource.props)
                if isinstance(value, str) and (value == replaced_id or (value.startswith("arn:") and value.endswith(arn_suffix)))
            ]
            effects = {change_effect(resource.type, p) for p in paths if not any(under(p, i) for i in resource.ignore_changes)}
            if "replace" in effects:
                earlier = list(changes[urn].changes) if urn in changes else []
                changes[urn] = _change("replace", head, resource, earlier, because=replaced.name)
                frontier.append(resource)
