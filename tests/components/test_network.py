"""components/network.py under mocks: subnets, NAT, routes, endpoints, flow logs, stability."""

from __future__ import annotations

import json
from typing import Any, Optional

import pytest

from components.naming import child
from components.network import Network, NetworkArgs
from configs.endpoints import resolve_endpoints
from configs.model import EnvironmentConfig
from configs.subnets import assumed_zones
from review.offline import Plan, run_program
from tests.components.plan_diff import added_names, changed_resources
from tests.harness import REFERENCE_ENVIRONMENTS, edited, reference_config

COMPONENT = "ecsplatform:network:Network"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ENDPOINT_ROUTE_TABLE = "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KMS_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
A, B, C = "eu-west-1a", "eu-west-1b", "eu-west-1c"


def zones_of(config: EnvironmentConfig) -> tuple[str, ...]:
    """What components/facts.py resolves under the offline mocks (the region's first N zones)."""
    wanted = config.network.availability_zones
    return tuple(sorted(wanted)) if isinstance(wanted, list) else tuple(assumed_zones(config.aws.region, wanted))


def network_plan(config: EnvironmentConfig, *, log_kms_key_arn: Optional[str] = None) -> Plan:
    """Only the Network component, wired as components/environment.py wires it."""

    def program(cfg: EnvironmentConfig) -> dict[str, Any]:
        network = Network(
            child(cfg.environment, "network"),
            NetworkArgs(
                network=cfg.network,
                environment=cfg.environment,
                zones=zones_of(cfg),
                region=cfg.aws.region,
                endpoints=resolve_endpoints(cfg),
                tags=cfg.all_tags,
                log_kms_key_arn=log_kms_key_arn,
                protect=cfg.protect_resources,
            ),
        )
        return {
            "vpc_id": network.vpc_id,
            "vpc_cidr": network.vpc_cidr,
            "public": network.public_subnet_ids,
            "private": network.private_subnet_ids,
            "private_route_tables": network.private_route_table_ids,
            "nat": network.nat_gateway_ids,
            "endpoint_sg": network.endpoint_security_group_id,
            "endpoints": network.endpoint_ids,
            "flow_log_group": network.flow_log_group_name,
        }

    return run_program(config, program=program)


def with_network(environment: str, **network: Any) -> EnvironmentConfig:
    return edited(environment, lambda data: data["network"].update(network))


@pytest.fixture(scope="module")
def reference() -> dict[str, Plan]:
    return {env: network_plan(reference_config(env)) for env in REFERENCE_ENVIRONMENTS}


@pytest.fixture(scope="module")
def nat_plans(reference) -> dict[str, Plan]:
    """prod (3 zones) with each NAT strategy (prod itself is per_az)."""
    return {
        "none": network_plan(with_network("prod", nat="none")),
        "single": network_plan(with_network("prod", nat="single")),
        "per_az": reference["prod"],
    }


def subnets(plan: Plan) -> dict[str, tuple[str, str, bool, str]]:
    return {
        r.name: (r.props["availabilityZone"], r.props["cidrBlock"], r.props["mapPublicIpOnLaunch"], r.props["tags"]["tier"])
        for r in plan.of_type(SUBNET)
    }


def routes_by_table(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for route in plan.of_type(ROUTE):
        props = dict(route.props)
        tables.setdefault(props.pop("routeTableId"), []).append(props)
    return tables


def endpoint_services(plan: Plan) -> dict[str, str]:
    return {r.props["serviceName"]: r.props["vpcEndpointType"] for r in plan.of_type(ENDPOINT)}


# ---- VPC, subnets ------------------------------------------------------------------------


def test_vpc_has_dns_support_and_hostnames_and_the_configured_cidr(reference):
    vpc = reference["prod"].named("prod-network-vpc")
    assert vpc.props == {
        "cidrBlock": "10.30.0.0/16",
        "enableDnsSupport": True,
        "enableDnsHostnames": True,
        "tags": {"team": "platform", "cost-center": "4712", "env": "prod", "Name": "prod-network-vpc"},
    }


def _zones_without_alb(data: dict, count: int) -> None:
    # An ALB needs two zones; a one-zone network is only valid without exposed services.
    data["network"]["availability_zones"] = count
    for service in data["services"].values():
        service.pop("expose", None)


def test_one_zone_network_has_one_subnet_per_tier():
    plan = network_plan(edited("dev", lambda data: _zones_without_alb(data, 1)))
    assert subnets(plan) == {
        f"dev-network-private-{A}": (A, "10.10.0.0/20", False, "private"),
        f"dev-network-public-{A}": (A, "10.10.255.0/24", False, "public"),
    }
    assert list(plan.outputs["private"]) == list(plan.outputs["public"]) == [A]


def test_two_zones_dev(reference):
    assert subnets(reference["dev"]) == {
        f"dev-network-private-{A}": (A, "10.10.0.0/20", False, "private"),
        f"dev-network-private-{B}": (B, "10.10.16.0/20", False, "private"),
        f"dev-network-public-{A}": (A, "10.10.255.0/24", False, "public"),
        f"dev-network-public-{B}": (B, "10.10.254.0/24", False, "public"),
    }


def test_three_zones_prod(reference):
    assert subnets(reference["prod"]) == {
        f"prod-network-private-{A}": (A, "10.30.0.0/20", False, "private"),
        f"prod-network-private-{B}": (B, "10.30.16.0/20", False, "private"),
        f"prod-network-private-{C}": (C, "10.30.32.0/20", False, "private"),
        f"prod-network-public-{A}": (A, "10.30.255.0/24", False, "public"),
        f"prod-network-public-{B}": (B, "10.30.254.0/24", False, "public"),
        f"prod-network-public-{C}": (C, "10.30.253.0/24", False, "public"),
    }
    assert list(reference["prod"].outputs["private"]) == [A, B, C]


def test_explicit_zone_list_keeps_each_zones_slot_even_with_gaps():
    # Zone c without b: c keeps the third slot, so adding b later moves nothing.
    plan = network_plan(with_network("staging", availability_zones=[C, A], nat="single"))
    assert subnets(plan) == {
        f"staging-network-private-{A}": (A, "10.20.0.0/20", False, "private"),
        f"staging-network-private-{C}": (C, "10.20.32.0/20", False, "private"),
        f"staging-network-public-{A}": (A, "10.20.255.0/24", False, "public"),
        f"staging-network-public-{C}": (C, "10.20.253.0/24", False, "public"),
    }


def test_every_child_is_parented_to_the_component_and_named_from_zones_not_positions(reference):
    plan = reference["staging"]
    component = plan.named("staging-network", COMPONENT)
    children = [r for r in plan.resources if r is not component]
    assert {r.parent for r in children} == {component.urn}
    assert sorted(r.name for r in children) == sorted(
        [
            "staging-network-vpc",
            "staging-network-default-sg",
            "staging-network-igw",
            "staging-network-public-rt",
            "staging-network-public-internet",
            f"staging-network-public-{A}",
            f"staging-network-public-{B}",
            f"staging-network-public-{A}-rta",
            f"staging-network-public-{B}-rta",
            f"staging-network-private-{A}",
            f"staging-network-private-{B}",
            f"staging-network-private-{A}-rt",
            f"staging-network-private-{B}-rt",
            f"staging-network-private-{A}-rta",
            f"staging-network-private-{B}-rta",
            f"staging-network-private-{A}-nat",
            f"staging-network-private-{B}-nat",
            f"staging-network-nat-{A}",
            f"staging-network-nat-{A}-eip",
            "staging-network-flow-logs",
            "staging-network-flow-logs-role",
            "staging-network-flow-logs-policy",
            "staging-network-flow-log",
            "staging-network-endpoints-sg",
            "staging-network-endpoints-sg-https-from-vpc",
            "staging-network-endpoint-s3",
            f"staging-network-endpoint-s3-{A}",
            f"staging-network-endpoint-s3-{B}",
            "staging-network-endpoint-ecr-api",
            "staging-network-endpoint-ecr-dkr",
            "staging-network-endpoint-logs",
            "staging-network-endpoint-secretsmanager",
            "staging-network-endpoint-sqs",
        ]
    )


def test_taggable_resources_carry_the_environment_tags_and_a_name(reference):
    plan = reference["dev"]
    tagged = [r for r in plan.resources if r.custom and "tags" in r.props]
    assert len(tagged) == 23
    for resource in tagged:
        assert {k: resource.props["tags"][k] for k in ("env", "team", "cost-center")} == {
            "env": "dev",
            "team": "platform",
            "cost-center": "4711",
        }, resource.name


def test_default_security_group_is_adopted_with_no_rules(reference):
    plan = reference["prod"]
    default = plan.named("prod-network-default-sg", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.props["vpcId"] == plan.outputs["vpc_id"]
    assert "ingress" not in default.props and "egress" not in default.props


# ---- NAT and routes ----------------------------------------------------------------------


@pytest.mark.parametrize("nat, zones", [("none", []), ("single", [A]), ("per_az", [A, B, C])])
def test_nat_gateways_per_strategy_each_with_an_eip_in_its_zones_public_subnet(nat_plans, nat, zones):
    plan = nat_plans[nat]
    assert [r.name for r in plan.of_type(NAT)] == [f"prod-network-nat-{z}" for z in zones]
    assert [r.name for r in plan.of_type(EIP)] == [f"prod-network-nat-{z}-eip" for z in zones]
    for zone in zones:
        gateway = plan.named(f"prod-network-nat-{zone}")
        assert gateway.props == {
            "allocationId": f"prod-network-nat-{zone}-eip-id",
            "subnetId": plan.outputs["public"][zone],
            "connectivityType": "public",
            "tags": {"team": "platform", "cost-center": "4712", "env": "prod", "Name": f"prod-network-nat-{zone}"},
        }
        assert plan.named(f"prod-network-nat-{zone}-eip").props["domain"] == "vpc"
        # NAT is created after the internet gateway (AWS: otherwise it has no path out).
        assert plan.named("prod-network-igw").urn in gateway.depends_on


@pytest.mark.parametrize(
    "nat, default_route_via",
    [
        ("none", {}),
        ("single", {A: A, B: A, C: A}),  # one NAT in the first zone serves every zone
        ("per_az", {A: A, B: B, C: C}),  # each zone's table uses its own zone's NAT
    ],
)
def test_private_route_tables_per_zone_route_only_to_nat(nat_plans, nat, default_route_via):
    plan = nat_plans[nat]
    tables = plan.outputs["private_route_tables"]
    assert tables == {z: f"prod-network-private-{z}-rt-id" for z in (A, B, C)}
    routes = routes_by_table(plan)
    assert {zone: routes.get(table) for zone, table in tables.items()} == {
        zone: (
            [{"destinationCidrBlock": "0.0.0.0/0", "natGatewayId": f"prod-network-nat-{default_route_via[zone]}-id"}]
            if zone in default_route_via
            else None
        )
        for zone in tables
    }


@pytest.mark.parametrize("nat", ["none", "single", "per_az"])
def test_only_public_subnets_route_to_the_internet_gateway(nat_plans, nat):
    plan = nat_plans[nat]
    routes = routes_by_table(plan)
    igw = "prod-network-igw-id"
    assert routes["prod-network-public-rt-id"] == [{"destinationCidrBlock": "0.0.0.0/0", "gatewayId": igw}]
    association = {r.props["subnetId"]: r.props["routeTableId"] for r in plan.of_type(ASSOCIATION)}
    assert association == {
        **{plan.outputs["public"][z]: "prod-network-public-rt-id" for z in (A, B, C)},
        **{plan.outputs["private"][z]: f"prod-network-private-{z}-rt-id" for z in (A, B, C)},
    }
    for zone in (A, B, C):
        table = association[plan.outputs["private"][zone]]
        assert all("gatewayId" not in route for route in routes.get(table, [])), zone
    # Nothing else may route to the internet gateway.
    assert [r.name for r in plan.of_type(ROUTE) if r.props.get("gatewayId") == igw] == ["prod-network-public-internet"]


# ---- endpoints ---------------------------------------------------------------------------

INTERFACE, GATEWAY = "Interface", "Gateway"


def services(region: str, gateway: list[str], interface: list[str]) -> dict[str, str]:
    return {
        **{f"com.amazonaws.{region}.{s}": GATEWAY for s in gateway},
        **{f"com.amazonaws.{region}.{s}": INTERFACE for s in interface},
    }


@pytest.mark.parametrize(
    "environment, interface",
    [
        # nat none, secrets of both kinds, ECS Exec on (ssmmessages + kms); no sts: task roles
        # credentials come from the ECS agent, not STS
        ("dev", ["ecr.api", "ecr.dkr", "kms", "logs", "secretsmanager", "ssm", "ssmmessages"]),
        # a Secrets Manager secret only
        ("staging", ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sqs"]),
        # EC2 capacity adds the ECS agent's endpoints (with NAT, Session Manager goes through it)
        ("prod", ["ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry", "logs", "secretsmanager", "sqs", "ssm"]),
    ],
)
def test_reference_endpoint_sets(reference, environment, interface):
    assert endpoint_services(reference[environment]) == services("eu-west-1", ["s3"], interface)


def _no_secrets(data: dict) -> None:
    for task in [*data["services"].values(), *data.get("jobs", {}).values()]:
        task.pop("secrets", None)


def _exec_on(data: dict) -> None:
    data["cluster"]["exec"] = {"enabled": True}


def _no_ec2(data: dict) -> None:
    data["cluster"]["capacity"].pop("ec2")
    data["services"]["worker"]["capacity"] = [{"provider": "fargate", "weight": 1}]


def _without_nat(data: dict) -> None:
    data["network"]["nat"] = "none"


def _sts_listed(data: dict) -> None:
    data["network"]["endpoints"] = ["s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "ecs", "ecs-agent", "ecs-telemetry", "sts"]


@pytest.mark.parametrize(
    "environment, edit, interface",
    [
        ("dev", _no_secrets, ["ecr.api", "ecr.dkr", "kms", "logs", "ssmmessages"]),
        ("staging", _no_secrets, ["ecr.api", "ecr.dkr", "logs", "sqs"]),
        ("staging", _exec_on, ["ecr.api", "ecr.dkr", "kms", "logs", "secretsmanager", "sqs", "ssmmessages"]),
        ("prod", _no_ec2, ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "sqs", "ssm"]),
        # EC2 capacity without NAT: Session Manager onto the instances needs its three endpoints
        ("prod", _without_nat, ["ec2messages", "ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry", "logs",
                                "secretsmanager", "sqs", "ssm", "ssmmessages"]),
        ("prod", _sts_listed, ["ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry", "logs", "secretsmanager", "ssm", "sts"]),
    ],
    ids=["dev-no-secrets", "staging-no-secrets", "staging-exec-on", "prod-no-ec2", "prod-ec2-without-nat", "prod-sts-listed"],
)
def test_auto_endpoint_sets_follow_what_the_environment_uses(environment, edit, interface):
    plan = network_plan(edited(environment, edit))
    assert endpoint_services(plan) == services("eu-west-1", ["s3"], interface)


def test_nat_none_private_subnets_reach_s3_ecr_logs_and_secrets_through_endpoints_only(nat_plans):
    plan = nat_plans["none"]
    # auto derives from what the services use; without NAT, prod's EC2 instances also need
    # Session Manager's endpoints.
    with_nat = endpoint_services(nat_plans["per_az"])
    assert endpoint_services(plan) == {
        **with_nat,
        **services("eu-west-1", [], ["ssmmessages", "ec2messages"]),
    }
    assert plan.of_type(NAT) == [] and plan.of_type(EIP) == []
    tables = plan.outputs["private_route_tables"]
    # The S3 gateway (ECR layers) is on every private route table, one association per zone.
    assert {r.name: r.props for r in plan.of_type(ENDPOINT_ROUTE_TABLE)} == {
        f"prod-network-endpoint-s3-{z}": {"vpcEndpointId": "prod-network-endpoint-s3-id", "routeTableId": tables[z]}
        for z in (A, B, C)
    }
    assert {"ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"} <= set(plan.outputs["endpoints"])


def test_interface_endpoints_sit_in_every_private_subnet_with_private_dns_and_the_endpoint_group(reference):
    plan = reference["prod"]
    private = [plan.outputs["private"][z] for z in (A, B, C)]
    interface = [r for r in plan.of_type(ENDPOINT) if r.props["vpcEndpointType"] == INTERFACE]
    assert len(interface) == 9  # ecr.api, ecr.dkr, ecs, ecs-agent, ecs-telemetry, logs, secretsmanager, sqs, ssm
    for endpoint in interface:
        assert endpoint.props["subnetIds"] == private, endpoint.name
        assert endpoint.props["privateDnsEnabled"] is True, endpoint.name
        assert endpoint.props["securityGroupIds"] == [plan.outputs["endpoint_sg"]], endpoint.name
        assert endpoint.props["vpcId"] == plan.outputs["vpc_id"]
    gateway = plan.named("prod-network-endpoint-s3")
    assert gateway.props["vpcEndpointType"] == GATEWAY
    assert "subnetIds" not in gateway.props and "privateDnsEnabled" not in gateway.props


def test_endpoint_security_group_admits_https_from_the_vpc_cidr_only(reference):
    plan = reference["prod"]
    group = plan.named("prod-network-endpoints-sg", SECURITY_GROUP)
    assert group.props["vpcId"] == plan.outputs["vpc_id"]
    assert group.props["description"] == "Interface VPC endpoints: HTTPS from inside the VPC only"
    assert "ingress" not in group.props and "egress" not in group.props  # no inline rules
    assert [(r.name, r.props) for r in plan.of_type(INGRESS)] == [
        (
            "prod-network-endpoints-sg-https-from-vpc",
            {
                "securityGroupId": plan.outputs["endpoint_sg"],
                "description": "HTTPS to the AWS service endpoints from anything inside the VPC",
                "ipProtocol": "tcp",
                "fromPort": 443.0,
                "toPort": 443.0,
                "cidrIpv4": "10.30.0.0/16",
                "tags": {
                    "team": "platform",
                    "cost-center": "4712",
                    "env": "prod",
                    "Name": "prod-network-endpoints-sg-https-from-vpc",
                },
            },
        )
    ]
    assert plan.of_type(EGRESS) == []


def test_explicit_endpoint_lists_are_created_as_given():
    plan = network_plan(with_network("staging", endpoints=["logs", "ecr.dkr", "ecr.api"]))
    assert endpoint_services(plan) == services("eu-west-1", [], ["ecr.api", "ecr.dkr", "logs"])
    assert plan.of_type(ENDPOINT_ROUTE_TABLE) == []


def test_gateway_only_endpoints_create_no_endpoint_security_group():
    plan = network_plan(with_network("staging", endpoints=["s3"]))
    assert endpoint_services(plan) == services("eu-west-1", ["s3"], [])
    assert plan.of_type(SECURITY_GROUP) == [] and plan.of_type(INGRESS) == []
    assert plan.outputs["endpoint_sg"] is None


# ---- flow logs ---------------------------------------------------------------------------


@pytest.mark.parametrize("environment, retention, protect", [("dev", 14, False), ("staging", 90, False), ("prod", 365, True)])
def test_flow_logs_capture_all_traffic_into_a_retained_log_group(reference, environment, retention, protect):
    plan = reference[environment]
    name = f"{environment}-network"
    group = plan.named(f"{name}-flow-logs", LOG_GROUP)
    assert group.props == {
        "name": f"/vpc/{environment}/flow-logs",
        "retentionInDays": float(retention),
        "tags": reference_config(environment).all_tags,
    }
    assert group.protect is protect
    group_arn = f"arn:aws:logs:eu-west-1:{reference_config(environment).aws.account_id}:log-group:/vpc/{environment}/flow-logs"
    flow_log = plan.named(f"{name}-flow-log", FLOW_LOG)
    assert {k: v for k, v in flow_log.props.items() if k != "tags"} == {
        "vpcId": plan.outputs["vpc_id"],
        "trafficType": "ALL",
        "logDestinationType": "cloud-watch-logs",
        "logDestination": group_arn,
        "iamRoleArn": f"arn:aws:iam::{reference_config(environment).aws.account_id}:role/{name}-flow-logs-role",
    }
    assert plan.named(f"{name}-flow-logs-policy").urn in flow_log.depends_on
    assert plan.outputs["flow_log_group"] == f"/vpc/{environment}/flow-logs"


def test_flow_log_role_trusts_only_the_flow_logs_service_of_this_account_and_writes_only_its_group(reference):
    plan = reference["prod"]
    role = plan.named("prod-network-flow-logs-role", ROLE)
    assert json.loads(role.props["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "VpcFlowLogsAssume",
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": "123456789012"},
                    "ArnLike": {"aws:SourceArn": "arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/*"},
                },
            }
        ],
    }
    policy = plan.named("prod-network-flow-logs-policy", ROLE_POLICY)
    group_arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/vpc/prod/flow-logs"
    assert policy.props["role"] == "prod-network-flow-logs-role-id"
    assert json.loads(policy.props["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteFlowLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                "Resource": [group_arn, f"{group_arn}:*"],
            }
        ],
    }


def test_flow_log_group_uses_the_environment_log_key_when_given():
    plan = network_plan(reference_config("prod"), log_kms_key_arn=KMS_KEY_ARN)
    assert plan.named("prod-network-flow-logs", LOG_GROUP).props["kmsKeyId"] == KMS_KEY_ARN


def test_flow_logs_off_creates_no_group_role_or_flow_log():
    plan = network_plan(with_network("staging", flow_logs={"enabled": False}))
    assert [r for r in plan.resources if r.type in (LOG_GROUP, FLOW_LOG, ROLE, ROLE_POLICY)] == []
    assert plan.outputs["flow_log_group"] is None


# ---- stability ---------------------------------------------------------------------------


@pytest.mark.parametrize("nat", ["single", "per_az"])
def test_adding_a_zone_only_adds_resources_and_grows_interface_endpoint_subnets_in_place(reference, nat):
    # staging itself is [a, b] with a single NAT.
    before = reference["staging"] if nat == "single" else network_plan(with_network("staging", nat=nat))
    after = network_plan(with_network("staging", availability_zones=[A, B, C], nat=nat))
    new_subnet = after.outputs["private"][C]
    changes = changed_resources(before, after)
    # The one in-place change: each interface endpoint gains the new zone's private subnet
    # (ModifyVpcEndpoint AddSubnetIds; no replacement, no other input moves).
    interface = [r.name for r in before.of_type(ENDPOINT) if r.props["vpcEndpointType"] == INTERFACE]
    assert changes == {
        name: {"subnetIds": (before.named(name).props["subnetIds"], before.named(name).props["subnetIds"] + [new_subnet])}
        for name in interface
    }
    expected_new = [
        f"staging-network-endpoint-s3-{C}",
        f"staging-network-private-{C}",
        f"staging-network-private-{C}-rt",
        f"staging-network-private-{C}-rta",
        f"staging-network-private-{C}-nat",
        f"staging-network-public-{C}",
        f"staging-network-public-{C}-rta",
    ]
    if nat == "per_az":
        expected_new += [f"staging-network-nat-{C}", f"staging-network-nat-{C}-eip"]
    assert added_names(before, after) == sorted(expected_new)
    via = A if nat == "single" else C
    assert after.named(f"staging-network-private-{C}-nat").props["natGatewayId"] == f"staging-network-nat-{via}-id"
