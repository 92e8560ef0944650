"""The pack's aws-vpc-endpoints-without-nat derives what `endpoints: auto` derives (one rule,
policies/endpoint_needs.py), from the resources alone: a job's secret and a queue-scaled
service's SQS calls need their endpoints in a VPC without NAT."""

from __future__ import annotations

import pytest

from configs.aws_limits import KNOWN_ENDPOINTS
from configs.endpoints import required_endpoints
from policies.config_gen import pack_config
from policies.endpoint_needs import CALLED_SERVICE_ENDPOINTS
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


def apis_the_task_roles_call(data):
    """Without NAT, a task reaches only the APIs it has endpoints for: a job writing to an SNS
    topic and a DynamoDB table (`access`), a worker putting Kinesis records (`permissions`), and
    a consumer of an SSE-KMS queue (its kms:Decrypt is used by SQS, not called by the task;
    exec is off, so nothing else needs KMS)."""
    data["cluster"].setdefault("exec", {})["enabled"] = False
    data["services"]["worker"]["access"] = {"write": ["arn:aws:dynamodb:eu-west-1:111111111111:table/orders"]}
    data["services"]["worker"]["permissions"] = [
        {"actions": ["kinesis:PutRecord"], "resources": ["arn:aws:kinesis:eu-west-1:111111111111:stream/clicks"]}]
    data["services"]["api"]["autoscaling"] = {"min": 1, "max": 2, "queue": {
        "arn": "arn:aws:sqs:eu-west-1:111111111111:jobs", "backlog_per_task": 5,
        "kms_key": "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}
    data["jobs"]["migrate"]["access"] = {"write": ["arn:aws:sns:eu-west-1:111111111111:migrated"]}


CALLED = {"dynamodb", "kinesis-streams", "sns", "sqs"}


@pytest.fixture(scope="module")
def calling_variant():
    config = edited("dev", apis_the_task_roles_call)
    return config, run_program(config)


def test_auto_adds_the_endpoints_of_the_apis_task_roles_call(pack, calling_variant):
    config, plan = calling_variant
    assert set(required_endpoints(config)) == CALLED | {"ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager", "ssm"}
    endpoints = {r.name: r.props for r in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert {f"dev-network-endpoint-{e}" for e in CALLED} <= set(endpoints)
    assert "dev-network-endpoint-kms" not in endpoints  # the queue's key is used by SQS, not by the task
    assert endpoints["dev-network-endpoint-dynamodb"]["vpcEndpointType"] == "Gateway"
    assert endpoints["dev-network-endpoint-dynamodb"]["serviceName"] == "com.amazonaws.eu-west-1.dynamodb"
    assert endpoints["dev-network-endpoint-kinesis-streams"]["vpcEndpointType"] == "Interface"
    verdict = pack.verdict(plan.resources, config_without_required(config))
    assert [v.message for v in verdict.violations if v.policy == RULE] == []
    assert [v for v in verdict.violations if v.severity == "mandatory"] == []


def test_every_task_reaches_dynamodb_through_its_prefix_list(calling_variant):
    _config, plan = calling_variant
    rules = {r.name: r.props for r in plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")}
    to_dynamodb = sorted(name for name, props in rules.items() if name.endswith("https-to-dynamodb"))
    assert to_dynamodb == ["dev-api-https-to-dynamodb", "dev-migrate-https-to-dynamodb", "dev-worker-https-to-dynamodb"]
    assert {(rules[n]["fromPort"], rules[n]["toPort"], rules[n]["ipProtocol"]) for n in to_dynamodb} == {(443, 443, "tcp")}


@pytest.mark.parametrize("endpoint", sorted(CALLED))
def test_the_pack_alone_finds_a_missing_endpoint_of_a_called_api(pack, calling_variant, endpoint):
    config, plan = calling_variant
    kept = [r for r in plan.resources if r.name != f"dev-network-endpoint-{endpoint}"]
    verdict = pack.verdict(kept, config_without_required(config))
    assert [v.message.split(": ", 1)[-1] for v in verdict.violations if v.policy == RULE] == [
        f"has no NAT gateway and lacks the VPC endpoints {endpoint}, so tasks cannot start. "
        "Fix: keep network.endpoints: auto, or add the missing endpoints to the list"]


def test_with_nat_the_called_apis_need_no_endpoint(calling_variant):
    config = edited("dev", lambda data: (apis_the_task_roles_call(data), data["network"].update(nat="single")))
    assert set(required_endpoints(config)) & (CALLED - {"sqs"}) == set()  # sqs: the queue consumer's, as before


def test_every_called_service_endpoint_is_one_the_platform_creates():
    assert set(CALLED_SERVICE_ENDPOINTS.values()) <= set(KNOWN_ENDPOINTS)
