"""The stack outputs (`vpc_id`, `cluster_name`, `repository_urls`, `service_urls`) of every
environment, computed independently from its file and the resources the program registered:
they are what operators and `run.py task`/`ci-role` read from `pulumi stack output --json`."""

from __future__ import annotations

import pytest

from review.offline import _short_hash, mock_id
from tests.harness import REFERENCE_ENVIRONMENTS, reference_config, reference_plan

ALB = "aws:lb/loadBalancer:LoadBalancer"


def expected_service_urls(config, plan) -> dict[str, str]:
    exposed = {key: svc for key, svc in config.services.items() if svc.expose is not None}
    if not exposed:
        return {}
    [alb] = plan.of_type(ALB)
    scheme = "https" if config.load_balancer.certificate_arn else "http"
    # The DNS name the mocks give the ALB (review.offline), as AWS would return one.
    host = f"{alb.name}-{_short_hash(alb.name)}.{config.aws.region}.elb.amazonaws.com"
    return {
        key: f"{scheme}://{host}" + (svc.expose.paths[0].rstrip("*") if svc.expose.paths else "/")
        for key, svc in exposed.items()
    }


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_stack_outputs(environment):
    config, plan = reference_config(environment), reference_plan(environment)
    account, region = config.aws.account_id or "123456789012", config.aws.region
    [vpc] = plan.of_type("aws:ec2/vpc:Vpc")
    [cluster] = plan.of_type("aws:ecs/cluster:Cluster")
    assert plan.outputs["vpc_id"] == mock_id(vpc.type, vpc.name)
    assert plan.outputs["cluster_name"] == cluster.props["name"] == f"{environment}-cluster"
    assert plan.outputs["repository_urls"] == {
        key: f"{account}.dkr.ecr.{region}.amazonaws.com/{environment}/{key}" for key in config.registry.repositories
    }
    assert plan.outputs["service_urls"] == expected_service_urls(config, plan)


def test_dev_outputs_literally():
    """One environment spelled out, so a change of format shows here first."""
    outputs = reference_plan("dev").outputs
    assert (outputs["vpc_id"], outputs["cluster_name"]) == ("vpc-ee51c245d6f2", "dev-cluster")
    assert outputs["repository_urls"] == {
        "api": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/dev/api",
        "worker": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/dev/worker",
    }
    assert outputs["service_urls"] == {"api": "http://dev-alb-26f935a78a50.eu-west-1.elb.amazonaws.com/api/"}
