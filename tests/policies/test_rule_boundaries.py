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


def test_the_ecs_infrastructure_policy_only_on_a_role_only_ecs_assumes():
    from policies.iam import managed_policy_problem

    arn = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
    assert managed_policy_problem(arn, instance_role=False, infrastructure_role=True) == ""
    assert managed_policy_problem(arn, instance_role=True) == f"attaches {arn}, which is for the ECS infrastructure role only"
    assert managed_policy_problem(arn, instance_role=False) == f"attaches {arn}, which is for the ECS infrastructure role only"
