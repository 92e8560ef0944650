"""The policy verdict of a plan, from the real CrossGuard pack over its gRPC protocol
(review/policy_verdict.py), configured for each side from that side's environment file and the
working tree's policies/governance.yaml (policies/config_gen.pack_config): both sides are judged
by the governance that would ship, so a waiver added in a change shows as waived there."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Optional, Sequence

from configs.model import EnvironmentConfig
from review.offline import CapturedResource, Plan
from review.policy_verdict import PolicyPackClient, StackAnalysis, Verdict, as_resource


@dataclass(frozen=True)
class Finding:
    policy: str
    level: str  # mandatory | advisory | waived
    resource: str
    detail: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.policy, self.level, self.resource)


@dataclass(frozen=True)
class PolicyResult:
    findings: tuple[Finding, ...]

    def at(self, level: str) -> list[Finding]:
        return [f for f in self.findings if f.level == level]

    @property
    def passed(self) -> bool:
        return not self.at("mandatory")

    def headline(self) -> str:
        counts = f"{len(self.at('mandatory'))} mandatory, {len(self.at('advisory'))} advisory, {len(self.at('waived'))} waived"
        return f"{'PASS' if self.passed else 'FAIL'} ({counts})"


def findings_of(verdict: Verdict) -> PolicyResult:
    found = [
        Finding(v.policy, v.level, v.resource or "the stack", v.message.split("\n", 1)[-1].strip())
        for v in verdict.violations
    ]
    found += [
        Finding(policy, "waived", resource or "the stack", reason)
        for policy, resource, reason in verdict.not_applicable
        if reason.startswith("waived")
    ]
    order = {"mandatory": 0, "advisory": 1, "waived": 2}
    return PolicyResult(tuple(sorted(set(found), key=lambda f: (order.get(f.level, 3), f.policy, f.resource, f.detail))))


def policy_results(sides: Sequence[tuple[EnvironmentConfig, Plan]], pack: Optional[PolicyPackClient] = None) -> list[PolicyResult]:
    """One pack process for all sides: it starts in about a second, Analyze takes ~1 ms.
    `pack`: one the caller spawned earlier (so its start-up overlapped the program); closed here."""
    from policies.config_gen import pack_config

    if not sides:
        if pack is not None:
            pack.close()
        return []
    results = []
    with (pack or PolicyPackClient(stack=sides[0][0].environment)) as client:
        for config, plan in sides:
            client.stack = config.environment
            client.configure(pack_config(config))
            results.append(findings_of(client.analyze(plan.resources)))
    return results


_END = object()  # after the last resource: send AnalyzeStack and answer
_ABANDON = object()  # the program failed: stop without a verdict


class PolicyFeed:
    """One side's verdict, asked while its program still registers: `submit` (the offline
    monitor's `on_register`) hands each resource to a thread that sends its Analyze at once,
    so the pack judges it on the other core while the program goes on; `result` sends
    AnalyzeStack after the last one. The pack receives exactly what policy_results sends
    (the same requests, in plan order, under the same configuration)."""

    def __init__(self, pack: PolicyPackClient, config: EnvironmentConfig):
        self._pack = pack
        self._config = config
        self._resources: queue.SimpleQueue = queue.SimpleQueue()
        self._verdict: Optional[Verdict] = None
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._judge, name=f"policy-feed-{config.environment}", daemon=True)
        self._thread.start()

    def submit(self, resource: CapturedResource) -> None:
        self._resources.put(resource)

    def result(self) -> PolicyResult:
        self._resources.put(_END)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return findings_of(self._verdict)

    def abandon(self) -> None:
        self._resources.put(_ABANDON)
        self._thread.join()

    def _judge(self) -> None:
        from policies.config_gen import pack_config

        analysis: Optional[StackAnalysis] = None
        try:
            self._pack.connect()  # waits for the pack's start-up, not the program
            self._pack.stack = self._config.environment
            self._pack.configure(pack_config(self._config))
            analysis = self._pack.analysis()
            while (item := self._resources.get()) is not _END:
                if item is _ABANDON:
                    analysis.abandon()
                    return
                analysis.add(as_resource(item), item.urn)
            self._verdict = analysis.finish()
        except BaseException as error:  # re-raised by result(), in the caller's thread
            self._error = error
            if analysis is not None:
                analysis.abandon()
