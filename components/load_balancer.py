"""One Application Load Balancer per environment, with a route per exposed service.

- In the public subnets, or the private ones when `internal`.
- Its own security group: ingress only from `ingress_cidrs` on the listener ports (80, and 443
  with a certificate), one described rule per CIDR and port; egress only to the VPC CIDR on the
  services' ports (targets are `awsvpc` task IPs, which no security group reference can name
  before the services exist).
- With a certificate: HTTPS on 443 with the configured TLS policy, and HTTP on 80 answering a
  permanent redirect to HTTPS. Without one: plain HTTP on 80 (the policy pack flags it outside
  dev). Nothing is the catch-all: the default action is a fixed 404, so a request matching no
  service's rule never reaches a service by accident.
- Per exposed service (by key): an `ip` target group with the service's health check and a 30 s
  deregistration delay, and one listener rule at its priority for its paths and hosts. Adding or
  removing a service touches only its own target group and rule.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from configs.model import LoadBalancer as LoadBalancerConfig
from configs.model import Service as ServiceConfig
from components.arns import POLICY_VERSION
from components.naming import LOAD_BALANCER_NAME_MAX, TARGET_GROUP_NAME_MAX, child, family, physical, type_token

HTTP_PORT = 80
HTTPS_PORT = 443
# ECS drains a task for this long before stopping it; long enough for in-flight requests of a
# typical API, far below the 300 s default that slows every deploy.
DEREGISTRATION_DELAY_SECONDS = 30
# Physical names carry a digest of the attributes whose change makes AWS replace the resource, so
# a replacement gets a new name and Pulumi can create it before deleting the old one.
NAME_DIGEST_LENGTH = 6


@dataclass(frozen=True)
class LoadBalancerArgs:
    load_balancer: LoadBalancerConfig
    environment: str
    vpc_id: pulumi.Input[str]
    public_subnet_ids: dict[str, pulumi.Input[str]]
    private_subnet_ids: dict[str, pulumi.Input[str]]
    routes: dict[str, ServiceConfig]  # the exposed services, by key
    deletion_protection: bool
    tags: dict[str, str]
    vpc_cidr: str  # the targets' network (the security group's only egress); plain: it names target groups
    account_id: str = ""  # the ECS infrastructure role trusts this account's ECS only (native deployments)


class LoadBalancer(pulumi.ComponentResource):
    """Outputs: arn, arn_suffix, dns_name, zone_id, url, security_group_id, listener_arn (where rules
    attach), target_group_arns and target_group_arn_suffixes (service key -> value)."""

    def __init__(self, name: str, args: LoadBalancerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(type_token("load_balancer", "LoadBalancer"), name, None, opts)
        config = args.load_balancer
        for key, service in args.routes.items():
            _check_route(key, service)
        https = config.certificate_arn is not None
        listener_ports = (HTTP_PORT, HTTPS_PORT) if https else (HTTP_PORT,)

        self.security_group = self._security_group(name, args, listener_ports)
        subnets = args.private_subnet_ids if config.internal else args.public_subnet_ids
        self.load_balancer = aws.lb.LoadBalancer(
            name,
            name=replaceable_name(name, LOAD_BALANCER_NAME_MAX, "internal" if config.internal else "internet-facing"),
            load_balancer_type="application",
            internal=config.internal,
            ip_address_type="ipv4",
            subnets=[subnets[zone] for zone in sorted(subnets)],
            security_groups=[self.security_group.id],
            # Requests with header names that are not valid HTTP are dropped, not passed to
            # targets (request smuggling and header injection).
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.deletion_protection,
            idle_timeout=config.idle_timeout,
            access_logs=(
                aws.lb.LoadBalancerAccessLogsArgs(
                    bucket=config.access_logs.bucket, prefix=config.access_logs.prefix, enabled=True
                )
                if config.access_logs
                else None
            ),
            tags={**args.tags, "Name": name},
            opts=pulumi.ResourceOptions(parent=self),
        )

        listener = self._listeners(name, args)
        self.target_groups: dict[str, aws.lb.TargetGroup] = {}
        self.listener_rules: dict[str, aws.lb.ListenerRule] = {}
        # Native (blue/green, canary, linear) deployments: per service an alternate target group
        # and a header-matched test rule; one ECS infrastructure role shifts traffic for all.
        self.alternate_target_groups: dict[str, aws.lb.TargetGroup] = {}
        self.test_listener_rules: dict[str, aws.lb.ListenerRule] = {}
        native = sorted(key for key, service in args.routes.items() if service.deployment.native)
        self.infrastructure_role_arn = native_deployment_role(child(name, "ecs-infrastructure"), args.account_id, args.tags, self) if native else None
        for key in sorted(args.routes):
            service = args.routes[key]
            group = self._target_group(name, key, service, args)
            self.target_groups[key] = group
            alternate = self._target_group(name, key, service, args, alternate=True) if key in native else None
            self.listener_rules[key] = self._rule(name, key, service, listener, group, args.tags, alternate=alternate)
            if alternate is not None:
                self.alternate_target_groups[key] = alternate
                self.test_listener_rules[key] = self._test_rule(name, key, service, listener, alternate, args.tags)

        self.arn = self.load_balancer.arn
        self.arn_suffix = self.load_balancer.arn_suffix
        self.dns_name = self.load_balancer.dns_name
        self.zone_id = self.load_balancer.zone_id
        self.url = pulumi.Output.concat("https://" if https else "http://", self.load_balancer.dns_name)
        self.security_group_id = self.security_group.id
        self.listener_arn = listener.arn
        self.target_group_arns = {key: group.arn for key, group in self.target_groups.items()}
        self.target_group_arn_suffixes = {key: group.arn_suffix for key, group in self.target_groups.items()}
        self.alternate_target_group_arn_suffixes = {key: g.arn_suffix for key, g in self.alternate_target_groups.items()}
        self.register_outputs(
            {
                "arn": self.arn,
                "arn_suffix": self.arn_suffix,
                "dns_name": self.dns_name,
                "zone_id": self.zone_id,
                "url": self.url,
                "security_group_id": self.security_group_id,
                "listener_arn": self.listener_arn,
                "target_group_arns": self.target_group_arns,
                "target_group_arn_suffixes": self.target_group_arn_suffixes,
            }
        )

    # ---- security group ----------------------------------------------------------------

    def _security_group(
        self, name: str, args: LoadBalancerArgs, listener_ports: tuple[int, ...]
    ) -> aws.ec2.SecurityGroup:
        # No inline rules: each rule is its own resource, so adding a CIDR or a service adds one
        # rule instead of rewriting the group.
        group = aws.ec2.SecurityGroup(
            child(name, "sg"),
            description=f"{args.environment} load balancer: listeners from ingress_cidrs, targets in the VPC",
            vpc_id=args.vpc_id,
            tags={**args.tags, "Name": child(name, "sg")},
            opts=pulumi.ResourceOptions(parent=self),
        )
        for cidr in args.load_balancer.ingress_cidrs:
            for port in listener_ports:
                aws.vpc.SecurityGroupIngressRule(
                    child(name, "sg", "in", str(port), _slug(str(cidr))),
                    security_group_id=group.id,
                    description=f"{'HTTPS' if port == HTTPS_PORT else 'HTTP'} from {cidr} (load_balancer.ingress_cidrs)",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=str(cidr),
                    tags=args.tags,
                    opts=pulumi.ResourceOptions(parent=self),
                )
        # One rule per target port, described by the port alone, so that adding a service on a
        # port already open changes nothing here.
        for port in sorted({service.port for service in args.routes.values()}):  # type: ignore[type-var]
            aws.vpc.SecurityGroupEgressRule(
                child(name, "sg", "out", str(port)),
                security_group_id=group.id,
                description=f"Requests and health checks to tasks on port {port} in the VPC",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=args.vpc_cidr,
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return group

    # ---- listeners and routes ----------------------------------------------------------

    def _listeners(self, name: str, args: LoadBalancerArgs) -> aws.lb.Listener:
        """The listener the service rules attach to (HTTPS with a certificate, else HTTP)."""
        config = args.load_balancer
        if config.certificate_arn is None:
            return aws.lb.Listener(
                child(name, "http"),
                load_balancer_arn=self.load_balancer.arn,
                port=HTTP_PORT,
                protocol="HTTP",
                default_actions=[_not_found()],
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
        aws.lb.Listener(
            child(name, "http"),
            load_balancer_arn=self.load_balancer.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port=str(HTTPS_PORT), status_code="HTTP_301"
                    ),
                )
            ],
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.lb.Listener(
            child(name, "https"),
            load_balancer_arn=self.load_balancer.arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            ssl_policy=config.ssl_policy,
            certificate_arn=config.certificate_arn,
            default_actions=[_not_found()],
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _target_group(
        self, name: str, key: str, service: ServiceConfig, args: LoadBalancerArgs, *, alternate: bool = False
    ) -> aws.lb.TargetGroup:
        """The service's target group, or (alternate) the second one a native deployment starts
        the new revision in: same port, protocol and health check."""
        health = service.health_check
        suffix = ("alt",) if alternate else ()
        return aws.lb.TargetGroup(
            child(name, "tg", key, *suffix),
            # Port, protocol, target type and the VPC force a replacement: they are in the name's
            # digest, so the new group never collides with the old one's name.
            name=replaceable_name(
                family(args.environment, key), TARGET_GROUP_NAME_MAX, "HTTP", "ip", str(service.port), str(args.vpc_cidr), *suffix
            ),
            target_type="ip",  # awsvpc tasks register by IP
            protocol="HTTP",
            protocol_version="HTTP1",
            port=service.port,
            vpc_id=args.vpc_id,
            deregistration_delay=DEREGISTRATION_DELAY_SECONDS,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                protocol="HTTP",
                port="traffic-port",
                path=health.path,
                interval=health.interval,
                timeout=health.timeout,
                healthy_threshold=health.healthy_threshold,
                unhealthy_threshold=health.unhealthy_threshold,
                matcher=health.matcher,
            ),
            tags={**args.tags, "service": key},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _rule(
        self,
        name: str,
        key: str,
        service: ServiceConfig,
        listener: aws.lb.Listener,
        group: aws.lb.TargetGroup,
        tags: dict[str, str],
        alternate: Optional[aws.lb.TargetGroup] = None,
    ) -> aws.lb.ListenerRule:
        """The production rule. With an alternate target group (a native deployment) it forwards
        to both, weighted 100/0; ECS then owns the weights: it shifts them during a deployment
        and leaves production on either group, so `pulumi up` must not reset them (ignore
        changes to the actions, or the next up sends traffic back to a retired revision:
        terraform-aws-alb#409)."""
        return aws.lb.ListenerRule(
            child(name, "rule", key),
            listener_arn=listener.arn,
            priority=service.expose.priority,  # type: ignore[union-attr]
            actions=[_forward(group, alternate)],
            conditions=route_conditions(service),
            tags={**tags, "service": key},
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["actions"] if alternate is not None else None),
        )

    def _test_rule(
        self, name: str, key: str, service: ServiceConfig, listener: aws.lb.Listener, alternate: aws.lb.TargetGroup, tags: dict[str, str]
    ) -> aws.lb.ListenerRule:
        """The test rule ECS points at the new revision during a deployment: the service's routes
        plus the test header, one priority ahead of the production rule (lower numbers match
        first). Its actions are ECS's too."""
        return aws.lb.ListenerRule(
            child(name, "rule", key, "test"),
            listener_arn=listener.arn,
            priority=test_rule_priority(service),
            actions=[_forward(alternate, None)],
            conditions=[
                *route_conditions(service),
                aws.lb.ListenerRuleConditionArgs(
                    http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(http_header_name=TEST_HEADER, values=[TEST_HEADER_VALUE])
                ),
            ],
            tags={**tags, "service": key},
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["actions"]),
        )


def replaceable_name(base: str, max_length: int, *replacement_inputs: str) -> str:
    """`<base>-<digest of the inputs that force replacement>`, within max_length.

    Stable while those inputs are, and new when AWS must replace the resource, so the new one can
    be created before the old one is deleted (a fixed name would collide)."""
    digest = hashlib.sha256("/".join(replacement_inputs).encode()).hexdigest()[:NAME_DIGEST_LENGTH]
    stem = physical(base, max_length - NAME_DIGEST_LENGTH - 1).strip("-")
    if stem.startswith("internal-"):  # AWS reserves the prefix for internal ALBs' DNS names
        stem = "int-" + stem[len("internal-"):]
    return f"{stem}-{digest}"


# The header that sends a request to the new revision during a native deployment (test traffic).
TEST_HEADER = "X-Deployment-Test"
TEST_HEADER_VALUE = "true"
# ECS's managed policy for shifting load balancer traffic in native deployments.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html
LOAD_BALANCER_INFRASTRUCTURE_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"


def test_rule_priority(service: ServiceConfig) -> int:
    """One ahead of the production rule; configs/checks_delivery.py keeps it free."""
    return service.expose.priority - 1  # type: ignore[union-attr]


def route_conditions(service: ServiceConfig) -> list[aws.lb.ListenerRuleConditionArgs]:
    expose = service.expose
    assert expose is not None  # routes holds exposed services only (_check_route)
    conditions = []
    if expose.paths:
        conditions.append(
            aws.lb.ListenerRuleConditionArgs(path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(expose.paths)))
        )
    if expose.hosts:
        conditions.append(
            aws.lb.ListenerRuleConditionArgs(host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=list(expose.hosts)))
        )
    return conditions


def _forward(group: aws.lb.TargetGroup, alternate: Optional[aws.lb.TargetGroup]) -> aws.lb.ListenerRuleActionArgs:
    if alternate is None:
        return aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=group.arn)
    return aws.lb.ListenerRuleActionArgs(
        type="forward",
        forward=aws.lb.ListenerRuleActionForwardArgs(
            target_groups=[
                aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=group.arn, weight=100),
                aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=alternate.arn, weight=0),
            ]
        ),
    )


def native_deployment_role(resource_name: str, account_id: str, tags: dict[str, str], parent: pulumi.Resource) -> pulumi.Output[str]:
    """The ECS infrastructure role for load balancers: ECS assumes it to move targets and
    listener-rule weights during blue/green, canary and linear deployments (this account's
    ECS only)."""
    role = aws.iam.Role(
        resource_name,
        description="ECS shifts load balancer traffic between service revisions (native deployments)",
        assume_role_policy=json.dumps(
            {
                "Version": POLICY_VERSION,
                "Statement": [
                    {
                        "Sid": "EcsOfThisAccount",
                        "Effect": "Allow",
                        "Principal": {"Service": "ecs.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                    }
                ],
            },
            separators=(",", ":"),
        ),
        managed_policy_arns=[LOAD_BALANCER_INFRASTRUCTURE_POLICY],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return role.arn


def _not_found() -> aws.lb.ListenerDefaultActionArgs:
    return aws.lb.ListenerDefaultActionArgs(
        type="fixed-response",
        fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
            content_type="text/plain", message_body="Not Found", status_code="404"
        ),
    )


def _check_route(key: str, service: ServiceConfig) -> None:
    # The environment checks reject these before any registration; this guards direct use.
    if service.expose is None or service.port is None:
        raise ValueError(f"services.{key}: a routed service needs expose and a port")
    health = service.health_check
    if health.timeout >= health.interval:
        raise ValueError(
            f"services.{key}.health_check: timeout {health.timeout} must be below interval {health.interval} "
            "(an ALB target group rejects it otherwise)"
        )


def _slug(text: str) -> str:
    """`203.0.113.0/24` -> `203-0-113-0-24`, for logical names."""
    return "".join(c if c.isalnum() else "-" for c in text)
