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
INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
# What launches instances: the launch template rules apply to all three.
LAUNCHERS = (LAUNCH_TEMPLATE, INSTANCE, LAUNCH_CONFIGURATION)
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
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


def encrypted_volumes(props: Mapping, settings: Settings) -> Iterable[str]:
    if settings.resource_type != LAUNCH_TEMPLATE:
        # Instances and launch configurations: the root device and extra EBS devices.
        root = get(props, "rootBlockDevice", default={})
        if not truthy(root.get("encrypted")):
            yield "the root volume is not encrypted"
        for device in items(props, "ebsBlockDevices"):
            if not truthy(device.get("encrypted")):
                yield f"the volume {device.get('deviceName', '?')} is not encrypted"
        return
    for mapping in items(props, "blockDeviceMappings"):
        ebs = mapping.get("ebs")
        if ebs is not None and not truthy(ebs.get("encrypted")):
            yield f"the volume {mapping.get('deviceName', '?')} is not encrypted"


def no_public_ip(props: Mapping, settings: Settings) -> Iterable[str]:
    if settings.resource_type != LAUNCH_TEMPLATE and truthy(get(props, "associatePublicIpAddress")):
        yield "associatePublicIpAddress is true"
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


# Address space that is not the internet: RFC 1918, shared (CGNAT), loopback, link-local,
# IPv6 unique-local and link-local. Any other range is public, however it is split
# (0.0.0.0/1 and 128.0.0.0/1 together are 0.0.0.0/0).
NON_PUBLIC = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "fc00::/7", "fe80::/10", "::1/128"))
# A public range counts as the internet up to these prefix lengths (configurable per rule:
# e.g. 28 lets a partner's /28 through). By default every public range does.
PUBLIC_PREFIX_DEFAULTS = {"publicIpv4MaxPrefix": 32, "publicIpv6MaxPrefix": 128}
PUBLIC_PREFIX_SCHEMA = {
    "publicIpv4MaxPrefix": {"type": "integer", "minimum": 0, "maximum": 32, "description": "Public IPv4 ranges up to this prefix length count as the internet."},
    "publicIpv6MaxPrefix": {"type": "integer", "minimum": 0, "maximum": 128, "description": "Public IPv6 ranges up to this prefix length count as the internet."},
}


def is_internet(cidr: str, settings: Settings | None = None) -> bool:
    """Whether a CIDR reaches public address space (within the configured prefix lengths)."""
    try:
        network = ipaddress.ip_network(str(cidr).strip(), strict=False)
    except ValueError:
        return False
    if any(network.version == n.version and network.subnet_of(n) for n in NON_PUBLIC):
        return False
    key = "publicIpv4MaxPrefix" if network.version == 4 else "publicIpv6MaxPrefix"
    limit = settings.option(key) if settings is not None and key in settings.options else PUBLIC_PREFIX_DEFAULTS[key]
    return network.prefixlen <= int(limit)


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
        public = [c for c in permission.cidrs if is_internet(c, settings)]
        if public and not (on_alb and web_only(permission, ports)):
            yield (f"{permission.label} admits {', '.join(public)} on {permission.protocol} "
                   f"{permission.from_port}-{permission.to_port}")


def _internet_facing_alb_groups(stack: Stack) -> set[str]:
    albs = [lb for lb in stack.of(LOAD_BALANCER) if not truthy(get(stack.props(lb), "internal")) and is_alb(stack.props(lb))]
    return {g.urn for lb in albs for g in stack.linked(lb, "securityGroups", (SECURITY_GROUP,))}


ALL_PORTS = (0, 65535)


def all_traffic(permission: Ingress) -> bool:
    if permission.protocol.lower() in ("-1", "all"):
        return True
    return permission.from_port <= ALL_PORTS[0] and permission.to_port >= ALL_PORTS[1]


def restricted_egress(subject, stack: Stack, settings: Settings) -> Iterable[str]:
    without_nat = stack.memo(NAT_GATEWAY, lambda: not stack.of(NAT_GATEWAY))
    for permission in permissions(stack.props(subject), subject.resource_type, "egress"):
        public = [c for c in permission.cidrs if is_internet(c, settings)]
        if not public:
            continue
        ports = f"{permission.protocol} {permission.from_port}-{permission.to_port}"
        if all_traffic(permission):
            yield f"{permission.label} allows all traffic ({ports}) to {', '.join(public)}"
        elif without_nat:
            # Without NAT nothing public is reachable: endpoints and prefix lists are.
            yield f"{permission.label} allows {ports} to {', '.join(public)} in a stack without NAT, where only endpoints are reachable"


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
        description="Launch templates, instances and launch configurations require IMDSv2 tokens with a hop limit of 1.",
        remediation="set metadataOptions {httpTokens: required, httpPutResponseHopLimit: 1}",
        category="security",
        types=LAUNCHERS,
        check=imdsv2,
        options={"maxHopLimit": 1},
        option_schema={"maxHopLimit": {"type": "integer", "minimum": 1, "maximum": 64}},
    ),
    ResourceRule(
        name="aws-ec2-launch-template-encrypted-volumes",
        description="EBS volumes of launch templates, instances and launch configurations are encrypted.",
        remediation="set blockDeviceMappings[].ebs.encrypted: true",
        category="security",
        types=LAUNCHERS,
        check=encrypted_volumes,
    ),
    ResourceRule(
        name="aws-ec2-launch-template-no-public-ip",
        description="Instances (directly, or from launch templates and configurations) get no public IP.",
        remediation="set networkInterfaces[].associatePublicIpAddress: false and use private subnets",
        category="security",
        types=LAUNCHERS,
        check=no_public_ip,
    ),
    StackRule(
        name="aws-ec2-security-group-no-public-ingress",
        description="No ingress from the internet (any public range, not only 0.0.0.0/0 and ::/0), except 80/443 to an internet-facing ALB's group.",
        remediation="admit the ALB's or a service's security group, or the office CIDR (load_balancer.ingress_cidrs)",
        category="security",
        types=(SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE),
        check=public_ingress,
        options={"publicAlbPorts": [80, 443], **PUBLIC_PREFIX_DEFAULTS},
        option_schema={"publicAlbPorts": {"type": "array", "items": {"type": "integer"}}, **PUBLIC_PREFIX_SCHEMA},
    ),
    StackRule(
        name="aws-ec2-security-group-egress-restricted",
        description="Security group egress names its ports (no all-protocol or all-port egress to a public range), and a stack without NAT has no egress to public ranges at all.",
        remediation="allow the ports the service uses (e.g. tcp 443), to the VPC CIDR, a prefix list or a security group where possible",
        category="security",
        types=(SECURITY_GROUP, SECURITY_GROUP_RULE, EGRESS_RULE),
        check=restricted_egress,
        options=dict(PUBLIC_PREFIX_DEFAULTS),
        option_schema=PUBLIC_PREFIX_SCHEMA,
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
