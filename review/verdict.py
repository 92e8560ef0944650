"""The policy verdict of a plan, from the real CrossGuard pack over its gRPC protocol
(review/policy_verdict.py), configured for each side from that side's environment file and the
working tree's policies/governance.yaml (policies/config_gen.pack_config): both sides are judged
by the governance that would ship, so a waiver added in a change shows as waived there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from configs.model import EnvironmentConfig
from review.offline import Plan
from review.policy_verdict import PolicyPackClient, Verdict


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
