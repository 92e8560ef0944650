"""The pack's aws-vpc-endpoints-without-nat derives what `endpoints: auto` derives (one rule,
policies/endpoint_needs.py), from the resources alone: a job's secret and a queue-scaled
service's SQS calls need their endpoints in a VPC without NAT."""

from __future__ import annotations

import pytest

from configs.endpoints import required_endpoints
from policies.config_gen import pack_config
from review.offline import run_program
from tests.harness import REFERENCE_ENVIRONMENTS, edited

RULE = "aws-vpc-endpoints-without-nat"


def queue_worker_and_job_secret(data):
    data["services"]["api"]["secrets"] = {"API_KEY": {"parameter": "/dev/api/key"}}  # Secrets Manager only in the job
    data["services"]["worker"]["autoscaling"] = {
        "min": 0, "max": 2, "queue": {"arn": "arn:aws:sqs:eu-west-1:111111111111:jobs", "backlog_per_task": 5}}
    data["jobs"] = {"nightly": {"image": {"repository": "api", "tag": "v1"}, "user": "10001", "secrets": {
        "DB": {"secret": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:dev/db-Xy12Ab"}}}}


@pytest.fixture(scope="module")
def dev_variant():
    config = edited("dev", queue_worker_and_job_secret)
    return config, run_program(config)


def config_without_required(config) -> dict:
    """The pack's config with nothing handed over from the environment file: what it judges
    is then what it derives from the resources."""
    generated = pack_config(config)
    generated[RULE] = {**generated[RULE], "requiredEndpoints": []}
    return generated


def test_auto_creates_both_endpoints_and_the_pack_agrees(pack, dev_variant):
    config, plan = dev_variant
    assert {"secretsmanager", "sqs"} <= set(required_endpoints(config))
    names = {r.name for r in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert {"dev-network-endpoint-secretsmanager", "dev-network-endpoint-sqs"} <= names
    verdict = pack.verdict(plan.resources, config_without_required(config))
    assert [v for v in verdict.violations if v.policy == RULE] == []


@pytest.mark.parametrize("endpoint", ["secretsmanager", "sqs"])
def test_the_pack_alone_finds_the_missing_endpoint(pack, dev_variant, endpoint):
    config, plan = dev_variant
    kept = [r for r in plan.resources if r.name != f"dev-network-endpoint-{endpoint}"]
    verdict = pack.verdict(kept, config_without_required(config))
    found = [v for v in verdict.violations if v.policy == RULE]
    assert len(found) == 1
    assert f"has no NAT gateway and lacks the VPC endpoints {endpoint}, so tasks cannot start" in found[0].message


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_without_nat_the_pack_needs_no_more_than_auto_creates(pack, environment):
    config = edited(environment, lambda data: data["network"].update(nat="none", endpoints="auto"))
    verdict = pack.verdict(run_program(config).resources, config_without_required(config))
    assert [v.message for v in verdict.violations if v.policy == RULE] == []
