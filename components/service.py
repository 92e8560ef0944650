"""One ECS service: its task (components/task.py: log group, roles, task definition), security
group, load-balancer wiring and autoscaling.

Ownership between `pulumi up` runs (see the README): autoscaling owns the desired count, and
with `deploys: ci` the CI pipeline owns which task definition revision runs. The ECS service
ignores those fields so neither `pulumi up` nor CI undoes the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

from configs.model import Connection, Deployment
from configs.model import Task as TaskConfig
from configs.model import Service as ServiceConfig
from configs.model import StrategyEntry
from components.deployment import NativeLoadBalancing, deployment_arguments, rollout_minutes
from components.facts import PlatformFacts
from components.naming import child, family, name_part, type_token
from components.registry import repository_name
from components.storage import EfsMount, nfs_rules
from components.scaling import scale_service
from components.service_connect import service_connect_configuration
from components.task import Task, TaskArgs


HTTPS = 443
ANYWHERE = "0.0.0.0/0"
@dataclass(frozen=True)
class ServiceArgs:
    key: str
    service: ServiceConfig
    environment: str
    facts: PlatformFacts
    strategy: tuple[StrategyEntry, ...]  # resolved: the service's or the cluster default
    uses_ec2: bool
    architecture: str
    deploys: str  # pulumi | ci
    exec_enabled: bool
    log_retention_days: int
    log_kms_key_arn: Optional[pulumi.Input[str]]
    image: pulumi.Input[str]  # the full image reference (ECR URL:tag or the configured uri)
    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    capacity_provider_names: dict[str, pulumi.Input[str]]
    capacity_providers: pulumi.Resource  # services wait until providers are attached
    vpc_id: pulumi.Input[str]
    private_subnet_ids: dict[str, pulumi.Input[str]]
    load_balancer_security_group_id: Optional[pulumi.Input[str]]
    target_group_arn: Optional[pulumi.Input[str]]
    request_count_label: Optional[pulumi.Input[str]]  # "<alb arn suffix>/<target group arn suffix>"
    exec_kms_key_arn: Optional[pulumi.Input[str]]
    tags: dict[str, str]
    protect: bool
    # How the private subnets reach AWS APIs: "nat" (a NAT gateway: HTTPS anywhere) or
    # "endpoints" (nat: none; HTTPS only to the interface endpoints' group and S3's prefix list).
    aws_egress: str = "nat"
    endpoint_security_group_id: Optional[pulumi.Input[str]] = None  # required for "endpoints"
    s3_prefix_list_id: Optional[pulumi.Input[str]] = None  # the S3 gateway endpoint's; for "endpoints"
    dynamodb_prefix_list_id: Optional[pulumi.Input[str]] = None  # DynamoDB's, when a task role calls it
    exec_log_group_name: Optional[pulumi.Input[str]] = None  # the cluster's exec session log group
    listener_rule: Optional[pulumi.Resource] = None  # the ALB rule routing to target_group_arn
    native_load_balancing: Optional[NativeLoadBalancing] = None  # blue_green/canary/linear (deployment.py)
    rollback_alarm_names: tuple[str, ...] = ()  # deployment.rollback_alarms: the service's alarms
    alarms: tuple[pulumi.Resource, ...] = ()  # the alarm resources, created before the service
    # `jobs.<j>.before` naming this service: the jobs' components. The ECS service depends on
    # them, so its rollout waits for their run (components/job.py) to succeed.
    runs_after: tuple[pulumi.Resource, ...] = ()
    sidecar_images: dict[str, pulumi.Input[str]] = field(default_factory=dict)  # sidecar -> full image reference
    efs: dict[str, EfsMount] = field(default_factory=dict)  # EFS volume -> file system, access point (storage.py)
    # cluster.service_connect: the namespace, for a server or client (configs/service_connect.py)
    service_connect_namespace_arn: Optional[pulumi.Input[str]] = None


def rollout_timeouts(deployment: Deployment, deploys: str) -> Optional[pulumi.CustomTimeouts]:
    """How long `pulumi up` waits for a steady state (create and update); None when it does
    not wait (`deployment.wait: false`, or deploys: ci where the pipeline waits)."""
    if not deployment.waits(deploys):
        return None
    minutes = f"{rollout_minutes(deployment)}m"  # native deployments: plus shifting and bake time
    return pulumi.CustomTimeouts(create=minutes, update=minutes)


def tcp_rule(
    direction: str,
    resource_name: str,
    *,
    group: pulumi.Input[str],
    port: int,
    description: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
    peer_group: Optional[pulumi.Input[str]] = None,
    cidr: Optional[str] = None,
    prefix_list: Optional[pulumi.Input[str]] = None,
) -> pulumi.CustomResource:
    """One TCP port to or from exactly one peer (a group, a CIDR or a prefix list), described.

    Standalone rule resources (never inline rules) so each can be added or removed alone."""
    rule = aws.vpc.SecurityGroupIngressRule if direction == "ingress" else aws.vpc.SecurityGroupEgressRule
    return rule(
        resource_name,
        security_group_id=group,
        referenced_security_group_id=peer_group,
        cidr_ipv4=cidr,
        prefix_list_id=prefix_list,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


# --------------------------------------------------------------------------------------------
# The component
# --------------------------------------------------------------------------------------------


def missing_repositories(args: ServiceArgs) -> list[str]:
    return repositories_not_yet_created(args.service, args.environment, args.facts)


def repositories_not_yet_created(task: TaskConfig, environment: str, facts: PlatformFacts) -> list[str]:
    """The stack's own ECR repositories (`image.repository`) that a task's images (main and
    sidecars) come from and that did not exist when the stack started, sorted. An ECR `uri` is
    not judged: a pull-through cache creates its repository on the first pull."""
    images = [task.image, *(sidecar.image for sidecar in task.sidecars.values())]
    names = {repository_name(environment, image.repository) for image in images if image.repository is not None}
    return sorted(name for name in names if not facts.repository_exists(name))


def first_deploy_message(key: str, missing: list[str]) -> str:
    return (
        f"services.{key}: the ECS service is not created in this update: its ECR repository "
        f"{', '.join(missing)} does not exist yet. Everything else is created now; push the image tags the "
        "service names, then run `pulumi up` again to create it (README: Before the first `pulumi up`)."
    )


def https_to_aws(
    name: str, group: pulumi.Input[str], args, tags: dict[str, str], parent: pulumi.Resource
) -> list[pulumi.CustomResource]:
    """The egress every task needs (a service's or a job's group; `args` has aws_egress,
    endpoint_security_group_id, s3_prefix_list_id and dynamodb_prefix_list_id); returns the rules."""
    # The tasks themselves need HTTPS to AWS: ECR (image manifests and, through S3, layers),
    # CloudWatch Logs, Secrets Manager / SSM for injected secrets, STS for the task role, and
    # whatever AWS APIs the application calls. DNS needs no rule: the VPC resolver (.2) is
    # not subject to security groups.
    if args.aws_egress == "endpoints":
        # nat: none. Nothing but the VPC endpoints is reachable anyway, so say exactly that:
        # the interface endpoints' group and the gateway endpoints' prefix lists.
        rules = [tcp_rule(
            "egress", child(name, "https-to-endpoints"), group=group,
            peer_group=args.endpoint_security_group_id, port=HTTPS,
            description="HTTPS to the VPC interface endpoints (ECR, Logs, Secrets Manager, SSM, STS)",
            tags=tags, parent=parent,
        ), tcp_rule(
            "egress", child(name, "https-to-s3"), group=group, prefix_list=args.s3_prefix_list_id,
            port=HTTPS, description="HTTPS to S3 through the gateway endpoint (ECR image layers)",
            tags=tags, parent=parent,
        )]
        if args.dynamodb_prefix_list_id is not None:
            rules.append(tcp_rule(
                "egress", child(name, "https-to-dynamodb"), group=group, prefix_list=args.dynamodb_prefix_list_id,
                port=HTTPS, description="HTTPS to DynamoDB through the gateway endpoint", tags=tags, parent=parent,
            ))
        return rules
    elif args.aws_egress == "nat":
        # Through the NAT gateway AWS's public endpoints have no fixed addresses, so HTTPS is
        # open to anywhere; every other port stays closed.
        return [tcp_rule(
            "egress", child(name, "https-out"), group=group, cidr=ANYWHERE, port=HTTPS,
            description="HTTPS to AWS APIs and ECR through the NAT gateway", tags=tags, parent=parent,
        )]
    return []


def task_args(args: ServiceArgs, previous_parent: Optional[pulumi.Resource] = None) -> TaskArgs:
    """What the service's task is built from: everything but the ECS service itself."""
    config = args.service
    return TaskArgs(
        key=args.key,
        task=config,
        environment=args.environment,
        facts=args.facts,
        uses_ec2=args.uses_ec2,
        architecture=args.architecture,
        exec_enabled=args.exec_enabled,
        log_retention_days=args.log_retention_days,
        log_kms_key_arn=args.log_kms_key_arn,
        image=args.image,
        exec_kms_key_arn=args.exec_kms_key_arn,
        exec_log_group_name=args.exec_log_group_name,
        tags=args.tags,
        protect=args.protect,
        port=config.port,
        health_check=config.health_check,
        previous_parent=previous_parent,
        sidecar_images=args.sidecar_images,
        efs=args.efs,
        service_connect=args.service_connect_namespace_arn is not None,
    )


def _service_connect(args: ServiceArgs, task: Task) -> Optional[aws.ecs.ServiceServiceConnectConfigurationArgs]:
    if args.service_connect_namespace_arn is None:
        return None
    return service_connect_configuration(
        args.key, args.service.port, namespace_arn=args.service_connect_namespace_arn,
        log_group_name=task.log_group_name, region=args.facts.region,
    )


def _refuse_unbuildable(args: ServiceArgs) -> None:
    """Raises ValueError for inputs the service cannot be built from (the loader's checks keep
    them out of a validated environment; a component called directly may still get them)."""
    key, config = args.key, args.service
    if args.aws_egress == "endpoints":
        if args.endpoint_security_group_id is None or args.s3_prefix_list_id is None:
            raise ValueError(
                f"services.{key}: aws_egress 'endpoints' needs the endpoint security group and the S3 prefix list"
            )
    elif args.aws_egress != "nat":
        raise ValueError(f"aws_egress must be nat or endpoints, got {args.aws_egress!r}")
    if config.expose is not None and (args.target_group_arn is None or config.port is None):
        raise ValueError(f"services.{key}: an exposed service needs a port and a target group")
    scaling = config.autoscaling
    if scaling is not None and scaling.requests_per_target is not None and args.request_count_label is None:
        raise ValueError(f"services.{key}.autoscaling.requests_per_target needs the service to be exposed on the ALB")


class Service(pulumi.ComponentResource):
    """Outputs: service_name, security_group_id, task_definition_arn, execution_role_arn,
    task_role_arn (None without a task role), log_group_name."""

    def __init__(self, name: str, args: ServiceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        # Refuse before registering anything, the component included (as the cluster does): a
        # half-built service is worse than none.
        _refuse_unbuildable(args)
        super().__init__(type_token("service", "Service"), name, None, opts)
        config, key = args.service, args.key
        self.resource_name = name
        self.args = args
        task = Task(name, task_args(args, previous_parent=self), pulumi.ResourceOptions(parent=self))
        task_definition = task.task_definition

        security_group = self._security_group(name, args)

        # First deploy: a service whose image repository does not exist yet would only fail
        # (no image can have been pushed); everything else is created, the service next time.
        service = None if self._waits_for_its_repositories(args) else self._ecs_service(name, args, task, security_group)
        if service is not None and config.autoscaling is not None:
            scale_service(
                name, scaling=config.autoscaling, environment=args.environment, key=key, cluster_name=args.cluster_name,
                service_name=service.name, request_count_label=args.request_count_label, tags=args.tags, parent=self,
            )

        self.service_name = service.name if service is not None else pulumi.Output.from_input(key)
        self.security_group_id = security_group.id
        self.task_definition_arn = task_definition.arn
        self.execution_role_arn = task.execution_role_arn
        self.task_role_arn = task.task_role_arn
        self.log_group_name = task.log_group_name
        self.register_outputs(
            {
                "service_name": self.service_name,
                "security_group_id": self.security_group_id,
                "task_definition_arn": self.task_definition_arn,
                "execution_role_arn": self.execution_role_arn,
                "task_role_arn": self.task_role_arn,
                "log_group_name": self.log_group_name,
            }
        )

    def _ecs_service(self, name: str, args: ServiceArgs, task: Task, security_group: aws.ec2.SecurityGroup) -> aws.ecs.Service:
        config, key, task_definition = args.service, args.key, task.task_definition
        exposed = config.expose is not None
        ignored = ["desiredCount"] + (["taskDefinition"] if args.deploys == "ci" else [])
        return aws.ecs.Service(
            child(name, "service"),
            # A stable name: CI deploys with `aws ecs update-service --service <key>`, and the
            # autoscaling resource id names it. Unique within the environment's own cluster.
            name=key,
            cluster=args.cluster_arn,
            task_definition=task_definition.arn,
            desired_count=config.desired_count,
            capacity_provider_strategies=[
                aws.ecs.ServiceCapacityProviderStrategyArgs(
                    # fargate -> FARGATE, fargate_spot -> FARGATE_SPOT, an EC2 key -> its provider.
                    capacity_provider=args.capacity_provider_names[entry.provider],
                    base=entry.base,
                    weight=entry.weight,
                )
                for entry in args.strategy
            ],
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=[args.private_subnet_ids[zone] for zone in sorted(args.private_subnet_ids)],
                security_groups=[security_group.id],
                assign_public_ip=False,
            ),
            # The strategy (rolling with the circuit breaker, or native blue/green, canary,
            # linear), rollback alarms and load balancers: components/deployment.py.
            **deployment_arguments(
                config.deployment,
                target_group_arn=args.target_group_arn if exposed else None,
                container_name=key,
                container_port=config.port,
                native=args.native_load_balancing,
                rollback_alarm_names=args.rollback_alarm_names,
            ),
            health_check_grace_period_seconds=config.health_check.grace_period if exposed else None,
            service_connect_configuration=_service_connect(args, task),
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            enable_execute_command=args.exec_enabled,
            # ECS refuses a capacity-provider-strategy change without a new deployment, and the
            # provider stops the preview ("force_new_deployment should be true") or, in older
            # versions, replaces the service (delete-first here: an outage). With it, every
            # update of this resource starts a deployment; it does not redeploy when nothing
            # changed (no `triggers`). With deploys: ci that deployment runs CI's current
            # revision, since taskDefinition is ignored (README).
            force_new_deployment=True,
            # `pulumi up` fails when the rollout does (circuit breaker rollback or no steady
            # state within the timeout), instead of reporting success for a rolled-back deploy.
            wait_for_steady_state=config.deployment.waits(args.deploys),
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                # Capacity providers must be attached to the cluster before a strategy names them,
                # and ECS refuses a target group that no listener routes to yet
                # ("does not have an associated load balancer"): wait for the listener rule.
                # Both roles' inline policies, not only the roles: tasks started before their
                # permissions exist fail (AccessDenied) and trip the circuit breaker.
                depends_on=[
                    args.capacity_providers,
                    *([args.listener_rule] if args.listener_rule else []),
                    *task.inline_policies,
                    *args.alarms,  # deployment alarms must exist when ECS reads them
                    *self.efs_ready,  # EFS mount targets and NFS rules: tasks fail to mount before them
                    *args.runs_after,  # `before:` jobs: their run succeeded (components/job.py)
                ],
                ignore_changes=ignored,
                custom_timeouts=rollout_timeouts(config.deployment, args.deploys),
                # The name is fixed, and ECS refuses a second service of the same name in the
                # cluster, so a replacement (only a new name or cluster forces one) must delete
                # first; the preview shows it as such.
                delete_before_replace=True,
            ),
        )


    def _waits_for_its_repositories(self, args: ServiceArgs) -> bool:
        """True (and says so in the preview) when an ECR repository the task's images come from
        does not exist yet in the account: the first `pulumi up` creates it, the images are
        pushed, and the next `pulumi up` creates the service. Once created, a service is never
        removed because an image is missing (the repositories it needs then exist)."""
        missing = missing_repositories(args)
        if missing:
            pulumi.log.warn(first_deploy_message(args.key, missing), resource=self)
        return bool(missing)

    def _security_group(self, name: str, args: ServiceArgs) -> aws.ec2.SecurityGroup:
        """The tasks' group. No inline rules: every rule is its own resource, so rules added by
        `connect_services` (also on other services' groups) never fight an inline list.

        The physical name is left to Pulumi (a random suffix): a replacement then creates the
        new group before the service moves off the old one, which a fixed name would forbid."""
        key, config, tags = args.key, args.service, args.tags
        group = aws.ec2.SecurityGroup(
            child(name, "sg"),
            description=f"ECS service {args.environment}/{key}: its tasks",
            vpc_id=args.vpc_id,
            tags={**tags, "Name": family(args.environment, key)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        if config.expose is not None and args.load_balancer_security_group_id is not None:
            port, alb = config.port, args.load_balancer_security_group_id
            assert port is not None
            tcp_rule(
                "ingress", child(name, "from-alb", str(port)), group=group.id, peer_group=alb, port=port,
                description=f"The load balancer forwards requests and health checks to {key} on {port}",
                tags=tags, parent=self,
            )
            # The load balancer's own group opens its egress to the targets' port (load_balancer.py).
        https_to_aws(name, group.id, args, tags, parent=self)
        self.efs_ready = nfs_rules(name, key, group.id, args.efs, tags, parent=self)
        return group


# --------------------------------------------------------------------------------------------
# connects_to
# --------------------------------------------------------------------------------------------


def connect_services(
    services: dict[str, "Service"], configs: dict[str, ServiceConfig]
) -> dict[str, list[pulumi.CustomResource]]:
    """`connects_to`: egress on the source's group, plus ingress on the target when the target
    is another service of this stack; created after every service exists so peers can refer to
    each other both ways. A CIDR or prefix list (a network outside the VPC) gets the egress
    rule only: whatever listens there admits us by its own rules.

    Rules are children of the source service and named from keys, so adding or removing one
    connection (or service) touches no other rule. Returns each source's rules (a `before:`
    job's run waits for them)."""
    rules: dict[str, list[pulumi.CustomResource]] = {}
    for source_key in sorted(configs):
        source = services[source_key]
        created = rules.setdefault(source_key, [])
        seen: set[tuple[str, int]] = set()
        for connection in configs[source_key].connects_to:
            target, port = connection.target, connection.port
            if (target, port) in seen:
                continue
            seen.add((target, port))
            base = child(source.resource_name, "to", name_part(target), str(port))
            if connection.service is None:
                created.append(_egress_outside_the_vpc(source, source_key, connection, base))
                continue
            peer = services[connection.service]
            created += tcp_rule(
                "egress", child(base, "egress"), group=source.security_group_id, peer_group=peer.security_group_id,
                port=port, description=f"{source_key} connects to service {connection.service} on {port}",
                tags=source.args.tags, parent=source,
            ), tcp_rule(
                "ingress", child(base, "ingress"), group=peer.security_group_id,
                peer_group=source.security_group_id, port=port,
                description=f"{connection.service} admits {source_key} on {port}",
                tags=source.args.tags, parent=source,
            )
    return rules


def _egress_outside_the_vpc(
    source: "Service", source_key: str, connection: Connection, base: str
) -> pulumi.CustomResource:
    """A `cidr:` or `prefix_list:` target. A `security_group:` outside the stack is refused by
    the loader (AWS rejects rules to groups in another VPC); refuse it here too for callers
    that skip the loader."""
    if connection.security_group is not None:
        raise ValueError(
            f"services.{source_key}.connects_to: {connection.security_group} is not created by this stack; "
            "use cidr: or prefix_list:"
        )
    what = f"network {connection.cidr}" if connection.cidr is not None else f"prefix list {connection.prefix_list}"
    return tcp_rule(
        "egress", child(base, "egress"), group=source.security_group_id,
        cidr=str(connection.cidr) if connection.cidr is not None else None,
        prefix_list=connection.prefix_list, port=connection.port,
        description=f"{source_key} connects to {what} on {connection.port}",
        tags=source.args.tags, parent=source,
    )
