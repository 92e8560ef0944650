"""The offline plan: what `pulumi up` would create, as a tree grouped by component."""

from __future__ import annotations

from review.details import input_lines
from review.offline import CapturedResource, Plan


def render_tree(plan: Plan, *, details: bool = False) -> str:
    """The component tree; with details, each resource's inputs under it (secrets masked)."""
    by_urn = plan.by_urn
    roots = [r for r in plan.resources if not r.parent or r.parent not in by_urn]
    children: dict[str, list[CapturedResource]] = {}  # one pass, not a scan of the plan per resource
    for resource in plan.resources:
        children.setdefault(resource.parent, []).append(resource)
    lines: list[str] = []
    for root in sorted(roots, key=_order):
        _render(children, root, "", lines, details)
    return "\n".join(lines)


def _order(resource: CapturedResource) -> tuple:
    # Components first (they group the rest), then by type and name, for a stable layout.
    return (resource.custom, resource.type, resource.name)


def _render(children: dict[str, list[CapturedResource]], resource: CapturedResource, indent: str, lines: list[str], details: bool) -> None:
    marker = "+ " if resource.custom else ""
    flags = " [protected]" if resource.protect else ""
    lines.append(f"{indent}{marker}{resource.type}  {resource.name}{flags}")
    if details and resource.custom:
        lines += [f"{indent}      {line}" for line in input_lines(resource)]
    for child in sorted(children.get(resource.urn, ()), key=_order):
        _render(children, child, indent + "    ", lines, details)


def render_counts(plan: Plan) -> str:
    counts = plan.count_by_type()
    width = max((len(t) for t in counts), default=0)
    lines = [f"  {type_:<{width}}  {count:>4}" for type_, count in counts.items()]
    total = sum(counts.values())
    return "\n".join([*lines, f"  {'total resources':<{width}}  {total:>4}"])

