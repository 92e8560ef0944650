"""Whole verdicts for the edge-case tests (test_*_edges.py): every violation as (policy,
resource, problem), the problem being the message between "<resource>: " and ". Fix: ", after
checking that the message has exactly the pack's shape (the rule's description, a newline, the
resource (the environment for a violation of the stack as a whole), the problem, the rule's
remediation)."""

from __future__ import annotations

from policies.registry import RULES_BY_NAME

from .stack import ENV


def problems(verdict) -> list[tuple[str, str, str]]:
    found = []
    for violation in verdict.violations:
        rule = RULES_BY_NAME[violation.policy]
        head, tail = f"{rule.description}\n{violation.resource or ENV}: ", f". Fix: {rule.remediation}"
        assert violation.message.startswith(head) and violation.message.endswith(tail), violation.message
        assert violation.level == "mandatory", violation
        found.append((violation.policy, violation.resource, violation.message[len(head):-len(tail)]))
    return sorted(found)
