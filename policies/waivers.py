"""The pack's own rule: waivers stay valid. An expired waiver stops covering its resource
(see Settings.waiver_for) and fails here, whatever level the waived policy has."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import Settings, Stack, StackRule, Waiver


def waivers_valid(_subject, _stack: Stack, settings: Settings) -> Iterable[str]:
    known = set(settings.option("policyNames"))
    for raw in settings.option("allWaivers"):
        waiver = Waiver.parse(raw, "")
        if waiver.expired(settings.today):
            yield f"the waiver of {waiver.policy} for {waiver.resource} expired on {waiver.expires.isoformat()}"
        if known and waiver.policy not in known:
            yield f"the waiver names {waiver.policy}, which is not a policy of this pack"


RULES = [
    StackRule(
        name="aws-pack-waiver-valid",
        description="Every waiver names a policy of the pack and has not expired.",
        remediation="fix the resource and delete the waiver, or renew it in policy.waivers with a new reason and expiry",
        category="governance",
        check=waivers_valid,
        options={"allWaivers": [], "policyNames": []},
        option_schema={
            "allWaivers": {"type": "array", "items": {"type": "object"}},
            "policyNames": {"type": "array", "items": {"type": "string"}},
        },
    ),
]
