"""What a change does: the plans of two configs compared resource by resource.

Resources are matched by URN (type chain + name, as the engine matches them; an alias on the
new side matches the old URN). Inputs are compared path by path; a path in the resource's
ignore_changes is reported as ignored, a path in the replacement table (review/replacements)
as a replacement, which then spreads to resources whose replacement-forcing inputs refer to
the replaced one (a new subnet id replaces its NAT gateway and route table association).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterator, Optional

from review.offline import CapturedResource, Plan, mock_id
from review.replacements import STATEFUL, change_effect, under
from review.semantic import Attention, Meaning, meaning
from review.topology import component_label, mock_ids

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
    because: Optional[str] = None  # the replaced resource this change follows from
    meaning: Meaning = Meaning()  # IAM grants, containers and flows, read as what they are
    rollout: Optional[str] = None  # how the change reaches running tasks (a service's strategy)

    @property
    def attention(self) -> tuple[Attention, ...]:
        return self.meaning.attention

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

    @property
    def attention(self) -> list[Attention]:
        return [a for c in self.changes for a in c.attention]


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
    moved = {alias: urn for urn, aliases in alias_urns(head).items() for alias in aliases if alias in old}
    names = group_names(base, head)
    changes: dict[str, ResourceChange] = {}
    for urn, resource in new.items():
        previous = old.get(urn) or next((old[a] for a, target in moved.items() if target == urn), None)
        if previous is None:
            changes[urn] = _change("add", head, resource, [], names, before=None)
            continue
        props = property_changes(previous, resource)
        action = _action(props)
        if action is not None:
            changes[urn] = _change(action, head, resource, props, names, before=previous)
    for urn, resource in old.items():
        if urn not in new and urn not in moved:
            changes[urn] = _change("remove", base, resource, [], names, before=resource)
    _spread_replacements(head, new, changes, names)
    _rerun_before_jobs(head, new, changes, names)
    ordered = sorted(changes.values(), key=lambda c: (c.component, c.type, c.name))
    return PlanDiff(tuple(ordered))


def alias_urns(plan: Plan) -> dict[str, list[str]]:
    """URN -> the URNs it was registered under before: its own aliases, and those it inherits,
    as the engine computes them, from an aliased ancestor (a component that changed type or
    parent moves its children along: `<alias of the parent>$<type>::<name>`)."""
    by_urn = {r.urn: r for r in plan.resources}
    found: dict[str, list[str]] = {}

    def of(resource: CapturedResource) -> list[str]:
        if resource.urn not in found:
            parent = by_urn.get(resource.parent)
            inherited = [_child_urn(alias, resource) for alias in of(parent)] if parent is not None else []
            found[resource.urn] = [*resource.aliases, *inherited]
        return found[resource.urn]

    for resource in plan.resources:
        of(resource)
    return found


def _child_urn(parent_urn: str, resource: CapturedResource) -> str:
    """The URN `resource` has under parent_urn, made as the offline monitor makes every URN
    (pulumi.runtime.mocks: the parent's own type, `$`, the type, `::`, the name)."""
    prefix, parent_types, _ = parent_urn.rsplit("::", 2)
    return f"{prefix}::{parent_types.split('$')[-1]}${resource.type}::{resource.name}"


def group_names(*plans: Plan) -> dict[str, str]:
    """Mock ids (sg-..., subnet-...) -> resource names, so flows read `dev-alb-sg -> dev-api-sg:8080`."""
    return {id_: resource.name for plan in plans for id_, resource in mock_ids(plan).items()}


def _change(action: str, plan: Plan, resource: CapturedResource, props: list[PropertyChange], names: dict[str, str],
            *, before: Optional[CapturedResource], because: Optional[str] = None) -> ResourceChange:
    holds = STATEFUL.get(resource.type) if action in ("replace", "remove") else None
    after = None if action == "remove" else resource.props
    explained = meaning(resource.type, resource.name, before.props if before else None, after, names)
    component = component_label(plan, resource)
    return ResourceChange(action, resource.type, resource.name, component, tuple(props), holds,
                          resource.protect, because, explained, rollout_of(plan, resource, component, action))


# ---- how a change rolls out --------------------------------------------------------------------

ROLLOUT_TYPES = ("aws:ecs/taskDefinition:TaskDefinition", "aws:ecs/service:Service")
COMMAND = "command:local:Command"  # a `before:` job's run (components/job.py)


def rollout_of(plan: Plan, resource: CapturedResource, component: str, action: str) -> Optional[str]:
    """For a new task definition revision or a changed ECS service: the deployment strategy the
    service rolls it out with (components/deployment.py), as a reviewer reads it. For a
    `before:` job's command: that this update runs the job, and which rollouts wait for it."""
    if resource.type == COMMAND and action in ("add", "replace", "update"):
        return before_job_run(plan, resource)
    if resource.type not in ROLLOUT_TYPES or action in ("remove", "ignored"):
        return None
    service = next((r for r in plan.of_type("aws:ecs/service:Service") if component_label(plan, r) == component), None)
    if service is None:
        return None
    props = service.props
    strategy = describe_strategy(props)
    alarms = (props.get("alarms") or {}).get("alarmNames") or []
    if alarms:
        strategy += f"; rolled back when an alarm fires ({', '.join(alarms)})"
    if resource.type.endswith("TaskDefinition") and "taskDefinition" in service.ignore_changes:
        return f"{strategy}, at CI's next deployment (deploys: ci: the service ignores taskDefinition)"
    return strategy


def before_job_run(plan: Plan, command: CapturedResource) -> str:
    """`runs the job ... before api rolls out`: the services whose ECS service waits for it, by
    the name components/service.py always gives it (the service key)."""
    waiting = sorted(str(s.props["name"]) for s in plan.of_type("aws:ecs/service:Service") if command.urn in s.depends_on)
    later = f"{', '.join(waiting)} {'rolls' if len(waiting) == 1 else 'roll'} out" if waiting else "any rollout"
    return (f"runs the job's task once in this update (aws ecs run-task, then waits for it to stop) before {later}; "
            "pulumi up stops there unless it exits 0")


def _rerun_before_jobs(head: Plan, new: dict[str, CapturedResource], changes: dict[str, ResourceChange], names: dict[str, str]) -> None:
    """A `before:` job runs again when its trigger, its task definition's ARN, changes: a new
    revision of that task definition. Mocks keep ARNs stable, so this is decided here from the
    changes, as the engine would see the trigger become unknown. (A task definition is never
    replaced, review/replacements.NEW_REVISION; a replaced resource the `triggers` input refers
    to has already replaced the run in _spread_replacements.)"""
    for urn, command in sorted(new.items()):
        current = changes.get(urn)
        if command.type != COMMAND or (current is not None and current.action in ("add", "replace")):
            continue
        revised = [changes[d] for d in command.property_dependencies.get("triggers", ())
                   if d in changes and changes[d].action == "new-revision"]
        if not revised:
            continue
        if current is None:
            current = _change("replace", head, command, [], names, before=command)
        trigger = PropertyChange("triggers", command.props.get("triggers"), f"<a new revision of {revised[0].name}>", "replace")
        changes[urn] = replace(current, action="replace", because=revised[0].name, changes=current.changes + (trigger,))


def describe_strategy(props: dict) -> str:
    """Both plans of a diff come from this program (only the config is read at the base ref),
    and components/deployment.py writes a native strategy's bake time and its canary or linear
    block in full, so those are read as written. ROLLING falls back to ECS's own defaults
    (min 100%, max 200%), which a service that sets nothing gets."""
    configuration = props.get("deploymentConfiguration") or {}
    strategy = configuration.get("strategy", "ROLLING")
    if strategy == "ROLLING":
        breaker = props.get("deploymentCircuitBreaker") or {}
        text = (f"ROLLING (min {props.get('deploymentMinimumHealthyPercent', 100):g}%, max "
                f"{props.get('deploymentMaximumPercent', 200):g}%")
        return text + (", circuit breaker with rollback)" if breaker.get("enable") and breaker.get("rollback") else ", no circuit breaker)")
    bake = configuration["bakeTimeInMinutes"]
    if strategy == "CANARY":
        canary = configuration["canaryConfiguration"]
        steps = f"{canary['canaryPercent']:g}% of traffic for {canary['canaryBakeTimeInMinutes']} min, then all"
    elif strategy == "LINEAR":
        linear = configuration["linearConfiguration"]
        steps = f"{linear['stepPercent']:g}% more traffic every {linear['stepBakeTimeInMinutes']} min"
    else:
        steps = "all traffic at once after the test rule"
    return f"{strategy} ({steps}; both revisions kept {bake} min)"


def value_at(resource: CapturedResource, path: str) -> Any:
    flat = dict(flatten(resource.props))
    return flat[path] if path in flat else resource.props.get(path)


def referencing_paths(resource: CapturedResource, replaced: CapturedResource) -> list[str]:
    """The inputs of `resource` that become unknown, then new, when `replaced` is replaced:
    those the program recorded as depending on it (the propertyDependencies the engine gets),
    narrowed to the values that hold its id or ARN (what the mocks returned for it) when the
    value shows it."""
    replaced_id = mock_id(replaced.type, replaced.name)
    suffixes = ("/" + replaced.name, ":" + replaced.name)
    holding = [
        path for path, value in flatten(resource.props)
        if isinstance(value, str) and (value == replaced_id or (value.startswith("arn:") and value.endswith(suffixes)))
    ]
    recorded = [key for key, urns in resource.property_dependencies.items() if replaced.urn in urns and key in resource.props]
    return holding + [key for key in sorted(recorded) if not any(under(path, key) for path in holding)]


def _spread_replacements(head: Plan, new: dict[str, CapturedResource], changes: dict[str, ResourceChange], names: dict[str, str]) -> None:
    """A replaced resource gets a new id. Whatever refers to it (an input holding its id or
    ARN, or a dependency the program recorded) changes too: replaced when that input forces
    replacement, and so on; otherwise updated in place, "because X is replaced", as the real
    engine shows it. Mocks keep ids stable, so this is done here."""
    # Breadth first in name order, so `because` names the same resource on every run.
    frontier = sorted((new[urn] for urn, c in changes.items() if c.action == "replace" and urn in new), key=lambda r: r.name)
    while frontier:
        replaced = frontier.pop(0)
        for urn, resource in sorted(new.items()):
            current = changes.get(urn)
            if urn == replaced.urn or (current is not None and current.action in ("replace", "add")):
                continue
            paths = [p for p in referencing_paths(resource, replaced) if not any(under(p, i) for i in resource.ignore_changes)]
            if not paths:
                continue
            forced = "replace" in {change_effect(resource.type, p) for p in paths}
            if current is None:
                current = _change("update", head, resource, [], names, before=resource)
            new_ids = tuple(PropertyChange(p, value_at(resource, p), f"<known after {replaced.name} is replaced>", change_effect(resource.type, p))
                            for p in paths if p not in {c.path for c in current.changes})
            current = replace(current, changes=current.changes + new_ids)
            if forced:
                changes[urn] = replace(current, action="replace", because=replaced.name, holds=STATEFUL.get(resource.type))
                frontier.append(resource)
            elif current.because is None:
                # Read from the changes with the new ones: an ignored change becomes an update,
                # and a task definition whose role ARN becomes new registers a new revision.
                changes[urn] = replace(current, action=_action(list(current.changes)), because=replaced.name)


def top_input(path: str) -> str:
    """`containerDefinitions[0].image` -> `containerDefinitions`."""
    for index, char in enumerate(path):
        if char in ".[":
            return path[:index]
    return path
