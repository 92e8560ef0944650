"""The pack's own gRPC servicer called in the test process, for mutation runs only.

bench/mutation.py sets POLICY_PACK_IN_PROCESS=1 so that mutmut, which learns which tests reach
a function by watching the test process, can mutate the rule modules. Everything else stays
the same: the same client (review/policy_verdict.py) builds the same protobuf requests, and
pulumi-policy's servicer answers them with the registry that policies/__main__.py builds, on
the same fixed day; only the socket and the second process are gone. The suite itself always
goes through the real subprocess and gRPC channel.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from review.policy_verdict import PolicyPackClient

ENABLED = os.environ.get("POLICY_PACK_IN_PROCESS") == "1"


class _Answered:
    """What a gRPC future gives once answered."""

    def __init__(self, value: Any):
        self._value = value

    def result(self) -> Any:
        return self._value

    def cancel(self) -> bool:
        return False


class _Method:
    def __init__(self, handler: Callable[[Any, Any], Any]):
        self._handler = handler

    def __call__(self, request: Any) -> Any:
        return self._handler(request, None)

    def future(self, request: Any) -> _Answered:
        return _Answered(self._handler(request, None))


class _Stub:
    """The four calls the client makes, answered by the servicer directly."""

    def __init__(self, servicer: _PolicyAnalyzerServicer):
        for name in ("GetAnalyzerInfo", "Configure", "Analyze", "AnalyzeStack"):
            setattr(self, name, _Method(getattr(servicer, name)))


def clear_pack_caches() -> None:
    """Empties the pack modules' functools caches (parsed documents, expanded IAM patterns,
    detect-secrets' verdicts), as a new pack process starts. mutmut forks each mutant's test
    run from the process that ran the suite once: without this, a cache filled there answers
    in the child, and a mutant in a function called only beneath it (iam_meaning._glob under
    expand, canonical_keys under _canonical_containers) would never run and falsely survive."""
    for name, module in list(sys.modules.items()):
        if name == "policies" or name.startswith("policies."):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def _servicer() -> _PolicyAnalyzerServicer:
    """What policies/__main__.py serves, imported as the `policies` package."""
    from policies import clock, registry, sdk_fastpath

    clock.start_at(clock.from_arguments(PolicyPackClient._clock_arguments()))
    policies = registry.build_policies()
    if sdk_fastpath.install():
        policies = sdk_fastpath.PolicyList(policies, registry.resource_types())
    return _PolicyAnalyzerServicer("ecs-platform", "0.0.1", policies, EnforcementLevel.ADVISORY)


class InProcessPackClient(PolicyPackClient):
    def spawn(self) -> "InProcessPackClient":
        return self

    def connect(self) -> "InProcessPackClient":
        if self._stub is None:
            clear_pack_caches()
            self._stub = _Stub(_servicer())
            self.info = self._stub.GetAnalyzerInfo(None)
        return self

    def close(self) -> None:
        pass

    def analysis(self):
        # The client answers a request it has already sent under the same configuration from its
        # cache, so a rule runs only for the first test that sends a given resource. mutmut learns
        # which tests judge a function from the calls it sees, so a later test with the same
        # request (a stricter assertion on the same edit) would never be run against that rule's
        # mutants: under mutation every analysis asks the pack anew.
        self._answers.clear()
        return super().analysis()
