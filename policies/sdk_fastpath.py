"""Deserialize each analyzer request's properties once, not once per policy.

Why this exists
---------------
pulumi-policy 1.21's analyzer servicer (`pulumi_policy.policy._PolicyAnalyzerServicer`) builds
the arguments of every policy from scratch: for each Analyze request it runs

    deserialize_properties(json_format.MessageToDict(request.properties))  -> unknown_checking_proxy

(and the same for the provider's properties) once per *resource policy*, and in AnalyzeStack
once per *stack policy* for every resource of the stack. With 46 policies that is ~46
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
import inspect
import os
import sys
import threading
from typing import Any, Callable, Optional

DISABLE_ENV = "ECS_POLICY_SDK_FASTPATH"
SUPPORTED = ((1, 21), (2, 0))  # [lower, upper) of pulumi-policy's (major, minor)
_EXPECTED_CALLS = (
    "deserialize_properties(json_format.MessageToDict(",
    "unknown_checking_proxy(deserialized)",
)

_scope = threading.local()  # .memo: dict while a servicer request runs on this thread, else None
_installed = False


def installed() -> bool:
    return _installed


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
    servicer.Analyze = _request_scope(servicer.Analyze)
    servicer.AnalyzeStack = _request_scope(servicer.AnalyzeStack)
    policy.json_format = _JsonFormat(json_format)
    policy.deserialize_properties = _memoised_deserialize(policy.deserialize_properties)
    policy.unknown_checking_proxy = _lazy_proxy(policy.unknown_checking_proxy, proxy._DictProxy)


def _request_scope(method: Callable) -> Callable:
    @functools.wraps(method)
    def scoped(self, request, context):
        outer = getattr(_scope, "memo", None)
        _scope.memo = {}
        try:
            return method(self, request, context)
        finally:
            _scope.memo = outer

    return scoped


def _memo() -> Optional[dict]:
    return getattr(_scope, "memo", None)


class _JsonFormat:
    """google.protobuf.json_format as pulumi_policy.policy sees it: MessageToDict with only
    the message argument is memoised per message object within a request."""

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
            hit = memo[key] = (message, self._module.MessageToDict(message))
        return hit[1]


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
