"""Whole violations, for the edge-case tests: the policy, the resource and the entire message (the
rule's description, a newline, "<resource>: <problem>. Fix: <remediation>"), so a change to
any word of a problem sentence fails a test, not only to the fragment a test happens to quote."""

from __future__ import annotations

from policies.registry import RULES_BY_NAME
from review.policy_verdict import Verdict

from .stack import ENV


def violation(policy: str, resource: str, problem: str) -> tuple[str, str, str, str]:
    """One expected violation (every policy is mandatory under all_mandatory())."""
    rule = RULES_BY_NAME[policy]
    return (policy, "mandatory", resource, f"{rule.description}\n{resource}: {problem}. Fix: {rule.remediation}")


def violations(verdict: Verdict) -> list[tuple[str, str, str, str]]:
    return sorted((v.policy, v.level, v.resource, v.message) for v in verdict.violations)


def expected(*found: tuple[str, str, str]) -> list[tuple[str, str, str, str]]:
    """expected((policy, resource, problem), ...) in the order violations() gives."""
    return sorted(violation(*one) for one in found)


def problems(verdict: Verdict) -> list[tuple[str, str, str]]:
    """Every violation as (policy, resource, problem), sorted, after checking that each is
    mandatory and its message has exactly the shape above (a violation of the stack as a whole
    has no resource, and its message names the environment)."""
    found = []
    for v in verdict.violations:
        rule = RULES_BY_NAME[v.policy]
        head, tail = f"{rule.description}\n{v.resource or ENV}: ", f". Fix: {rule.remediation}"
        assert v.level == "mandatory" and v.message.startswith(head) and v.message.endswith(tail), v
        found.append((v.policy, v.resource, v.message[len(head):-len(tail)]))
    return sorted(found)
