"""The Pulumi -> Terraform-plan conversion checkov reads: exact output for the shapes we use."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime.mocks import MockResourceArgs

from review.offline import CapturedResource, PlatformMocks
from review.replacements import REPLACE_ON
from verify.terraform_plan import TYPE_NAMES, UnmappedTypeError, snake_case, terraform_type, terraform_values, to_terraform_plan

MOCKS = PlatformMocks("123456789012", "eu-west-1")


def resource(type_: str, name: str, props: dict, *, custom: bool = True) -> CapturedResource:
    return CapturedResource(type=type_, name=name, urn=f"urn:{type_}::{name}", parent="", custom=custom, props=props)


@pytest.mark.parametrize(
    ("camel", "snake"),
    [
        ("healthCheckGracePeriodSeconds", "health_check_grace_period_seconds"),
        ("cidrIpv4", "cidr_ipv4"),
        ("ipv6CidrBlock", "ipv6_cidr_block"),
        ("arn", "arn"),
    ],
)
def test_snake_case(camel, snake):
    assert snake_case(camel) == snake


def test_type_names():
    assert terraform_type("aws:ecs/taskDefinition:TaskDefinition") == "aws_ecs_task_definition"
    assert terraform_type("aws:lb/loadBalancer:LoadBalancer") == "aws_lb"
    assert terraform_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") == "aws_vpc_security_group_ingress_rule"


def test_an_unmapped_type_fails_instead_of_going_unscanned():
    with pytest.raises(UnmappedTypeError, match=r"^aws:s3/bucket:Bucket has no Terraform name in verify/terraform_plan.py TYPE_NAMES"):
        terraform_type("aws:s3/bucket:Bucket")


def test_ecs_service_blocks_are_singular_lists_and_numbers_whole():
    props = {
        "capacityProviderStrategies": [{"capacityProvider": "FARGATE", "base": 1.0, "weight": 1.0}],
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "loadBalancers": [{"containerName": "api", "containerPort": 8080.0, "targetGroupArn": "arn:tg"}],
        "networkConfiguration": {"assignPublicIp": False, "subnets": ["subnet-a"]},
        "tags": {"cost-center": "4711", "env": "prod"},
        "desiredCount": 2.0,
    }
    assert terraform_values(props, "aws_ecs_service") == {
        "capacity_provider_strategy": [{"capacity_provider": "FARGATE", "base": 1, "weight": 1}],
        "deployment_circuit_breaker": [{"enable": True, "rollback": True}],
        "load_balancer": [{"container_name": "api", "container_port": 8080, "target_group_arn": "arn:tg"}],
        "network_configuration": [{"assign_public_ip": False, "subnets": ["subnet-a"]}],
        "tags": {"cost-center": "4711", "env": "prod"},
        "desired_count": 2,
    }


def test_task_definition_keeps_container_definitions_as_the_json_string():
    containers = json.dumps([{"name": "api", "readonlyRootFilesystem": True}])
    props = {"containerDefinitions": containers, "volumes": [{"name": "tmp"}], "requiresCompatibilities": ["FARGATE"]}
    assert terraform_values(props, "aws_ecs_task_definition") == {
        "container_definitions": containers,
        "volume": [{"name": "tmp"}],
        "requires_compatibilities": ["FARGATE"],
    }


def test_policy_objects_become_json_strings():
    document = {"Version": "2012-10-17", "Statement": []}
    assert terraform_values({"assumeRolePolicy": document}, "aws_iam_role") == {
        "assume_role_policy": '{"Statement": [], "Version": "2012-10-17"}'
    }


def test_autoscaling_group_tags_are_tag_blocks():
    props = {"tags": [{"key": "env", "value": "prod", "propagateAtLaunch": True}], "vpcZoneIdentifiers": ["subnet-a"]}
    assert terraform_values(props, "aws_autoscaling_group") == {
        "tag": [{"key": "env", "value": "prod", "propagate_at_launch": True}],
        "vpc_zone_identifier": ["subnet-a"],
    }


def test_listener_actions_rename_at_every_depth():
    props = {"defaultActions": [{"type": "forward", "forward": {"targetGroups": [{"arn": "arn:tg", "weight": 1.0}]}}]}
    assert terraform_values(props, "aws_lb_listener") == {
        "default_action": [{"type": "forward", "forward": [{"target_group": [{"arn": "arn:tg", "weight": 1}]}]}]
    }


def test_ids_of_created_resources_become_references():
    vpc = resource("aws:ec2/vpc:Vpc", "prod-vpc", {"cidrBlock": "10.0.0.0/16"})
    vpc_id = MOCKS.new_resource(_args(vpc))[0]
    flow_log = resource("aws:ec2/flowLog:FlowLog", "prod-flow", {"vpcId": vpc_id, "trafficType": "ALL", "tags": {"Name": "prod-vpc"}})
    component = resource("ecsplatform:network:Network", "prod-network", {}, custom=False)
    plan = to_terraform_plan([flow_log, component, vpc], MOCKS)
    assert plan["planned_values"]["root_module"]["resources"] == [
        {
            "address": "aws_flow_log.prod-flow",
            "mode": "managed",
            "type": "aws_flow_log",
            "name": "prod-flow",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "schema_version": 0,
            # the VPC id is unknown until apply, as in Terraform; tags are never references
            "values": {"traffic_type": "ALL", "tags": {"Name": "prod-vpc"}},
            "sensitive_values": {},
        },
        {
            "address": "aws_vpc.prod-vpc",
            "mode": "managed",
            "type": "aws_vpc",
            "name": "prod-vpc",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "schema_version": 0,
            "values": {"cidr_block": "10.0.0.0/16"},
            "sensitive_values": {},
        },
    ]
    assert [c["expressions"] for c in plan["configuration"]["root_module"]["resources"]] == [
        {"vpc_id": {"references": ["aws_vpc.prod-vpc.id", "aws_vpc.prod-vpc"]}},
        {},
    ]
    assert [(c["address"], c["change"]["actions"]) for c in plan["resource_changes"]] == [
        ("aws_flow_log.prod-flow", ["create"]),
        ("aws_vpc.prod-vpc", ["create"]),
    ]


def test_a_partly_known_list_keeps_nulls_for_the_unknown_items():
    group = resource("aws:ec2/securityGroup:SecurityGroup", "prod-sg", {"name": "prod-sg"})
    group_id = MOCKS.new_resource(_args(group))[0]
    service = resource(
        "aws:ecs/service:Service",
        "prod-api",
        {"networkConfiguration": {"securityGroups": [group_id, "sg-0123456789abcdef0"]}},
    )
    plan = to_terraform_plan([service, group], MOCKS)
    values = plan["planned_values"]["root_module"]["resources"][0]["values"]
    assert values == {"network_configuration": [{"security_groups": [None, "sg-0123456789abcdef0"]}]}
    assert plan["configuration"]["root_module"]["resources"][0]["expressions"] == {
        "network_configuration": [
            {"security_groups": {"references": ["aws_security_group.prod-sg.id", "aws_security_group.prod-sg"]}}
        ]
    }


def _args(captured: CapturedResource) -> MockResourceArgs:
    return MockResourceArgs(captured.type, captured.name, captured.props, custom=True)


def test_terraform_names_and_replacement_rules_cover_the_same_types():
    # A type the program may register needs both: a Terraform twin for checkov and a rule for the diff.
    assert sorted(TYPE_NAMES) == sorted(REPLACE_ON)
