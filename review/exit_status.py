"""The exit status of `plan` and `review diff`: one decision, shared by both commands.

0 done; 2 bad input; 3 an unreadable ref or file; 4 the change must not ship (a mandatory
policy violation remains, or the estimate exceeds the environment's budget). The report is
always printed in full first: the status only says whether a build may go on. `--policy report-only` keeps 0 for policy violations; an estimate
over the environment's `budget` is 4 either way.
"""

from __future__ import annotations

from typing import Optional

from review.budget import BudgetVerdict
from review.verdict import PolicyResult

DONE = 0
BAD_INPUT = 2
UNREADABLE = 3
BLOCKED = 4

POLICY_MODES = ("enforce", "report-only")


def exit_status(policy: Optional[PolicyResult], *, policy_mode: str = "enforce", budget: Optional[BudgetVerdict] = None) -> int:
    """BLOCKED when the verdict of what would ship (a plan, or the head of a diff) has a
    mandatory violation and the policy is enforced, or when its estimate exceeds the
    environment's budget (report-only is about policy findings, not money); DONE otherwise
    (also when the pack was not asked, --no-policy)."""
    if policy_mode == "enforce" and policy is not None and not policy.passed:
        return BLOCKED
    if budget is not None and budget.exceeded:
        return BLOCKED
    return DONE
