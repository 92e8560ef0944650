"""Comparing two captured plans: what a config change does to resources that already exist."""

from __future__ import annotations

from typing import Any

from review.offline import Plan


def changed_resources(before: Plan, after: Plan) -> dict[str, dict[str, tuple[Any, Any]]]:
    """For every resource of `before`: the props whose value differs in `after` (name ->
    {prop: (old, new)}), with "<missing>" when the resource is gone or its type/parent changed.
    An empty result means the change only added resources."""
    later = {(r.type, r.name): r for r in after.resources}
    changes: dict[str, dict[str, tuple[Any, Any]]] = {}
    for old in before.resources:
        new = later.get((old.type, old.name))
        if new is None or new.parent != old.parent:
            changes[old.name] = {"<missing>": (old.type, None)}
            continue
        diff = {
            key: (old.props.get(key), new.props.get(key))
            for key in sorted(set(old.props) | set(new.props))
            if old.props.get(key) != new.props.get(key)
        }
        if (old.protect, old.ignore_changes) != (new.protect, new.ignore_changes):
            diff["<options>"] = ((old.protect, old.ignore_changes), (new.protect, new.ignore_changes))
        if diff:
            changes[old.name] = diff
    return changes


def added_names(before: Plan, after: Plan) -> list[str]:
    known = {(r.type, r.name) for r in before.resources}
    return sorted(r.name for r in after.resources if (r.type, r.name) not in known)
