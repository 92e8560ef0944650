"""The VPC: subnets per zone and tier, NAT per strategy, flow logs and VPC endpoints.

Every per-zone child is named from the zone (`prod-network-private-eu-west-1a`) and carved by
the zone's letter (configs/subnets.py), so adding a zone only adds resources: no existing
subnet, route table or NAT gateway is renamed, moved or replaced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from configs.aws_limits import GATEWAY_ENDPOINTS
from configs.model import Network as NetworkConfig
from configs.subnets import allocate_subnets
from components.arns import POLICY_VERSION
from components.logs import log_group
from components.naming import child, type_token

ANYWHERE = "0.0.0.0/0"
HTTPS = 443


@dataclass(frozen=True)
class NetworkArgs:
    network: NetworkConfig
    environment: str  # names the flow-log group /vpc/<environment>/flow-logs
    zones: tuple[str, ...]  # resolved once per stack (components/facts.py)
    region: str
    endpoints: tuple[str, ...]  # resolved endpoint suffixes (configs/endpoints.resolve_endpoints)
    tags: dict[str, str]
    log_kms_key_arn: Optional[pulumi.Input[str]]
    protect: bool


def endpoint_service(region: str, suffix: str) -> str:
    return f"com.amazonaws.{region}.{suffix}"


def flow_log_group_name(environment: str) -> str:
    return f"/vpc/{environment}/flow-logs"


def nat_zones(nat: str, zones: tuple[str, ...]) -> tuple[str, ...]:
    """The zones that hold a NAT gateway: none, the first zone (single) or every zone (per_az)."""
    if nat == "per_az":
        return zones
    if nat == "single":
        return zones[:1]
    return ()


def nat_for_zone(nat: str, zones: tuple[str, ...], zone: str) -> Optional[str]:
    """The zone whose NAT gateway a private route table in `zone` uses (None without NAT).
    per_az keeps egress inside the zone: no cross-AZ data charge, and one zone's outage does not
    cut the others off."""
    if nat == "per_az":
        return zone
    if nat == "single":
        return zones[0]
    return None


def _account_of(arn: str) -> str:
    return arn.split(":")[4]


def flow_log_trust_policy(vpc_arn: str) -> str:
    """Only the flow-logs service, acting for this VPC's account, may assume the role (the
    confused-deputy guard AWS recommends:
    https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html)."""
    partition, region, account = vpc_arn.split(":")[1], vpc_arn.split(":")[3], _account_of(vpc_arn)
    return json.dumps(
        {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "VpcFlowLogsAssume",
                    "Effect": "Allow",
                    "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account},
                        "ArnLike": {"aws:SourceArn": f"arn:{partition}:ec2:{region}:{account}:vpc-flow-log/*"},
                    },
                }
            ],
        },
        sort_keys=True,
    )


def flow_log_permissions(log_group_arn: str) -> str:
    """Write access to the one flow-log group. The group exists (we create it, with retention),
    so the role gets no logs:CreateLogGroup and nothing account-wide."""
    return json.dumps(
        {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "WriteFlowLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    "Resource": [log_group_arn, f"{log_group_arn}:*"],
                }
            ],
        },
        sort_keys=True,
    )


class Network(pulumi.ComponentResource):
    """Outputs: vpc_id, vpc_cidr (str), public_subnet_ids / private_subnet_ids and
    private_route_table_ids (zone -> id), endpoint_security_group_id (None without interface
    endpoints), nat_gateway_ids and nat_public_ips (zone -> value, zones holding a NAT),
    endpoint_ids (suffix -> id), flow_log_group_name (None when flow logs are off)."""

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(type_token("network", "Network"), name, None, opts)
        config, zones = args.network, tuple(args.zones)
        if not zones:
            raise ValueError(f"{name}: a VPC needs at least one availability zone")
        self._name, self._args = name, args
        cidrs = allocate_subnets(config.cidr, list(zones), config.subnet_prefix.public, config.subnet_prefix.private)

        self.vpc = aws.ec2.Vpc(
            child(name, "vpc"),
            cidr_block=str(config.cidr),
            # Both are needed for private DNS on interface endpoints (the AWS service names
            # resolve to the endpoint's addresses inside the VPC).
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=self._tags(child(name, "vpc")),
            opts=self._opts(),
        )
        # Adopting the default group strips all its rules: anything later attached to it by
        # mistake (a console-made ENI, an instance without a group) gets no traffic at all.
        aws.ec2.DefaultSecurityGroup(
            child(name, "default-sg"),
            vpc_id=self.vpc.id,
            tags=self._tags(child(name, "default-sg")),
            opts=self._opts(),
        )
        self.vpc_id = self.vpc.id
        self.vpc_cidr = str(config.cidr)

        self.public_subnet_ids: dict[str, pulumi.Output[str]] = {}
        self.private_subnet_ids: dict[str, pulumi.Output[str]] = {}
        for zone in zones:
            self.public_subnet_ids[zone] = self._subnet("public", zone, str(cidrs[("public", zone)])).id
            self.private_subnet_ids[zone] = self._subnet("private", zone, str(cidrs[("private", zone)])).id

        self._public_routing(zones)
        self.nat_gateway_ids, self.nat_public_ips = self._nat_gateways(config.nat, zones)
        self.private_route_table_ids = self._private_routing(config.nat, zones)
        self.flow_log_group_name = self._flow_logs() if config.flow_logs.enabled else None
        self.endpoint_security_group_id, self.endpoint_ids = self._endpoints(zones)

        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "vpc_cidr": self.vpc_cidr,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "private_route_table_ids": self.private_route_table_ids,
                "nat_gateway_ids": self.nat_gateway_ids,
                "nat_public_ips": self.nat_public_ips,
                "endpoint_security_group_id": self.endpoint_security_group_id,
                "endpoint_ids": self.endpoint_ids,
                "flow_log_group_name": self.flow_log_group_name,
            }
        )

    # ---- helpers -------------------------------------------------------------------------

    def _tags(self, resource_name: str, **extra: str) -> dict[str, str]:
        # Name is what the VPC console lists; without it every subnet reads "-".
        return {**self._args.tags, "Name": resource_name, **extra}

    def _opts(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _subnet(self, tier: str, zone: str, cidr: str) -> aws.ec2.Subnet:
        resource_name = child(self._name, tier, zone)
        return aws.ec2.Subnet(
            resource_name,
            vpc_id=self.vpc.id,
            availability_zone=zone,
            cidr_block=cidr,
            # Never on, in either tier: the ALB gets its own addresses in the public subnets
            # and tasks run in the private ones without public IPs.
            map_public_ip_on_launch=False,
            tags=self._tags(resource_name, tier=tier),
            opts=self._opts(),
        )

    # ---- routing -------------------------------------------------------------------------

    def _public_routing(self, zones: tuple[str, ...]) -> None:
        name = self._name
        self.internet_gateway = aws.ec2.InternetGateway(
            child(name, "igw"), vpc_id=self.vpc.id, tags=self._tags(child(name, "igw")), opts=self._opts()
        )
        # One public table for all zones: its only route is the internet gateway, which is
        # regional, so a table per zone would add resources and no resilience.
        table = aws.ec2.RouteTable(
            child(name, "public-rt"), vpc_id=self.vpc.id, tags=self._tags(child(name, "public-rt")), opts=self._opts()
        )
        aws.ec2.Route(
            child(name, "public-internet"),
            route_table_id=table.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=self.internet_gateway.id,
            opts=self._opts(),
        )
        for zone in zones:
            aws.ec2.RouteTableAssociation(
                child(name, "public", zone, "rta"),
                route_table_id=table.id,
                subnet_id=self.public_subnet_ids[zone],
                opts=self._opts(),
            )

    def _nat_gateways(
        self, nat: str, zones: tuple[str, ...]
    ) -> tuple[dict[str, pulumi.Output[str]], dict[str, pulumi.Output[str]]]:
        ids: dict[str, pulumi.Output[str]] = {}
        ips: dict[str, pulumi.Output[str]] = {}
        for zone in nat_zones(nat, zones):
            resource_name = child(self._name, "nat", zone)
            eip = aws.ec2.Eip(
                child(resource_name, "eip"), domain="vpc", tags=self._tags(child(resource_name, "eip")), opts=self._opts()
            )
            gateway = aws.ec2.NatGateway(
                resource_name,
                allocation_id=eip.id,
                subnet_id=self.public_subnet_ids[zone],
                connectivity_type="public",
                tags=self._tags(resource_name),
                # A NAT gateway created before the VPC has an internet gateway never reaches
                # the internet (AWS: "create the NAT gateway after the internet gateway").
                opts=self._opts(depends_on=[self.internet_gateway]),
            )
            ids[zone], ips[zone] = gateway.id, eip.public_ip
        return ids, ips

    def _private_routing(self, nat: str, zones: tuple[str, ...]) -> dict[str, pulumi.Output[str]]:
        """A table per zone, so that per_az NAT keeps each zone's egress in the zone. Private
        tables never get a route to the internet gateway: only NAT (if any) and endpoints."""
        tables: dict[str, pulumi.Output[str]] = {}
        for zone in zones:
            table_name = child(self._name, "private", zone, "rt")
            table = aws.ec2.RouteTable(table_name, vpc_id=self.vpc.id, tags=self._tags(table_name), opts=self._opts())
            aws.ec2.RouteTableAssociation(
                child(self._name, "private", zone, "rta"),
                route_table_id=table.id,
                subnet_id=self.private_subnet_ids[zone],
                opts=self._opts(),
            )
            nat_zone = nat_for_zone(nat, zones, zone)
            if nat_zone is not None:
                aws.ec2.Route(
                    child(self._name, "private", zone, "nat"),
                    route_table_id=table.id,
                    destination_cidr_block=ANYWHERE,
                    nat_gateway_id=self.nat_gateway_ids[nat_zone],
                    opts=self._opts(),
                )
            tables[zone] = table.id
        return tables

    # ---- flow logs -----------------------------------------------------------------------

    def _flow_logs(self) -> str:
        name, args = self._name, self._args
        group_name = flow_log_group_name(args.environment)
        # Flow logs would create the group themselves, without retention (kept forever, paid
        # forever) and without the environment's KMS key, so the platform creates it first.
        group = log_group(
            child(name, "flow-logs"),
            log_group_name=group_name,
            retention_days=args.network.flow_logs.retention_days,
            kms_key_arn=args.log_kms_key_arn,
            tags=args.tags,
            protect=args.protect,
            parent=self,
        )
        role = aws.iam.Role(
            child(name, "flow-logs-role"),
            description=f"VPC flow logs of {name} write to {group_name}",
            assume_role_policy=self.vpc.arn.apply(flow_log_trust_policy),
            tags=args.tags,
            opts=self._opts(),
        )
        policy = aws.iam.RolePolicy(
            child(name, "flow-logs-policy"),
            role=role.id,
            policy=group.arn.apply(flow_log_permissions),
            opts=self._opts(),
        )
        aws.ec2.FlowLog(
            child(name, "flow-log"),
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            tags=self._tags(child(name, "flow-log")),
            # Without its permissions the first deliveries fail until IAM has propagated.
            opts=self._opts(depends_on=[policy]),
        )
        return group_name

    # ---- endpoints -----------------------------------------------------------------------

    def _endpoints(self, zones: tuple[str, ...]) -> tuple[Optional[pulumi.Output[str]], dict[str, pulumi.Output[str]]]:
        args = self._args
        ids: dict[str, pulumi.Output[str]] = {}
        # Security groups can allow a gateway endpoint's service (S3, DynamoDB) only through its
        # managed prefix list.
        prefix_lists: dict[str, pulumi.Output[str]] = {}
        for suffix in sorted(s for s in args.endpoints if s in GATEWAY_ENDPOINTS):
            endpoint = self._gateway_endpoint(suffix, zones)
            ids[suffix] = endpoint.id
            prefix_lists[suffix] = endpoint.prefix_list_id
        self.s3_prefix_list_id = prefix_lists.get("s3")
        self.dynamodb_prefix_list_id = prefix_lists.get("dynamodb")
        interface = sorted(s for s in args.endpoints if s not in GATEWAY_ENDPOINTS)
        if not interface:
            return None, ids
        group = self._endpoint_security_group()
        for suffix in interface:
            ids[suffix] = self._interface_endpoint(suffix, zones, group.id)
        return group.id, ids

    def _gateway_endpoint(self, suffix: str, zones: tuple[str, ...]) -> aws.ec2.VpcEndpoint:
        """Gateway endpoints are free. S3's carries ECR image layers, so private tasks pull
        without NAT (and without NAT data charges). One association per zone instead of a
        route_table_ids list: adding a zone adds an association and changes no resource."""
        endpoint = self._endpoint(suffix, vpc_endpoint_type="Gateway")
        for zone in zones:
            aws.ec2.VpcEndpointRouteTableAssociation(
                child(self._name, "endpoint", _key(suffix), zone),
                vpc_endpoint_id=endpoint.id,
                route_table_id=self.private_route_table_ids[zone],
                opts=self._opts(),
            )
        return endpoint

    def _endpoint_security_group(self) -> aws.ec2.SecurityGroup:
        name, args = self._name, self._args
        group_name = child(name, "endpoints-sg")
        # No egress rule: security groups are stateful, so replies need none, and the provider
        # removes the allow-all egress AWS adds to every new group.
        group = aws.ec2.SecurityGroup(
            group_name,
            vpc_id=self.vpc.id,
            description="Interface VPC endpoints: HTTPS from inside the VPC only",
            tags=self._tags(group_name),
            opts=self._opts(),
        )
        aws.vpc.SecurityGroupIngressRule(
            child(group_name, "https-from-vpc"),
            security_group_id=group.id,
            description="HTTPS to the AWS service endpoints from anything inside the VPC",
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            cidr_ipv4=self.vpc_cidr,
            tags=self._tags(child(group_name, "https-from-vpc")),
            opts=self._opts(),
        )
        return group

    def _interface_endpoint(
        self, suffix: str, zones: tuple[str, ...], security_group_id: pulumi.Output[str]
    ) -> pulumi.Output[str]:
        """An endpoint network interface in every private subnet (about $0.01 per zone-hour each),
        so a zone's tasks never depend on another zone. The subnets are set on the endpoint
        itself rather than by separate associations: with private DNS on, the service's public
        name resolves to the endpoint from the moment it exists, so it must never exist without
        interfaces. Adding a zone updates subnet_ids in place (no replacement)."""
        return self._endpoint(
            suffix,
            vpc_endpoint_type="Interface",
            private_dns_enabled=True,
            subnet_ids=[self.private_subnet_ids[zone] for zone in zones],
            security_group_ids=[security_group_id],
        ).id

    def _endpoint(self, suffix: str, **kwargs) -> aws.ec2.VpcEndpoint:
        resource_name = child(self._name, "endpoint", _key(suffix))
        return aws.ec2.VpcEndpoint(
            resource_name,
            vpc_id=self.vpc.id,
            service_name=endpoint_service(self._args.region, suffix),
            tags=self._tags(resource_name),
            opts=self._opts(),
            **kwargs,
        )


def _key(suffix: str) -> str:
    """`ecr.api` -> `ecr-api`: endpoint suffixes as parts of logical names."""
    return suffix.replace(".", "-")
