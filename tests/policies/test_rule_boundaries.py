"""Boundaries of rules whose conditions have two independent ways to be satisfied: each way
alone must pass, and only neither must fail (a test per side, so `or` cannot become `and`)."""

from __future__ import annotations

import pytest

from .stack import edited, set_

SERVICE = "prod-api-service"
ON_EC2 = set_(SERVICE, "capacityProviderStrategies", [{"capacityProvider": "prod-general", "weight": 1}])


def distribution(base, percent):
    return set_("prod-general-asg", "mixedInstancesPolicy.instancesDistribution",
                {"onDemandBaseCapacity": base, "onDemandPercentageAboveBaseCapacity": percent})


@pytest.mark.parametrize(
    ("base", "percent", "violations"),
    [
        pytest.param(1, 0, [], id="an-on-demand-base-alone"),
        pytest.param(0, 25, [], id="an-on-demand-percent-alone"),
        pytest.param(0, 0, [("aws-ecs-service-on-demand-share", "mandatory", SERVICE)], id="neither"),
    ],
)
def test_an_ec2_provider_is_on_demand_through_its_base_or_its_percent(pack, base, percent, violations):
    assert pack.verdict(edited(ON_EC2, distribution(base, percent))).summary() == violations
