"""Rule definitions, pack settings, waivers and the wrappers that turn rules into CrossGuard
policies. Rules themselves stay pure: `check(props, settings)` for one resource, or
`check(subject, stack, settings)` for one resource seen with the whole stack; both yield
problem sentences. The wrappers add the resource name, the remediation hint, waivers and the
deliberate handling of preview-time unknowns.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from . import clock
from .helpers import Unknown, json_value, peek, plain

Category = Literal["security", "reliability", "cost", "hygiene", "governance"]
Check = Callable[..., Iterable[str]]

# ----------------------------------------------------------------------------------------
# settings: what the pack config gives every policy
# ----------------------------------------------------------------------------------------

# Pack-wide settings, repeated in every policy's config by policies/config_gen.py because
# CrossGuard hands a policy only its own config entry.
COMMON_SCHEMA: dict[str, dict[str, Any]] = {
    "environment": {"type": "string", "description": "The environment (stack) name."},
    "production": {"type": "boolean", "description": "Production rules apply (default true: strict when unconfigured)."},
    "componentKeys": {
        "type": "object",
        "description": "Keys per waiver kind (service, job, repository, provider), so `service/api` never covers `api-admin`.",
    },
    "waivers": {
        "type": "array",
        "description": "Waivers of this policy from policies/governance.yaml: resource (<kind>/<key>), reason, expires (YYYY-MM-DD).",
        "items": {
            "type": "object",
            "properties": {
                "resource": {"type": "string"},
                "reason": {"type": "string"},
                "expires": {"type": "string"},
                "policy": {"type": "string"},
                "approvedBy": {"type": "string"},
            },
            "required": ["resource", "reason", "expires"],
        },
    },
}


@dataclass(frozen=True)
class Waiver:
    policy: str
    resource: str  # <kind>/<key>, or a shared kind (see WAIVER_KINDS)
    reason: str
    expires: datetime.date
    approved_by: str = ""

    @classmethod
    def parse(cls, raw: Mapping[str, Any], policy: str) -> "Waiver":
        return cls(
            policy=str(raw.get("policy", policy)),
            resource=str(raw["resource"]),
            reason=str(raw.get("reason", "")),
            expires=datetime.date.fromisoformat(str(raw["expires"])),
            approved_by=str(raw.get("approvedBy", "") or ""),
        )

    def expired(self, today: datetime.date) -> bool:
        # The expiry day itself is still covered, as in the config loader.
        return self.expires < today


# What each waiver kind covers: the module of the component type (`ecsplatform:<module>:<Class>`)
# the resource must be registered under. Keyed kinds name one component of that module; the
# repository and provider kinds have none of their own and are read off the names under the
# registry and cluster components. configs/governance.py lists the same kinds (a test checks).
WAIVER_KINDS: dict[str, str] = {
    "service": "service",
    "job": "job",
    "repository": "registry",
    "provider": "cluster",
    "alb": "load_balancer",
    "network": "network",
    "cluster": "cluster",
    "registry": "registry",
    "environment": "index",
}
NAMED_UNDER_CONTAINER = ("repository", "provider")

# (component type token, its name; None where the engine does not say: Analyze sees only the
# parent's URN, whose type chain names the types of every ancestor but the name of the parent only)
Ancestor = tuple[str, Optional[str]]


@dataclass(frozen=True)
class Settings:
    """One policy's view of the pack config, with the rule's option defaults filled in."""

    policy: str
    environment: str = ""
    production: bool = True
    component_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    today: datetime.date = field(default_factory=clock.today)
    resource_type: str = ""  # set per resource by the wrapper, for rules spanning several types
    default_tags: tuple[str, ...] = ()  # tag keys the resource's provider adds (defaultTags)

    @classmethod
    def from_config(cls, policy: str, config: Optional[Mapping[str, Any]], defaults: Mapping[str, Any],
                    today: Optional[datetime.date] = None) -> "Settings":
        config = plain(config or {})
        options = {key: config.get(key, default) for key, default in defaults.items()}
        keys = config.get("componentKeys") or {}
        return cls(
            policy=policy,
            environment=str(config.get("environment", "")),
            production=bool(config.get("production", True)),
            component_keys={str(k): tuple(map(str, v or ())) for k, v in keys.items()} if isinstance(keys, Mapping) else {},
            waivers=tuple(Waiver.parse(w, policy) for w in config.get("waivers", ())),
            options=options,
            today=today or clock.today(),
        )

    def option(self, key: str) -> Any:
        return self.options[key]

    def waiver_for(self, name: str, ancestors: Iterable[Ancestor] = ()) -> Optional[Waiver]:
        """The live waiver covering a resource, by the components it is registered under.
        Expired waivers cover nothing (and fail their own policy)."""
        if not self.waivers:
            return None
        ancestors = tuple(ancestors)
        for waiver in self.waivers:
            if not waiver.expired(self.today) and covers(waiver.resource, name, ancestors, self.environment, self.component_keys):
                return waiver
        return None


def covers(scope: str, name: str, ancestors: tuple[Ancestor, ...], environment: str,
           keys: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether a waiver's `<kind>/<key>` covers the resource `name` registered under
    `ancestors` (nearest first). The component's type decides the kind, so `service/alb`
    never covers the shared load balancer, whatever the names; the key is the component's
    name (`<env>-<key>`), or where the engine does not say it, the longest known key that
    the nearest known name starts with, so `service/api` never covers `api-admin`."""
    kind, _, key = scope.partition("/")
    module = WAIVER_KINDS.get(kind)
    if module is None:
        return False
    if kind == "environment":
        return not ancestors or _module(ancestors[0][0]) == module
    position = next((i for i, (type_, _) in enumerate(ancestors) if _module(type_) == module), None)
    if position is None:
        return False
    if not key:
        return True
    component = ancestors[position][1]
    prefix = f"{environment}-" if environment else ""
    if kind in NAMED_UNDER_CONTAINER:
        below = ancestors[position - 1][1] if position > 0 else None
        container = component or f"{prefix}{module}"
        return _longest_key(below or name, f"{container}-", keys.get(kind, ())) == key
    if component is not None:
        return component == f"{prefix}{key}"
    return _longest_key(ancestors[0][1] or name, prefix, keys.get(kind, ())) == key


def _module(type_: str) -> str:
    parts = type_.split(":")
    return parts[1] if len(parts) == 3 and not type_.startswith("aws:") else ""


def _longest_key(name: str, prefix: str, keys: Iterable[str]) -> Optional[str]:
    for key in sorted(set(keys), key=len, reverse=True):
        stem = f"{prefix}{key}"
        if name == stem or name.startswith(f"{stem}-"):
            return key
    return None


def urn_ancestors(parent_urn: str) -> tuple[Ancestor, ...]:
    """The ancestors an Analyze request tells of: its parent (type and name) and, from the
    parent URN's type chain, the types of the parent's own ancestors (names unknown)."""
    if not parent_urn:
        return ()
    parts = parent_urn.split("::", 3)
    if len(parts) < 4:
        return ()
    chain = parts[2].split("$")
    return ((chain[-1], parts[3]), *((type_, None) for type_ in reversed(chain[:-1])))


# ----------------------------------------------------------------------------------------
# rules
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    remediation: str
    category: Category
    check: Check
    types: tuple[str, ...] = ()
    production_only: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    option_schema: Mapping[str, dict] = field(default_factory=dict)
    # Settings already parsed from a config, see `settings`. Settings are frozen, so sharing
    # them is safe.
    _settings_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def message(self, resource: str, problem: str) -> str:
        return f"{resource}: {problem}. Fix: {self.remediation}"

    def config_schema(self) -> PolicyConfigSchema:
        extra = {key: {**self.option_schema.get(key, {}), "default": value} for key, value in self.options.items()}
        return PolicyConfigSchema(properties={**COMMON_SCHEMA, **extra})

    def settings(self, config: Optional[Mapping[str, Any]], resource_type: str = "",
                 default_tags: tuple[str, ...] = ()) -> Settings:
        """The parsed settings of a config, for one resource type and provider default tags.

        CrossGuard hands every call `config.copy()` of the dict Configure stored: a new dict
        each time, but a *shallow* copy, so its values are the very objects Configure parsed.
        The cache is therefore keyed by the identity of the values (and the keys, and today):
        a few id() calls per resource, where serialising the config to JSON for a key was one
        of the pack's largest costs. The entry keeps the values referenced, so their ids cannot
        be reused by other objects while it is cached; a new Configure brings new objects and
        simply misses. Nothing mutates a config's values in place: the SDK never does, and
        Settings.from_config parses a deep copy.

        The per-resource fields (resource_type, default_tags) are filled into a copy cached
        with the entry, instead of a dataclasses.replace on every call."""
        today = clock.today()
        config = config or {}
        key = (tuple(config), tuple(map(id, config.values())), today)
        entry = self._settings_cache.get(key)
        if entry is None:
            if len(self._settings_cache) >= 32:  # a pack sees few configs; tests see many
                self._settings_cache.clear()
            base = Settings.from_config(self.name, config, self.options, today)
            entry = self._settings_cache[key] = (tuple(config.values()), base, {})
        _values, base, variants = entry
        if not resource_type and not default_tags:
            return base
        variant = variants.get((resource_type, default_tags))
        if variant is None:
            variant = variants[(resource_type, default_tags)] = dataclasses.replace(
                base, resource_type=resource_type, default_tags=default_tags)
        return variant

    # The CrossGuard policy class a subclass builds (resource or stack validation).
    policy_type: ClassVar[type]

    def policy(self, level: EnforcementLevel) -> ResourceValidationPolicy | StackValidationPolicy:
        return self.policy_type(
            name=self.name,
            description=self.description,
            enforcement_level=level,
            config_schema=self.config_schema(),
            remediation_steps=self.remediation,
            validate=self._validate,
        )

    def applies(self, settings: Settings) -> bool:
        return settings.production or not self.production_only


@dataclass(frozen=True)
class ResourceRule(Rule):
    """check(props, settings) for every resource whose type is in `types`."""

    policy_type: ClassVar[type] = ResourceValidationPolicy

    def _validate(self, args: ResourceValidationArgs, report_violation) -> None:
        resource_type = canonical_type(args.resource_type)
        if resource_type not in self.types:
            return
        settings = self.settings(args.get_config(), resource_type, provider_default_tags(args.provider))
        if not self.applies(settings):
            return
        props = plain(args.props)
        try:
            problems = list(self.check(props, settings))
        except Unknown as unknown:
            raise _preview_unknown(args.name, args.resource_type, unknown) from None
        if not problems:  # a waiver only matters for problems; most resources have none
            return
        waiver = settings.waiver_for(args.name, urn_ancestors(args.opts.parent or ""))
        if waiver is not None:
            args.not_applicable(_waived_reason(waiver, [args.name]))
        for problem in problems:
            report_violation(self.message(args.name, problem))


@dataclass(frozen=True)
class StackRule(Rule):
    """check(subject, stack, settings) for every resource of `types`, or once with subject
    None when `types` is empty (rules about the stack as a whole)."""

    policy_type: ClassVar[type] = StackValidationPolicy

    def _validate(self, args: StackValidationArgs, report_violation) -> None:
        settings = self.settings(args.get_config())
        if not self.applies(settings):
            return
        stack = Stack(args.resources)
        subjects = stack.of(*self.types) if self.types else [None]
        unknowns: list[Unknown] = []
        waived: list[tuple[Waiver, str]] = []
        for subject in subjects:
            label = subject.name if subject is not None else (settings.environment or "stack")
            try:
                problems = list(self.check(subject, stack, settings))
            except Unknown as unknown:
                unknowns.append(_preview_unknown(label, subject.resource_type if subject else "stack", unknown))
                continue
            waiver = settings.waiver_for(label, stack.ancestors(subject) if subject is not None else ())
            if problems and waiver is not None:
                waived.append((waiver, label))
                continue
            for problem in problems:
                report_violation(self.message(label, problem), subject.urn if subject is not None else None)
        if unknowns:
            raise _merge_unknowns(unknowns)
        if waived:
            args.not_applicable("; ".join(_waived_reason(w, [label]) for w, label in waived))


# pulumi-aws's aliases: aws.alb.LoadBalancer is aws.lb.LoadBalancer under another type token (the
# same for Listener, ListenerRule, TargetGroup, ...); a rule written for one judges both.
TYPE_ALIASES = {"aws:alb/": "aws:lb/"}


def canonical_type(resource_type: str) -> str:
    for alias, canonical in TYPE_ALIASES.items():
        if resource_type.startswith(alias):
            return canonical + resource_type[len(alias):]
    return resource_type


def provider_default_tags(provider: Any) -> tuple[str, ...]:
    """Tag keys of the provider's defaultTags (a JSON string in provider inputs, or data)."""
    if provider is None:
        return ()
    raw = plain(provider.props).get("defaultTags")
    try:
        tags = (json_value(raw) or {}).get("tags") or {}
    except (ValueError, AttributeError):
        return ()
    return tuple(tags)


def _waived_reason(waiver: Waiver, names: list[str]) -> str:
    return f"waived for {', '.join(names)} until {waiver.expires.isoformat()}: {waiver.reason}"


def _preview_unknown(name: str, type_: str, unknown: Unknown) -> Unknown:
    """Names the resource in the SDK's advisory ("can't run policy ... during preview: ...").
    The rule is skipped for this resource only; `pulumi up` analyzes again with the value known,
    and config validation enforces the cross-resource facts before any resource exists."""
    result = Unknown(unknown.path.split("."))
    result.message = f"{name} ({type_}): .{unknown.path} is unknown until apply; the rule runs again on `pulumi up`"
    return result


def _merge_unknowns(unknowns: list[Unknown]) -> Unknown:
    merged = unknowns[0]
    merged.message = "; ".join(u.message for u in unknowns)
    return merged


# ----------------------------------------------------------------------------------------
# the stack as a graph
# ----------------------------------------------------------------------------------------


class Stack:
    """The resources of AnalyzeStack, with the lookups stack rules need.

    A rule asks the same questions once per subject, so every answer that depends only on
    the stack (the resources of a type, the value index, who refers to whom) is computed
    once and memoised here; the lookups stay near-linear in the number of resources."""

    def __init__(self, resources: list[Any]):
        for resource in resources:  # aliases judged as the types they alias (the SDK's objects, once)
            resource.resource_type = canonical_type(resource.resource_type)
        self.resources = resources
        self._props: dict[str, dict] = {}  # unwrapped lazily: most rules read a few types
        self._of: dict[tuple[str, ...], list[Any]] = {}
        self._position: dict[tuple[str, ...], dict[str, int]] = {}
        self._values: dict[tuple, dict[str, list[Any]]] = {}
        self._referrers: dict[tuple, dict[str, list[Any]]] = {}
        self._memo: dict[Any, Any] = {}

    def of(self, *types: str) -> list[Any]:
        return list(self._ordered(types))  # a copy: callers may mutate what they get

    def _ordered(self, types: tuple[str, ...]) -> list[Any]:
        """The resources of `types` by name, cached and shared: callers must not mutate it."""
        if types not in self._of:
            self._of[types] = sorted((r for r in self.resources if r.resource_type in types), key=lambda r: r.name)
        return self._of[types]

    def props(self, resource: Any) -> dict:
        if resource.urn not in self._props:
            self._props[resource.urn] = plain(resource.props)
        return self._props[resource.urn]

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """compute() once per stack for a stack-wide fact a rule needs per subject. Not
        cached when it raises (e.g. Unknown), so every subject still sees the error."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def ancestors(self, resource: Any) -> list[Ancestor]:
        """(type, name) of the components a resource is registered under, nearest first:
        the parents the stack holds, then what the URN of the first one it does not hold
        tells (its type chain and name)."""
        found, current = [], resource
        while current.parent is not None:
            current = current.parent
            found.append((current.resource_type, current.name))
        missing = getattr(getattr(current, "opts", None), "parent", None)
        if missing:
            found.extend(urn_ancestors(missing))
        return found

    def linked(self, resource: Any, prop: str, types: tuple[str, ...], *, by: tuple[str, ...] = ("id", "arn", "name")) -> list[Any]:
        """The resources of `types` that `resource.props[prop]` refers to.

        In order of precision: the engine's property dependencies (present in real previews,
        where ids are still unknown); equal known values (the target's id/arn/name); the
        name an ARN value ends in (`arn:aws:iam::1:role/prod-api-task`) against the target's
        name, for a computed ARN that only the target's outputs would hold; and last the
        resource's plain dependencies, for captures that carry no per-property dependencies.
        The same link resolves the same way with or without dependency information (a task
        definition depends on both its roles: only the property says which is which).
        Results keep the order of `of(*types)`."""
        deps = (resource.property_dependencies or {}).get(prop)
        if deps:
            return self._in_order(types, {d.urn for d in deps})
        value = peek(self.props(resource), prop)
        wanted = set(_flatten(value))
        if wanted:
            index = self._value_index(types, by)
            matches = {c.urn for v in wanted for c in index.get(v, ())}
            if not matches:
                names = self._name_index(types)
                matches = {c.urn for v in wanted for c in names.get(arn_resource_name(v) or "", ())}
            if matches:
                return self._in_order(types, matches)
        if resource.property_dependencies:
            return []
        return self._in_order(types, {d.urn for d in resource.dependencies})

    def referrers(self, target: Any, prop: str, types: tuple[str, ...]) -> list[Any]:
        """The resources of `types` whose `prop` refers to target."""
        key = (prop, types, target.resource_type)
        if key not in self._referrers:
            # One linked() per candidate for all targets at once, instead of per target.
            reverse: dict[str, list[Any]] = {}
            for r in self._ordered(types):
                for t in self.linked(r, prop, (target.resource_type,)):
                    reverse.setdefault(t.urn, []).append(r)
            self._referrers[key] = reverse
        return list(self._referrers[key].get(target.urn, ()))

    def _value_index(self, types: tuple[str, ...], by: tuple[str, ...]) -> dict[str, list[Any]]:
        """Known string values of the `by` properties -> the resources of `types` holding them.
        Only strings matter: `linked` compares against string references."""
        key = (types, by)
        if key not in self._values:
            index: dict[str, list[Any]] = {}
            for c in self._ordered(types):
                props = self.props(c)
                for value in {v for v in (peek(props, k) for k in by) if isinstance(v, str)}:
                    index.setdefault(value, []).append(c)
            self._values[key] = index
        return self._values[key]

    def _name_index(self, types: tuple[str, ...]) -> dict[str, list[Any]]:
        """The physical name of each resource of `types` (its `name` input, else the logical
        name, which is what an unnamed resource is called under the offline mocks)."""
        key = (types, "name-of")
        if key not in self._values:
            index: dict[str, list[Any]] = {}
            for c in self._ordered(types):
                name = peek(self.props(c), "name")
                index.setdefault(name if isinstance(name, str) else c.name, []).append(c)
            self._values[key] = index
        return self._values[key]

    def _in_order(self, types: tuple[str, ...], urns: set[str]) -> list[Any]:
        """The resources of `types` among urns, in `of(*types)` order."""
        if not urns:
            return []
        ordered = self._ordered(types)
        if types not in self._position:
            self._position[types] = {c.urn: i for i, c in enumerate(ordered)}
        position = self._position[types]
        return [ordered[i] for i in sorted(position[u] for u in urns if u in position)]


def arn_resource_name(value: str) -> Optional[str]:
    """The name an ARN's resource part ends in: `role/path/prod-api-task` -> prod-api-task,
    `log-group:/ecs/prod/api` -> /ecs/prod/api; None for anything that is not an ARN."""
    parts = value.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    resource = parts[5]
    if "/" in resource and not resource.startswith(("log-group:", "parameter/")):
        return resource.rsplit("/", 1)[1] or None
    return resource.split(":", 1)[1] if ":" in resource else resource


def _flatten(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v for item in value for v in _flatten(item)]
    return [value] if isinstance(value, str) else []


