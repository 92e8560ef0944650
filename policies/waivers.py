"""The pack's own rule: waivers stay valid. An expired waiver stops covering its resource
(see Settings.waiver_for) and fails here, whatever level the waived policy has."""

from __future__ import annotations

from collections.abc import Iterable

from .framework import Settings, Stack, StackRule, Waiver


def waivers_valid(_subject, _stack: Stack, settings: Settings) -> Iterable[str]:
    from .registry import RULES_BY_NAME  # the registry lists this module's rule too

    known = set(settings.option("policyNames"))
    longest = int(settings.option("maxWaiverDays"))
    for raw in settings.option("allWaivers"):
        waiver = Waiver.parse(raw, "")
        if waiver.expired(settings.today):
            yield f"the waiver of {waiver.policy} for {waiver.resource} expired on {waiver.expires.isoformat()}"
        elif (waiver.expires - settings.today).days > longest:
            yield (f"the waiver of {waiver.policy} for {waiver.resource} runs until {waiver.expires.isoformat()}, "
                   f"more than {longest} days away")
        if known and not waiver.policy:
            yield f"the waiver for {waiver.resource} names no policy"
        elif known and waiver.policy not in known:
            yield f"the waiver names {waiver.policy}, which is not a policy of this pack"
        rule = RULES_BY_NAME.get(waiver.policy)
        if rule is not None and rule.category == "security" and not waiver.approved_by:
            yield f"the waiver of the security rule {waiver.policy} for {waiver.resource} has no approved_by"


RULES = [
    StackRule(
        name="aws-pack-waiver-valid",
        description="Every waiver names a policy of the pack, has not expired, expires within maxWaiverDays, and has approved_by for a security rule.",
        remediation="fix the resource and delete the waiver, or renew it in policies/governance.yaml with a new reason, expiry and approval",
        category="governance",
        check=waivers_valid,
        options={"allWaivers": [], "policyNames": [], "maxWaiverDays": 180},
        option_schema={
            "allWaivers": {"type": "array", "items": {"type": "object"}},
            "policyNames": {"type": "array", "items": {"type": "string"}},
            "maxWaiverDays": {"type": "integer"},
        },
    ),
]
