"""Deserialize each analyzer request's properties once, not once per policy.

Why this exists
---------------
pulumi-policy 1.21's analyzer servicer (`pulumi_policy.policy._PolicyAnalyzerServicer`) builds
the arguments of every policy from scratch: for each Analyze request it runs

    deserialize_properties(json_format.MessageToDict(request.properties))  -> unknown_checking_proxy

(and the same for the provider's properties) once per *resource policy*, and in AnalyzeStack
once per *stack policy* for every resource of the stack. With 49 policies that is ~49
protobuf-to-dict conversions and deep proxy copies per resource, and it was ~75% of the
pack's CPU (profiled with cProfile around Analyze/AnalyzeStack), although most policies look
at the resource type and return without reading a single property.

What it changes
---------------
Only while the servicer's Analyze or AnalyzeStack runs (a thread-local request scope, so
Configure, Remediate and anything else are untouched), the three helpers that module uses
are replaced, in `pulumi_policy.policy`'s namespace only, by:

- `json_format.MessageToDict(message)`: memoised per message object for the request. The
  message is kept referenced by the memo, so an `id()` cannot be reused within the request;
  the result only ever feeds `deserialize_properties`, which copies it.
- `deserialize_properties(props)`: memoised per (memoised) input dict. Its result only ever
  feeds `unknown_checking_proxy`, which copies every container again, so no policy ever
  holds it. Leaves are immutable scalars (or pulumi asset/archive objects, as before).
- `unknown_checking_proxy(props)`: returns a `_LazyDictProxy`, a `_DictProxy` that runs the
  SDK's own `unknown_checking_proxy` on first use. Every policy still gets its own, fully
  independent proxy (writes through one are invisible to the others, as before), with the
  SDK's exact unknown-value checks; a policy that never reads props never pays for it.

Everything else (which policies run, enforcement levels, config handling, not-applicable
and unknown-value diagnostics, response order) is the SDK's own code, unchanged.

Safety
------
`install()` patches only pulumi-policy >=1.21,<2 whose internals match what is described
above (the names, their identity with the public functions, the call pattern in the
servicer's source). Otherwise it prints why to stderr and leaves the SDK unpatched: the pack
is then just slower. ECS_POLICY_SDK_FASTPATH=0 in the pack's environment disables it.
tests/policies/test_sdk_fastpath.py checks that the verdicts are identical either way.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import sys
import threading
from typing import Any, Callable, Dict, List, Optional

DISABLE_ENV = "ECS_POLICY_SDK_FASTPATH"
SUPPORTED = ((1, 21), (2, 0))  # [lower, upper) of pulumi-policy's (major, minor)
_EXPECTED_CALLS = (
    "deserialize_properties(json_format.MessageToDict(",
    "unknown_checking_proxy(deserialized)",
)

# AnalyzeStack is replaced (below), not wrapped: it is the SDK's code with the resources built
# once instead of once per stack policy. It is used only when the SDK's own AnalyzeStack is
# exactly the 1.21.0 one it was copied from (sha256 of its source); otherwise the SDK's runs.
_ANALYZE_STACK_SHA256 = {"3917a008482c2387d7da37f65d889970933e8df8efc57270559e20b36be837bf"}
_SERVICER_STATE = ("policies", "policy_pack_name", "policy_pack_version", "stack_tags")

_scope = threading.local()  # .memo: dict while a servicer request runs on this thread, else None
_installed = False


def install() -> bool:
    """Patches the SDK if it is safe to; returns whether the fast path is active."""
    global _installed
    if _installed:
        return True
    if os.environ.get(DISABLE_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    problem = _incompatibility()
    if problem is not None:
        print(f"policies/sdk_fastpath.py: not patching pulumi-policy ({problem}); "
              "policies run unpatched, only slower", file=sys.stderr, flush=True)
        return False
    _patch()
    _installed = True
    return True


# ---- the checks ---------------------------------------------------------------------------


def _incompatibility() -> Optional[str]:
    """Why patching would be unsafe, or None."""
    try:
        from google.protobuf import json_format
        from pulumi_policy import deserialize, policy, proxy
        from pulumi_policy.version import VERSION
    except ImportError as error:
        return f"cannot import its internals: {error}"
    try:
        version = tuple(int(part) for part in VERSION.split(".")[:2])
    except ValueError:
        return f"unparsable version {VERSION!r}"
    if not SUPPORTED[0] <= version < SUPPORTED[1]:
        return f"version {VERSION} is outside >=1.21,<2"
    servicer = getattr(policy, "_PolicyAnalyzerServicer", None)
    if servicer is None:
        return "no _PolicyAnalyzerServicer"
    if getattr(policy, "json_format", None) is not json_format:
        return "pulumi_policy.policy.json_format is not google.protobuf.json_format"
    if getattr(policy, "deserialize_properties", None) is not deserialize.deserialize_properties:
        return "pulumi_policy.policy.deserialize_properties is not the public one"
    if getattr(policy, "unknown_checking_proxy", None) is not proxy.unknown_checking_proxy:
        return "pulumi_policy.policy.unknown_checking_proxy is not the public one"
    if not isinstance(getattr(proxy, "_DictProxy", None), type):
        return "no pulumi_policy.proxy._DictProxy"
    try:
        init = inspect.signature(proxy._DictProxy.__init__)
    except (TypeError, ValueError):
        return "cannot inspect _DictProxy.__init__"
    if list(init.parameters) != ["self", "target", "props_acc"]:
        return f"_DictProxy.__init__{init} differs"
    annotations = getattr(servicer, "__annotations__", {})
    missing = [name for name in _SERVICER_STATE if f"_PolicyAnalyzerServicer__{name}" not in annotations]
    if missing:
        return f"_PolicyAnalyzerServicer has no __{missing[0]}"
    for name in ("Analyze", "AnalyzeStack"):
        method = getattr(servicer, name, None)
        if not callable(method):
            return f"no _PolicyAnalyzerServicer.{name}"
        try:
            source = inspect.getsource(method)
        except (OSError, TypeError):
            return f"no source for _PolicyAnalyzerServicer.{name}"
        missing = [call for call in _EXPECTED_CALLS if call not in source]
        if missing:
            return f"_PolicyAnalyzerServicer.{name} no longer calls {missing[0]}..."
    return None


# ---- the patch ----------------------------------------------------------------------------


def _patch() -> None:
    from google.protobuf import json_format
    from pulumi_policy import policy, proxy

    servicer = policy._PolicyAnalyzerServicer
    servicer.Analyze = _request_scope(servicer.Analyze, analyze=True)
    if _source_sha256(servicer.AnalyzeStack) in _ANALYZE_STACK_SHA256:
        servicer.AnalyzeStack = _request_scope(_analyze_stack, analyze=False)
    else:
        print("policies/sdk_fastpath.py: pulumi-policy's AnalyzeStack differs from 1.21.0's; "
              "stack policies each rebuild the resources (unpatched, only slower)", file=sys.stderr, flush=True)
        servicer.AnalyzeStack = _request_scope(servicer.AnalyzeStack, analyze=False)
    policy.json_format = _JsonFormat(json_format)
    policy.deserialize_properties = _memoised_deserialize(policy.deserialize_properties)
    policy.unknown_checking_proxy = _lazy_proxy(policy.unknown_checking_proxy, proxy._DictProxy)


def _request_scope(method: Callable, analyze: bool) -> Callable:
    @functools.wraps(method)
    def scoped(self, request, context):
        outer = getattr(_scope, "memo", None), getattr(_scope, "resource_type", None)
        _scope.memo = {}
        _scope.resource_type = request.type if analyze else None
        try:
            return method(self, request, context)
        finally:
            _scope.memo, _scope.resource_type = outer

    return scoped


def _source_sha256(function: Callable) -> Optional[str]:
    try:
        return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()
    except (OSError, TypeError):
        return None


def _analyze_stack(self, request, _context):
    """pulumi-policy 1.21.0's _PolicyAnalyzerServicer.AnalyzeStack, verbatim but for one thing:
    the PolicyResource list is built once per request (on the first enabled stack policy)
    and handed to every stack policy, instead of rebuilt from the request per policy. Stack
    policies of this pack only read the resources (framework.Stack copies what it reads)."""
    from pulumi_policy.policy import (
        EnforcementLevel,
        PolicyResource,
        StackValidationArgs,
        StackValidationPolicy,
        UnknownValueError,
        _NotApplicableError,
        _PolicyAnalyzerServicer,
        asyncio,
        deserialize_properties,
        isawaitable,
        json_format,
        proto,
        unknown_checking_proxy,
    )

    self._configure_runtime_settings()

    response = proto.AnalyzeResponse()
    resources: Optional[List[PolicyResource]] = None
    pack_name = self._PolicyAnalyzerServicer__policy_pack_name
    pack_version = self._PolicyAnalyzerServicer__policy_pack_version

    for policy in self._PolicyAnalyzerServicer__policies:
        enforcement_level = self._get_enforcement_level(policy)
        if enforcement_level == EnforcementLevel.DISABLED or not isinstance(policy, StackValidationPolicy):
            continue
        if enforcement_level == EnforcementLevel.REMEDIATE:
            # Stack policies cannot be remediated, so treat the level as mandatory.
            enforcement_level = EnforcementLevel.MANDATORY

        report_violation = self._create_report_violation(response, policy.name,
                                                         policy.description, enforcement_level, policy.severity)

        if resources is None:  # the SDK's building, hoisted out of the policy loop
            intermediates: List[_PolicyAnalyzerServicer.IntermediateStackResource] = []
            for r in request.resources:
                # Converted once here, so not memoised: the memo would keep every resource's
                # intermediate dict alive until the response (about 3 MB at 800 resources).
                deserialized = deserialize_properties.__wrapped__(json_format.convert(r.properties))
                props = unknown_checking_proxy(deserialized)
                opts = self._get_resource_options(r)
                provider = self._get_provider_resource(r)
                resource = PolicyResource(r.type, props, r.urn, r.name, opts, provider, None, [], {})
                property_dependencies: Dict[str, List[str]] = {}
                for k, v in r.propertyDependencies.items():
                    property_dependencies[k] = list(v.urns)
                intermediates.append(_PolicyAnalyzerServicer.IntermediateStackResource(
                    resource, r.parent, list(r.dependencies), property_dependencies))

            urns_to_resources: Dict[str, PolicyResource] = {}
            for i in intermediates:
                urns_to_resources[i.resource.urn] = i.resource

            for i in intermediates:
                if i.parent is not None and i.parent in urns_to_resources:
                    i.resource.parent = urns_to_resources[i.parent]
                for d in i.dependencies:
                    if d in urns_to_resources:
                        i.resource.dependencies.append(urns_to_resources[d])
                for k in i.property_dependencies:
                    v = i.property_dependencies[k]
                    deps: List[PolicyResource] = []
                    for d in v:
                        if d in urns_to_resources:
                            deps.append(urns_to_resources[d])
                    i.resource.property_dependencies[k] = deps

            resources = [i.resource for i in intermediates]
        config = self._get_policy_config(policy.name)
        args = StackValidationArgs(list(resources), config, self._PolicyAnalyzerServicer__stack_tags)

        try:
            result = policy.validate(args, report_violation)
            if isawaitable(result):
                loop = asyncio.new_event_loop()
                task = asyncio.Task(result, loop=loop)
                loop.run_until_complete(task)
                loop.close()
        except UnknownValueError as e:
            response.diagnostics.append(proto.AnalyzeDiagnostic(
                policyName=policy.name,
                policyPackName=pack_name,
                policyPackVersion=pack_version,
                message=(f"can't run policy '{policy.name}' from policy pack "
                         f"'{pack_name}@v{pack_version}' during preview: {e.message}"),
                urn="",
                description=policy.description,
                enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY),
            ))
        except _NotApplicableError as e:
            response.not_applicable.append(proto.PolicyNotApplicable(
                policy_name=policy.name,
                reason=e.reason or "",
            ))

    return response


def _memo() -> Optional[dict]:
    return getattr(_scope, "memo", None)


class _NotJson(Exception):
    """A number MessageToDict refuses (inf, NaN): convert with MessageToDict, which raises."""


def _struct_to_dict(struct) -> dict:
    """MessageToDict(struct) for a google.protobuf.Struct, without json_format's generic,
    descriptor-driven printer (it was a quarter of Analyze once everything else was cached).
    The same result: keys in the same order; null (or unset) -> None, numbers -> float,
    strings, bools, nested Structs -> dicts, ListValues -> lists. The one case where
    MessageToDict raises (a non-finite number) raises _NotJson so the caller can defer to it."""
    fields = struct.fields  # indexed, not .items(): the map's items() is abc-mixin Python code
    return {key: _value_to_py(fields[key]) for key in fields}


def _value_to_py(value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return _struct_to_dict(value.struct_value)
    if kind == "bool_value":
        return value.bool_value
    if kind == "number_value":
        number = value.number_value
        if number - number != 0:  # inf or NaN (both give NaN here)
            raise _NotJson
        return number
    if kind == "list_value":
        return [_value_to_py(item) for item in value.list_value.values]
    return None  # null_value, or nothing set


class _JsonFormat:
    """google.protobuf.json_format as pulumi_policy.policy sees it: MessageToDict with only
    the message argument is memoised per message object within a request, and converts a
    Struct (all the servicer ever converts there: properties) with `_struct_to_dict`."""

    def __init__(self, module: Any):
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def MessageToDict(self, message, *args, **kwargs):  # noqa: N802 (the SDK's name)
        memo = _memo()
        if memo is None or args or kwargs:
            return self._module.MessageToDict(message, *args, **kwargs)
        key = ("MessageToDict", id(message))
        hit = memo.get(key)
        if hit is None or hit[0] is not message:
            hit = memo[key] = (message, self.convert(message))
        return hit[1]

    def convert(self, message) -> Any:
        """MessageToDict(message), not memoised."""
        if message.DESCRIPTOR.full_name == "google.protobuf.Struct":
            try:
                return _struct_to_dict(message)
            except _NotJson:
                pass
        return self._module.MessageToDict(message)


def _memoised_deserialize(deserialize_properties: Callable) -> Callable:
    @functools.wraps(deserialize_properties)
    def deserialize(props, *args, **kwargs):
        memo = _memo()
        if memo is None or args or kwargs:  # e.g. Remediate's proxy_secrets=True
            return deserialize_properties(props, *args, **kwargs)
        key = ("deserialize_properties", id(props))
        hit = memo.get(key)
        if hit is None or hit[0] is not props:
            hit = memo[key] = (props, deserialize_properties(props))
        return hit[1]

    return deserialize


def _lazy_proxy(unknown_checking_proxy: Callable, dict_proxy: type) -> Callable:
    class _LazyDictProxy(dict_proxy):
        """A _DictProxy whose contents are unknown_checking_proxy(source), built on first use.
        Once built it *is* that proxy's state (same target dict, same empty path)."""

        def __init__(self, source: dict):  # noqa: super().__init__ runs in _build
            self._lazy_source = source

        @property
        def unread_source(self) -> Optional[dict]:
            """The deserialized properties while nothing has read or written this proxy, else
            None. helpers.plain copies these directly (see `shared_plain`) instead of building
            the proxy only to unwrap it again."""
            return self._lazy_source

        def _build(self) -> None:
            source = self._lazy_source
            if source is not None:
                self._lazy_source = None
                dict_proxy.__init__(self, unknown_checking_proxy(source)["__target"], [])

        def __getitem__(self, key):
            self._build()
            return dict_proxy.__getitem__(self, key)

        def __setitem__(self, key, value):
            self._build()
            dict_proxy.__setitem__(self, key, value)

        def __len__(self):
            self._build()
            return dict_proxy.__len__(self)

        def __iter__(self):
            self._build()
            return dict_proxy.__iter__(self)

    @functools.wraps(unknown_checking_proxy)
    def lazy(props):
        if _memo() is None or type(props) is not dict:
            return unknown_checking_proxy(props)
        return _LazyDictProxy(props)

    return lazy


def shared_plain(source: dict, copy: Callable[[Any], Any]) -> Any:
    """copy(source), made once per request and source and then handed to every policy of it.

    helpers.plain used to receive each policy's own proxy: unknown_checking_proxy copied the
    properties into proxies, then plain copied them back into dicts, per policy (2-3 per
    resource), and that was the largest own cost of Analyze. A proxy that nobody has touched
    is exactly its source, so plain can copy the source instead (same dicts, lists, leaves,
    sentinels kept as strings: `get` finds unknowns in them as before), and once per request:
    rules only read the props they are given (as with helpers.json_value's shared documents).
    The copy still keeps the SDK's memoised source out of the rules' reach. Outside a request
    scope it is a plain copy every time."""
    memo = _memo()
    if memo is None:
        return copy(source)
    key = ("plain", id(source))
    hit = memo.get(key)
    if hit is None or hit[0] is not source:
        hit = memo[key] = (source, copy(source))
    return hit[1]


# ---- dispatch by resource type ------------------------------------------------------------


class PolicyList(list):
    """The pack's policy list, as handed to PolicyPack (the servicer keeps this very list).

    The servicer's Analyze loops over every policy for every resource, building each one's
    arguments, although a resource policy of ours returns at once for a resource type it
    does not check (ResourceRule._validate: `if args.resource_type not in self.types`). While
    the patched Analyze runs, iterating this list therefore yields only what can act on the
    request's resource type: the resource policies whose rule checks that type, and every
    policy we know nothing about. Stack policies are left out too: Analyze skips them
    (`not isinstance(policy, ResourceValidationPolicy)`) after a side-effect-free level
    lookup. Everywhere else (GetAnalyzerInfo, AnalyzeStack, Remediate, Configure; or when the
    patch is not installed) it is the full list in its order."""

    def __init__(self, policies: list, types_by_name: dict[str, tuple[str, ...]]):
        super().__init__(policies)
        self._types_by_name = dict(types_by_name)
        self._for_type: dict[str, list] = {}

    def __iter__(self):
        resource_type = getattr(_scope, "resource_type", None)
        if resource_type is None:
            return super().__iter__()
        selected = self._for_type.get(resource_type)
        if selected is None:
            selected = self._for_type[resource_type] = self._select(resource_type)
        return iter(selected)

    def _select(self, resource_type: str) -> list:
        from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

        selected = []
        for policy in super().__iter__():
            if type(policy) is StackValidationPolicy:
                continue
            types = self._types_by_name.get(policy.name)
            if type(policy) is ResourceValidationPolicy and types is not None and resource_type not in types:
                continue
            selected.append(policy)
        return selected
