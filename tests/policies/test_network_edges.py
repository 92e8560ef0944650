"""Edges of the EC2 and VPC rules (policies/ec2.py, policies/vpc.py) through the pack: each case
changes one thing of the compliant stack and names every violation whole (policy, resource and
the entire message), so the conditions, defaults and sentences of these rules are pinned down."""

from __future__ import annotations

import pytest

from .stack import ACCOUNT, REGION, add, all_mandatory, drop, edited, remove, set_
from .verdicts import expected, violations

LT, API_SG, ALB_SG, FROM_ALB = "prod-general-lt", "prod-api-sg", "prod-alb-sg", "prod-api-sg-from-alb"
PRIVATE, PRIVATE_RT, SERVICE = "prod-private-eu-west-1a", "prod-private-rt-eu-west-1a", "prod-api-service"
IMDS, VOLUMES, PUBLIC_IP = "aws-ec2-launch-template-imdsv2", "aws-ec2-launch-template-encrypted-volumes", "aws-ec2-launch-template-no-public-ip"
INGRESS, EGRESS, DESCRIBED = "aws-ec2-security-group-no-public-ingress", "aws-ec2-security-group-egress-restricted", "aws-ec2-security-group-rules-described"
DEFAULT_SG, FLOW_LOGS, ENDPOINTS = "aws-ec2-default-security-group-no-rules", "aws-vpc-flow-logs", "aws-vpc-endpoints-without-nat"
NO_IGW, SERVICE_SUBNETS = "aws-vpc-private-subnet-no-internet-gateway", "aws-ecs-service-private-subnets"
# Without NAT the api service's HTTPS egress reaches nothing public (only endpoints are reachable).
EGRESS_WITHOUT_NAT = (EGRESS, API_SG, "egress[0] allows tcp 443-443 to 0.0.0.0/0 in a stack without NAT, where only endpoints are reachable")
# What the compliant stack needs without NAT beside its S3 and ECR API endpoints: images (ecr.dkr),
# awslogs, its secret and parameter, ECS Exec, and the EC2 capacity's agent and Session Manager.
MISSING = "ec2messages, ecr.dkr, ecs, ecs-agent, ecs-telemetry, kms, logs, secretsmanager, ssm, ssmmessages"


def lacking(*extra):
    return f"has no NAT gateway and lacks the VPC endpoints {', '.join(sorted([*MISSING.split(', '), *extra]))}, so tasks cannot start"


def instance(**props):
    """An EC2 instance, compliant but for `props`."""
    base = {"ami": "ami-1", "instanceType": "t3.micro", "metadataOptions": {"httpTokens": "required"},
            "rootBlockDevice": {"encrypted": True}, "associatePublicIpAddress": False}
    return add("aws:ec2/instance:Instance", "prod-bastion", {**base, **props})


def sg_rule(name, group, **props):
    """A SecurityGroupRule resource of `group`."""
    return add("aws:ec2/securityGroupRule:SecurityGroupRule", name, {"securityGroupId": "sg-x", "protocol": "tcp", **props},
               {"securityGroupId": [group]} if group else {})


def route_in_private_table(gateway_id, links=None):
    """A Route resource in the private subnet's table towards `gateway_id`."""
    return add("aws:ec2/route:Route", "prod-private-extra", {"routeTableId": "rtb-2", "destinationCidrBlock": "0.0.0.0/0", "gatewayId": gateway_id},
               {"routeTableId": [PRIVATE_RT], **(links or {})})


PRIVATE_SUBNET_ROUTED = [
    (SERVICE_SUBNETS, SERVICE, f"its subnet {PRIVATE} is public: route table {PRIVATE_RT} routes to the internet gateway"),
    (NO_IGW, PRIVATE, f"its route table {PRIVATE_RT} routes to the internet gateway"),
]


def case(id_, edits, *found):
    return pytest.param(edits, found, id=id_)


CASES = [
    # ---- IMDSv2: the token and the hop limit, each with its default
    case("imds-default", [drop(LT, "metadataOptions")], (IMDS, LT, "metadataOptions.httpTokens is optional (the default)")),
    case("imds-optional-and-two-hops", [set_(LT, "metadataOptions.httpTokens", "optional"), set_(LT, "metadataOptions.httpPutResponseHopLimit", 2)],
         (IMDS, LT, "metadataOptions.httpTokens is optional"), (IMDS, LT, "metadataOptions.httpPutResponseHopLimit is 2")),
    # ---- encrypted volumes: instances and launch configurations name their root and extra devices
    case("instance-root-unencrypted", [instance(rootBlockDevice={"encrypted": False})], (VOLUMES, "prod-bastion", "the root volume is not encrypted")),
    case("instance-root-default", [instance(rootBlockDevice=None)], (VOLUMES, "prod-bastion", "the root volume is not encrypted")),
    case("instance-extra-volume", [instance(ebsBlockDevices=[{"deviceName": "/dev/sdf", "encrypted": True}, {"deviceName": "/dev/sdg", "encrypted": "false"}])],
         (VOLUMES, "prod-bastion", "the volume /dev/sdg is not encrypted")),
    case("instance-extra-volume-unnamed", [instance(ebsBlockDevices=[{"encrypted": False}])], (VOLUMES, "prod-bastion", "the volume ? is not encrypted")),
    case("launch-configuration-root-default", [add("aws:ec2/launchConfiguration:LaunchConfiguration", "prod-lc", {"imageId": "ami-1", "metadataOptions": {"httpTokens": "required"}})],
         (VOLUMES, "prod-lc", "the root volume is not encrypted")),
    case("template-volume-unnamed", [drop(LT, "blockDeviceMappings.0.deviceName"), set_(LT, "blockDeviceMappings.0.ebs.encrypted", "false")],
         (VOLUMES, LT, "the volume ? is not encrypted")),
    # ---- public IPs: an instance's own flag, and every network interface by its index
    case("instance-public-ip", [instance(associatePublicIpAddress=True)], (PUBLIC_IP, "prod-bastion", "associatePublicIpAddress is true")),
    case("template-second-interface", [set_(LT, "networkInterfaces", [{"deviceIndex": 0, "associatePublicIpAddress": "false"}, {"deviceIndex": 1, "associatePublicIpAddress": "true"}])],
         (PUBLIC_IP, LT, "network interface 1 associates a public IP")),
    case("template-interface-without-index", [drop(LT, "networkInterfaces.0.deviceIndex"), set_(LT, "networkInterfaces.0.associatePublicIpAddress", True)],
         (PUBLIC_IP, LT, "network interface 0 associates a public IP")),
    # ---- public ingress: only 80/443, one port each, to an internet-facing ALB's group
    case("ssh-from-the-internet", [set_(API_SG, "ingress", [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"], "description": "ssh"}])],
         (INGRESS, API_SG, "ingress[0] admits 0.0.0.0/0 on tcp 22-22")),
    case("group-rule-any-protocol", [set_(API_SG, "ingress", [{"fromPort": 8080, "toPort": 8080, "cidrBlocks": ["0.0.0.0/0"], "description": "x"}])],
         (INGRESS, API_SG, "ingress[0] admits 0.0.0.0/0 on -1 8080-8080")),
    case("alb-port-range", [set_(ALB_SG, "ingress.0.fromPort", 80)], (INGRESS, ALB_SG, "ingress[0] admits 0.0.0.0/0 on tcp 80-443")),
    case("alb-ssh", [set_(ALB_SG, "ingress.0.fromPort", 22), set_(ALB_SG, "ingress.0.toPort", 22)], (INGRESS, ALB_SG, "ingress[0] admits 0.0.0.0/0 on tcp 22-22")),
    case("alb-all-protocols", [set_(ALB_SG, "ingress.0.protocol", "-1")], (INGRESS, ALB_SG, "ingress[0] admits 0.0.0.0/0 on -1 443-443")),
    case("alb-all-protocols-spelt-all", [set_(ALB_SG, "ingress.0.protocol", "all")], (INGRESS, ALB_SG, "ingress[0] admits 0.0.0.0/0 on all 443-443")),
    case("internal-alb", [set_("prod-alb", "internal", True)],
         (INGRESS, ALB_SG, "ingress[0] admits 0.0.0.0/0 on tcp 443-443"), (INGRESS, ALB_SG, "ingress[1] admits 0.0.0.0/0 on tcp 80-80")),
    case("network-load-balancer", [set_("prod-alb", "loadBalancerType", "network")],
         (INGRESS, ALB_SG, "ingress[0] admits 0.0.0.0/0 on tcp 443-443"), (INGRESS, ALB_SG, "ingress[1] admits 0.0.0.0/0 on tcp 80-80")),
    case("rule-resource-on-a-service-group", [sg_rule("prod-api-https6", API_SG, type="ingress", fromPort=443, toPort=443, ipv6CidrBlocks=["::/0"], description="HTTPS over IPv6")],
         (INGRESS, "prod-api-https6", "ingress admits ::/0 on tcp 443-443")),
    case("rule-resource-of-no-known-group", [sg_rule("prod-other-https", None, type="ingress", fromPort=443, toPort=443, cidrBlocks=["0.0.0.0/0"], description="HTTPS")],
         (INGRESS, "prod-other-https", "ingress admits 0.0.0.0/0 on tcp 443-443")),
    case("ingress-rule-ipv6", [set_(FROM_ALB, "cidrIpv6", "2001:db8::/64")], (INGRESS, FROM_ALB, "rule admits 2001:db8::/64 on tcp 8080-8080")),
    # A range written with host bits (8.8.8.8/24) is judged as the range it names, not skipped as unparsable.
    case("ingress-rule-cidr-with-host-bits", [set_(FROM_ALB, "cidrIpv4", "8.8.8.8/24")], (INGRESS, FROM_ALB, "rule admits 8.8.8.8/24 on tcp 8080-8080")),
    case("ingress-rule-cidr-with-spaces", [set_(FROM_ALB, "cidrIpv4", " 8.8.8.8/32 ")], (INGRESS, FROM_ALB, "rule admits  8.8.8.8/32  on tcp 8080-8080")),
    case("ingress-rule-any-protocol", [drop(FROM_ALB, "ipProtocol"), set_(FROM_ALB, "cidrIpv4", "8.8.8.8/32")], (INGRESS, FROM_ALB, "rule admits 8.8.8.8/32 on -1 8080-8080")),
    # ---- egress: all ports or protocols to a public range; anything public without NAT
    case("egress-every-port", [set_(API_SG, "egress.0.fromPort", 0), set_(API_SG, "egress.0.toPort", 65535)],
         (EGRESS, API_SG, "egress[0] allows all traffic (tcp 0-65535) to 0.0.0.0/0")),
    case("egress-rule-resource-every-port", [sg_rule("prod-api-out", API_SG, type="egress", fromPort=0, toPort=65535, cidrBlocks=["0.0.0.0/0"], description="out")],
         (EGRESS, "prod-api-out", "egress allows all traffic (tcp 0-65535) to 0.0.0.0/0")),
    case("egress-rule-any-protocol-ipv6", [add("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "prod-api-out6", {"securityGroupId": "sg-api", "cidrIpv6": "::/0", "description": "out"}, {"securityGroupId": [API_SG]})],
         (EGRESS, "prod-api-out6", "rule allows all traffic (-1 0-0) to ::/0")),
    case("egress-all-protocols-spelt-upper", [set_(API_SG, "egress.0.protocol", "ALL")], (EGRESS, API_SG, "egress[0] allows all traffic (ALL 443-443) to 0.0.0.0/0")),
    case("without-nat", [remove("prod-nat-eu-west-1a")], EGRESS_WITHOUT_NAT,
         (ENDPOINTS, "prod-vpc", lacking())),
    # ---- descriptions: blank is none; every shape names its rule
    case("blank-description", [set_(API_SG, "egress.0.description", "  ")], (DESCRIBED, API_SG, "egress[0] (egress tcp 443-443) has no description")),
    case("ingress-rule-undescribed", [drop(FROM_ALB, "description")], (DESCRIBED, FROM_ALB, "rule (ingress tcp 8080-8080) has no description")),
    case("group-ingress-undescribed", [drop(ALB_SG, "ingress.1.description")], (DESCRIBED, ALB_SG, "ingress[1] (ingress tcp 80-80) has no description")),
    case("egress-rule-undescribed", [add("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "prod-api-out", {"securityGroupId": "sg-api", "ipProtocol": "tcp", "fromPort": 443,
                                                                                                                      "toPort": 443, "referencedSecurityGroupId": "sg-alb"}, {"securityGroupId": [API_SG]})],
         (DESCRIBED, "prod-api-out", "rule (egress tcp 443-443) has no description")),
    # ---- the default group
    case("default-group-not-adopted", [remove("prod-default-sg")],
         (DEFAULT_SG, "prod-vpc", "the default security group is not adopted (aws.ec2.DefaultSecurityGroup) and keeps AWS's allow rules")),
    case("default-group-egress", [set_("prod-default-sg", "egress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["10.0.0.0/8"], "description": "x"}])],
         (DEFAULT_SG, "prod-vpc", "the default security group has rules")),
    case("default-group-ingress", [set_("prod-default-sg", "ingress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True, "description": "x"}])],
         (DEFAULT_SG, "prod-vpc", "the default security group has rules")),
    # ---- routes to the internet gateway: an inline route, a Route spelt igw-, or a Route linked to the gateway
    case("route-resource-to-an-igw-id", [route_in_private_table("igw-2")], *PRIVATE_SUBNET_ROUTED),
    case("route-resource-linked-to-the-gateway", [route_in_private_table("gw-shared", {"gatewayId": ["prod-igw"]})], *PRIVATE_SUBNET_ROUTED),
    case("private-subnet-on-the-public-table", [lambda s: s["prod-private-eu-west-1a-rta"]["links"].update(routeTableId=["prod-public-rt"])],
         (SERVICE_SUBNETS, SERVICE, f"its subnet {PRIVATE} is public: route table prod-public-rt routes to the internet gateway"),
         (NO_IGW, PRIVATE, "its route table prod-public-rt routes to the internet gateway")),
    case("subnet-private-by-tag", [set_("prod-public-eu-west-1a", "tags", {"env": "prod", "team": "platform", "tier": "private"})],
         (NO_IGW, "prod-public-eu-west-1a", "its route table prod-public-rt routes to the internet gateway")),
    # ---- VPC
    case("flow-log-rejects-only", [set_("prod-flow-log", "trafficType", "REJECT")], (FLOW_LOGS, "prod-vpc", "its flow logs record REJECT traffic only, not ALL")),
    case("flow-logs-accept-and-reject", [set_("prod-flow-log", "trafficType", "REJECT"),
                                         add("aws:ec2/flowLog:FlowLog", "prod-flow-log-2", {"vpcId": "vpc-1", "trafficType": "ACCEPT", "logDestination": "arn:flow"}, {"vpcId": ["prod-vpc"]})],
         (FLOW_LOGS, "prod-vpc", "its flow logs record ACCEPT, REJECT traffic only, not ALL")),
    case("no-flow-log", [remove("prod-flow-log")], (FLOW_LOGS, "prod-vpc", "has no flow log, so rejected and accepted traffic leaves no trace")),
    case("auto-public-ip", [set_("prod-public-eu-west-1a", "mapPublicIpOnLaunch", True)],
         ("aws-vpc-subnet-no-auto-public-ip", "prod-public-eu-west-1a", "mapPublicIpOnLaunch is on: every instance launched here gets a public IP")),
    case("interface-endpoint-without-private-dns", [set_("prod-endpoint-ecr-api", "privateDnsEnabled", False)],
         ("aws-vpc-endpoint-private-dns", "prod-endpoint-ecr-api", f"the interface endpoint com.amazonaws.{REGION}.ecr.api has privateDnsEnabled off")),
]


@pytest.mark.parametrize("edits, found", CASES)
def test_each_edge_fails_with_exactly_these_violations(pack, edits, found):
    assert violations(pack.verdict(edited(*edits))) == expected(*found)


@pytest.mark.parametrize("edits", [
    pytest.param([drop(LT, "metadataOptions.httpPutResponseHopLimit")], id="hop-limit-default-1"),
    pytest.param([set_(LT, "blockDeviceMappings", [{"deviceName": "/dev/sdb", "virtualName": "ephemeral0"}, {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}])], id="instance-store-mapping"),
    pytest.param([instance(ebsBlockDevices=[{"deviceName": "/dev/sdf", "encrypted": "true"}])], id="instance-encrypted-extra-volume"),
    pytest.param([set_(LT, "associatePublicIpAddress", "true")], id="template-flag-is-not-a-template-field"),
    pytest.param([sg_rule("prod-alb-https6", ALB_SG, type="ingress", fromPort=443, toPort=443, ipv6CidrBlocks=["::/0"], description="HTTPS over IPv6")], id="alb-https-over-ipv6"),
    pytest.param([set_(FROM_ALB, "cidrIpv4", "not-a-cidr")], id="unparsable-cidr-is-no-range"),
    pytest.param([set_(FROM_ALB, "cidrIpv6", "fd00:10::/64")], id="ipv6-unique-local"),
    pytest.param([set_(API_SG, "egress.0.fromPort", 1), set_(API_SG, "egress.0.toPort", 65535)], id="egress-all-but-port-0"),
    pytest.param([set_(API_SG, "egress.0.fromPort", 0), set_(API_SG, "egress.0.toPort", 65534)], id="egress-all-but-the-last-port"),
    pytest.param([set_(API_SG, "egress.0.cidrBlocks", ["10.30.0.0/16"]), set_(API_SG, "egress.0.protocol", "-1")], id="all-traffic-inside-the-vpc"),
    pytest.param([sg_rule("prod-api-out", API_SG, type="egress", fromPort=443, toPort=443, cidrBlocks=["0.0.0.0/0"], description="HTTPS out")], id="egress-rule-resource-is-not-ingress"),
    pytest.param([drop("prod-endpoint-ecr-api", "vpcEndpointType"), drop("prod-endpoint-ecr-api", "privateDnsEnabled")], id="endpoint-type-default-gateway"),
])
def test_edges_these_rules_accept(pack, edits):
    assert violations(pack.verdict(edited(*edits))) == []


def test_a_larger_hop_limit_is_configurable(pack):
    config = all_mandatory(**{IMDS: {"maxHopLimit": 2}})
    assert violations(pack.verdict(edited(set_(LT, "metadataOptions.httpPutResponseHopLimit", 2)), config)) == []
    assert violations(pack.verdict(edited(set_(LT, "metadataOptions.httpPutResponseHopLimit", 3)), config)) == expected(
        (IMDS, LT, "metadataOptions.httpPutResponseHopLimit is 3"))


def test_the_public_ipv6_threshold_is_configurable(pack):
    narrow = edited(set_(FROM_ALB, "cidrIpv6", "2001:db8::/64"))
    assert violations(pack.verdict(narrow, all_mandatory(**{INGRESS: {"publicIpv6MaxPrefix": 48}}))) == []
    # The IPv4 threshold does not apply to an IPv6 range.
    assert violations(pack.verdict(narrow, all_mandatory(**{INGRESS: {"publicIpv4MaxPrefix": 16}}))) == expected(
        (INGRESS, FROM_ALB, "rule admits 2001:db8::/64 on tcp 8080-8080"))


def test_the_egress_rule_reads_its_own_public_threshold(pack):
    wide = edited(set_(API_SG, "egress.0.cidrBlocks", ["8.8.8.0/24"]), set_(API_SG, "egress.0.protocol", "-1"))
    assert violations(pack.verdict(wide)) == expected((EGRESS, API_SG, "egress[0] allows all traffic (-1 443-443) to 8.8.8.0/24"))
    assert violations(pack.verdict(wide, all_mandatory(**{EGRESS: {"publicIpv4MaxPrefix": 16}}))) == []


def queue_scaling(specification):
    policy = {"policyType": "TargetTrackingScaling", "targetTrackingScalingPolicyConfiguration": {"targetValue": 10, "customizedMetricSpecification": specification}}
    return add("aws:appautoscaling/policy:Policy", "prod-worker-scaling", policy)



@pytest.mark.parametrize("specification, missing", [
    pytest.param({"namespace": "AWS/SQS", "metricName": "ApproximateNumberOfMessagesVisible", "statistic": "Average"}, ["sqs"], id="plain-sqs-metric"),
    pytest.param({"metrics": [{"id": "m1", "metricStat": {"metric": {"namespace": "AWS/SQS", "metricName": "ApproximateNumberOfMessagesVisible"}, "stat": "Sum"}},
                              {"id": "e1", "expression": "m1 / 2", "returnData": True}]}, ["sqs"], id="metric-math-over-sqs"),
    pytest.param({"namespace": "AWS/ECS", "metricName": "CPUUtilization", "statistic": "Average"}, [], id="not-a-queue"),
])
def test_a_queue_scaled_service_needs_the_sqs_endpoint_without_nat(pack, specification, missing):
    verdict = pack.verdict(edited(remove("prod-nat-eu-west-1a"), queue_scaling(specification)))
    assert violations(verdict) == expected(EGRESS_WITHOUT_NAT, (ENDPOINTS, "prod-vpc", lacking(*missing)))


def test_listed_endpoints_are_required_too(pack):
    config = all_mandatory(**{ENDPOINTS: {"requiredEndpoints": ["sts"]}})
    verdict = pack.verdict(edited(remove("prod-nat-eu-west-1a")), config)
    assert violations(verdict) == expected(EGRESS_WITHOUT_NAT, (ENDPOINTS, "prod-vpc", lacking("sts")))


def test_every_needed_endpoint_present_passes_without_nat(pack):
    suffixes = MISSING.split(", ")
    endpoints = [add("aws:ec2/vpcEndpoint:VpcEndpoint", f"prod-endpoint-{s}", {"vpcId": "vpc-1", "serviceName": f"com.amazonaws.{REGION}.{s}", "vpcEndpointType": "Interface", "privateDnsEnabled": True},
                     {"vpcId": ["prod-vpc"]}) for s in suffixes]
    assert violations(pack.verdict(edited(remove("prod-nat-eu-west-1a"), *endpoints))) == expected(EGRESS_WITHOUT_NAT)


def without_ec2_capacity(stack):
    """The cluster on Fargate only: no EC2 capacity provider."""
    stack.pop("prod-general")
    stack["prod-cluster-capacity"]["props"]["capacityProviders"] = ["FARGATE", "FARGATE_SPOT"]
    stack["prod-cluster-capacity"]["links"].pop("capacityProviders")


NO_EXEC = set_(SERVICE, "enableExecuteCommand", False)


@pytest.mark.parametrize("edits, missing", [
    # A cluster without services still needs its instances' endpoints (the task definition's secrets too).
    pytest.param([remove(SERVICE)], "ec2messages, ecr.dkr, ecs, ecs-agent, ecs-telemetry, logs, secretsmanager, ssm, ssmmessages", id="cluster-without-services"),
    # ECS Exec adds kms (ssmmessages stays for Session Manager on the EC2 instances).
    pytest.param([NO_EXEC], "ec2messages, ecr.dkr, ecs, ecs-agent, ecs-telemetry, logs, secretsmanager, ssm, ssmmessages", id="exec-off"),
    # Without EC2 capacity: no ECS agent and no Session Manager; ssm stays for the api's parameter,
    # ssmmessages for the task role's grant of its actions.
    pytest.param([NO_EXEC, without_ec2_capacity], "ecr.dkr, logs, secretsmanager, ssm, ssmmessages", id="exec-off-fargate-only"),
    pytest.param([without_ec2_capacity], "ecr.dkr, kms, logs, secretsmanager, ssm, ssmmessages", id="fargate-only"),
    # The task role found by its ARN alone (no property dependency): its grants still count.
    pytest.param([NO_EXEC, without_ec2_capacity, set_("prod-api-task-role", "arn", f"arn:aws:iam::{ACCOUNT}:role/prod-api-task"),
                  lambda s: s["prod-api-task"]["links"].pop("taskRoleArn")], "ecr.dkr, logs, secretsmanager, ssm, ssmmessages", id="task-role-by-its-arn"),
])
def test_the_endpoints_follow_what_the_stack_runs(pack, edits, missing):
    verdict = pack.verdict(edited(remove("prod-nat-eu-west-1a"), *edits))
    assert violations(verdict) == expected(EGRESS_WITHOUT_NAT, (ENDPOINTS, "prod-vpc", f"has no NAT gateway and lacks the VPC endpoints {missing}, so tasks cannot start"))
