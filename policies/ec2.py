"""EC2: launch templates of the ECS instances, security groups and their rules, and how a
subnet's routing is read (shared by the VPC and ECS service rules)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .framework import ResourceRule, Settings, Stack, StackRule
from .helpers import get, items, number, peek, truthy
from .load_balancer import LOAD_BALANCER, is_alb

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
VPC = "aws:ec2/vpc:Vpc"
RULE_TYPES = (SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE, EGRESS_RULE)
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE = "aws:ec2/route:Route"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"


# ---- subnet routing: read once here, used by aws-vpc-private-subnet-no-internet-gateway and
# aws-ecs-service-private-subnets


def subnet_route_tables(subnet, stack: Stack) -> list:
    """The route tables of the stack associated with a subnet (RouteTableAssociation)."""
    return [
        table
        for association in stack.referrers(subnet, "subnetId", (ASSOCIATION,))
        for table in stack.linked(association, "routeTableId", (ROUTE_TABLE,))
    ]


def _is_igw(gateway_id) -> bool:
    """Whether a route's gatewayId names an internet gateway (unknown or unset: no)."""
    return str(gateway_id or "").startswith("igw-")


def routes_to_internet_gateway(table, stack: Stack) -> bool:
    """Whether a route table has a route (inline or a Route resource) to an internet gateway.
    Raises Unknown when the inline routes are not known yet."""
    inline = [r for r in items(stack.props(table), "routes") if _is_igw(peek(r, "gatewayId"))]
    routes = stack.referrers(table, "routeTableId", (ROUTE,))
    return bool(inline) or any(
        _is_igw(peek(stack.props(route), "gatewayId"))
        or stack.linked(route, "gatewayId", (INTERNET_GATEWAY,))
        for route in routes
    )


def internet_route_tables(subnet, stack: Stack) -> list:
    """The route tables associated with a subnet that route to an internet gateway.
    Raises Unknown when a table's inline routes are not known yet."""
    return [table for table in subnet_route_tables(subnet, stack) if routes_to_internet_gateway(table, stack)]


def imdsv2(props: Mapping, settings: Settings) -> Iterable[str]:
    options = get(props, "metadataOptions", default={})
    if options.get("httpTokens") != "required":
        # IMDSv1 answers any SSRF'd GET with the instance role's credentials.
        yield f"metadataOptions.httpTokens is {options.get('httpTokens', 'optional (the default)')}"
    limit = number(options.get("httpPutResponseHopLimit"), 1)
    if limit > settings.option("maxHopLimit"):
        # A hop limit above 1 lets containers in bridge mode reach the instance role.
        yield f"metadataOptions.httpPutResponseHopLimit is {limit:g}"


def encrypted_volumes(props: Mapping, _settings: Settings) -> Iterable[str]:
    for mapping in items(props, "blockDeviceMappings"):
        ebs = mapping.get("ebs")
        if ebs is not None and not truthy(ebs.get("encrypted")):
            yield f"the volume {mapping.get('deviceName', '?')} is not encrypted"


def no_public_ip(props: Mapping, _settings: Settings) -> Iterable[str]:
    for interface in items(props, "networkInterfaces"):
        if truthy(interface.get("associatePublicIpAddress")):
            yield f"network interface {int(number(interface.get('deviceIndex')))} associates a public IP"


@dataclass(frozen=True)
class Ingress:
    """One ingress or egress permission, whichever of the four resource shapes declared it."""

    label: str
    from_port: int
    to_port: int
    protocol: str
    cidrs: tuple[str, ...]
    description: str


def permissions(props: Mapping, type_: str, direction: str = "ingress") -> list[Ingress]:
    if type_ == SECURITY_GROUP:
        return [_inline(rule, f"{direction}[{i}]") for i, rule in enumerate(items(props, direction))]
    if type_ == SECURITY_GROUP_RULE:
        return [_inline(props, props.get("type", ""))] if get(props, "type") == direction else []
    if (type_ == INGRESS_RULE) == (direction == "ingress") and type_ in (INGRESS_RULE, EGRESS_RULE):
        cidrs = tuple(c for c in (get(props, "cidrIpv4"), get(props, "cidrIpv6")) if c)
        return [Ingress("rule", int(number(get(props, "fromPort"))), int(number(get(props, "toPort"))),
                        str(get(props, "ipProtocol", default="-1")), cidrs, str(get(props, "description", default="")))]
    return []


def _inline(rule: Mapping, label: str) -> Ingress:
    cidrs = tuple(get(rule, "cidrBlocks", default=[])) + tuple(get(rule, "ipv6CidrBlocks", default=[]))
    return Ingress(label, int(number(get(rule, "fromPort"))), int(number(get(rule, "toPort"))),
                   str(get(rule, "protocol", default="-1")), cidrs, str(get(rule, "description", default="")))


def is_internet(cidr: str) -> bool:
    """0.0.0.0/0, ::/0 and any other block wider than a /8 count as the internet."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return network.prefixlen <= (8 if network.version == 4 else 16) and not network.is_private


def web_only(permission: Ingress, ports: tuple[int, ...]) -> bool:
    if permission.protocol in ("-1", "all"):
        return False
    return permission.from_port == permission.to_port and permission.from_port in ports


def public_ingress(subject, stack: Stack, settings: Settings) -> Iterable[str]:
    ports = tuple(settings.option("publicAlbPorts"))
    alb_groups = stack.memo(_internet_facing_alb_groups, lambda: _internet_facing_alb_groups(stack))  # same for every subject
    groups = [subject] if subject.resource_type == SECURITY_GROUP else stack.linked(subject, "securityGroupId", (SECURITY_GROUP,))
    on_alb = bool(groups) and all(g.urn in alb_groups for g in groups)
    for permission in permissions(stack.props(subject), subject.resource_type):
        public = [c for c in permission.cidrs if is_internet(c)]
        if public and not (on_alb and web_only(permission, ports)):
            yield (f"{permission.label} admits {', '.join(public)} on {permission.protocol} "
                   f"{permission.from_port}-{permission.to_port}")


def _internet_facing_alb_groups(stack: Stack) -> set[str]:
    albs = [lb for lb in stack.of(LOAD_BALANCER) if not truthy(get(stack.props(lb), "internal")) and is_alb(stack.props(lb))]
    return {g.urn for lb in albs for g in stack.linked(lb, "securityGroups", (SECURITY_GROUP,))}


def rules_described(props: Mapping, settings: Settings) -> Iterable[str]:
    for direction in ("ingress", "egress"):
        for permission in permissions(props, settings.resource_type, direction):
            if not permission.description.strip():
                yield f"{permission.label} ({direction} {permission.protocol} {permission.from_port}-{permission.to_port}) has no description"


def default_group_empty(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    adopted = stack.referrers(subject, "vpcId", (DEFAULT_SECURITY_GROUP,))
    if not adopted:
        # AWS's default group admits all traffic between its members and all egress; anything
        # launched without a group lands in it.
        yield "the default security group is not adopted (aws.ec2.DefaultSecurityGroup) and keeps AWS's allow rules"
    for group in adopted:
        props = stack.props(group)
        if items(props, "ingress") or items(props, "egress"):
            yield "the default security group has rules"


RULES = [
    ResourceRule(
        name="aws-ec2-launch-template-imdsv2",
        description="Launch templates require IMDSv2 tokens with a hop limit of 1.",
        remediation="set metadataOptions {httpTokens: required, httpPutResponseHopLimit: 1}",
        category="security",
        types=(LAUNCH_TEMPLATE,),
        check=imdsv2,
        options={"maxHopLimit": 1},
        option_schema={"maxHopLimit": {"type": "integer", "minimum": 1, "maximum": 64}},
    ),
    ResourceRule(
        name="aws-ec2-launch-template-encrypted-volumes",
        description="Launch template EBS volumes are encrypted.",
        remediation="set blockDeviceMappings[].ebs.encrypted: true",
        category="security",
        types=(LAUNCH_TEMPLATE,),
        check=encrypted_volumes,
    ),
    ResourceRule(
        name="aws-ec2-launch-template-no-public-ip",
        description="Instances from launch templates get no public IP.",
        remediation="set networkInterfaces[].associatePublicIpAddress: false and use private subnets",
        category="security",
        types=(LAUNCH_TEMPLATE,),
        check=no_public_ip,
    ),
    StackRule(
        name="aws-ec2-security-group-no-public-ingress",
        description="No ingress from the internet (0.0.0.0/0, ::/0), except 80/443 to an internet-facing ALB's group.",
        remediation="admit the ALB's or a service's security group, or the office CIDR (load_balancer.ingress_cidrs)",
        category="security",
        types=(SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE),
        check=public_ingress,
        options={"publicAlbPorts": [80, 443]},
        option_schema={"publicAlbPorts": {"type": "array", "items": {"type": "integer"}}},
    ),
    ResourceRule(
        name="aws-ec2-security-group-rules-described",
        description="Every security group rule has a description saying why it exists.",
        remediation="set description on the rule, e.g. 'ALB to api on 8080'",
        category="hygiene",
        types=RULE_TYPES,
        check=rules_described,
    ),
    StackRule(
        name="aws-ec2-default-security-group-no-rules",
        description="Every VPC's default security group is adopted and has no rules.",
        remediation="adopt it with aws.ec2.DefaultSecurityGroup(vpc_id=..., ingress=[], egress=[])",
        category="security",
        types=(VPC,),
        check=default_group_empty,
    ),
]
