"""The ECS cluster and its capacity providers: Fargate, Fargate Spot and EC2 Auto Scaling.

Children (logical names from the component name and the `cluster.capacity.ec2` keys):

    <name>                        aws:ecs/cluster:Cluster
    <name>-providers              aws:ecs/clusterCapacityProviders:ClusterCapacityProviders
    service_connect set:
    <name>-namespace              aws:servicediscovery/httpNamespace:HttpNamespace  its default namespace
    exec on:
    <name>-exec-key               aws:kms/key:Key              ECS Exec session encryption
    <name>-exec-key-alias         aws:kms/alias:Alias
    <name>-exec-logs              aws:cloudwatch/logGroup:LogGroup   /ecs/<env>/exec
    any EC2 provider:
    <name>-instances              aws:ec2/securityGroup:SecurityGroup  shared by every provider
    <name>-instances-https-out    aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule
    per EC2 provider <key>:
    <name>-<key>-instance-role    aws:iam/role:Role
    <name>-<key>-ecs-agent        aws:iam/rolePolicyAttachment:RolePolicyAttachment
    <name>-<key>-ssm-core         aws:iam/rolePolicyAttachment:RolePolicyAttachment
    <name>-<key>-instance-profile aws:iam/instanceProfile:InstanceProfile
    <name>-<key>-launch-template  aws:ec2/launchTemplate:LaunchTemplate
    <name>-<key>-asg              aws:autoscaling/group:Group
    <name>-<key>-capacity-provider aws:ecs/capacityProvider:CapacityProvider

Each EC2 provider's resources are named from its key only, so adding, removing or renaming
one provider leaves every other provider's resources untouched.
"""

from __future__ import annotations

import base64
import json
import textwrap
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from configs.aws_limits import FARGATE_PROVIDERS
from configs.model import EXEC_LOG_KEY, Capacity, Ec2Provider
from configs.model import Cluster as ClusterConfig
from configs.model import StrategyEntry
from configs.strategy import capacity_problems, capacity_strategy_problems, format_path
from components.facts import PlatformFacts, provider_ami_parameter
from configs.instance_types import is_gpu_provider
from components.arns import POLICY_VERSION
from components.logs import log_encryption_key, log_group, log_group_name
from components.naming import autonamed, bounded, child, type_token
from components.service_connect import http_namespace

# The two managed policies an ECS container instance needs, and nothing else: the agent's
# (register, poll, pull from ECR, ship awslogs) and SSM's (Session Manager instead of SSH).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/instance_IAM_role.html
INSTANCE_MANAGED_POLICIES: dict[str, str] = {
    "ecs-agent": "service-role/AmazonEC2ContainerServiceforEC2Role",
    "ssm-core": "AmazonSSMManagedInstanceCore",
}

# The ECS-optimised Amazon Linux 2023 AMI's root device.
ROOT_DEVICE = "/dev/xvda"


@dataclass(frozen=True)
class ClusterArgs:
    cluster: ClusterConfig
    environment: str
    facts: PlatformFacts
    vpc_id: pulumi.Input[str]
    private_subnet_ids: dict[str, pulumi.Input[str]]  # zone -> subnet id
    exec_log_retention_days: int
    log_kms_key_arn: Optional[pulumi.Input[str]]
    tags: dict[str, str]
    protect: bool


# ---- pure helpers --------------------------------------------------------------------------


def validate_strategy(
    strategy: Sequence[StrategyEntry], capacity: Capacity, *, path: str = "cluster.default_strategy"
) -> None:
    """Raises ValueError naming every rule the strategy breaks (the rules of configs/strategy.py,
    which the loader applies too): the component refuses what AWS would reject at apply time."""
    problems = capacity_strategy_problems(strategy, capacity)
    if problems:
        raise ValueError("; ".join(f"{format_path(path, where)}: {message}" for where, message in problems))


def provider_strategy(
    strategy: Sequence[StrategyEntry], names: Mapping[str, pulumi.Input[str]]
) -> list[dict[str, pulumi.Input]]:
    """The strategy in the API's shape, each key replaced by its capacity provider's name."""
    return [{"capacity_provider": names[entry.provider], "base": entry.base, "weight": entry.weight} for entry in strategy]


def validate_capacity(capacity: Capacity) -> None:
    """Raises ValueError naming every rule the capacity breaks (configs/strategy.py's
    capacity_problems, which the loader applies too)."""
    problems = capacity_problems(capacity)
    if problems:
        raise ValueError("; ".join(f"{'.'.join(path)}: {message}" for path, message in problems))


def user_data(cluster_name: str, *, gpu: bool = False) -> str:
    """The ECS agent's configuration, appended to /etc/ecs/ecs.config at first boot.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-agent-config.html

    GPU instances: the agent registers the instance's GPUs (and reserves them for tasks) only
    with ECS_ENABLE_GPU_SUPPORT=true (default false). The GPU-optimised AMI sets it in its own
    /var/lib/ecs/ecs.config (aws/amazon-ecs-ami, enable-ecs-agent-gpu-support-al2023.sh); it is
    stated here too, so GPU reservations do not rest on a detail of the AMI's build."""
    gpu_line = "ECS_ENABLE_GPU_SUPPORT=true\n        " if gpu else ""
    return textwrap.dedent(
        f"""\
        #!/bin/bash
        cat <<'EOF' >> /etc/ecs/ecs.config
        ECS_CLUSTER={cluster_name}
        {gpu_line}ECS_ENABLE_SPOT_INSTANCE_DRAINING=true
        ECS_ENABLE_TASK_IAM_ROLE=true
        ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true
        ECS_AWSVPC_BLOCK_IMDS=true
        ECS_CONTAINER_INSTANCE_PROPAGATE_TAGS_FROM=ec2_instance
        EOF
        """
    )


def instance_trust_policy() -> str:
    """EC2 may assume the instance role. No aws:SourceAccount condition: EC2 does not document
    sending it when it delivers instance-profile credentials, and a condition that is never
    populated denies the role, so instances would never join the cluster. The confused-deputy
    risk is covered instead by iam:PassRole: only principals of this account allowed to pass
    the role can attach it to an instance."""
    return json.dumps(
        {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        sort_keys=True,
    )


# ---- the component -------------------------------------------------------------------------


class Cluster(pulumi.ComponentResource):
    """Outputs: cluster_name, cluster_arn, capacity_provider_names (key -> name, fargate and
    fargate_spot included), capacity_providers (the ClusterCapacityProviders resource that
    services depend on), instance_security_group_id (None without EC2 providers),
    exec_kms_key_arn (None unless exec is on); also exec_log_group_name (None unless exec is
    on) and autoscaling_group_names (EC2 key -> ASG name)."""

    def __init__(self, name: str, args: ClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        config = args.cluster
        # Refuse before registering anything, the component included: a half-built cluster is
        # worse than none, and AWS would only say so halfway through `pulumi up`.
        validate_capacity(config.capacity)
        validate_strategy(config.default_strategy, config.capacity)
        if config.capacity.ec2 and not args.private_subnet_ids:
            raise ValueError("cluster.capacity.ec2: EC2 providers need private subnets; the network passed none")
        missing_amis = sorted({provider_ami_parameter(p) for p in config.capacity.ec2.values()} - set(args.facts.ecs_amis))
        if missing_amis:
            raise ValueError(f"facts.ecs_amis has no AMI for {', '.join(missing_amis)}; look it up in lookup_facts")
        super().__init__(type_token("cluster", "Cluster"), name, None, opts)

        self._args = args
        self._name = name
        self.cluster_physical_name = bounded("aws:ecs/cluster:Cluster", name)

        self.exec_kms_key_arn: Optional[pulumi.Output[str]] = None
        self.exec_log_group_name: Optional[pulumi.Output[str]] = None
        configuration = self._exec_configuration() if config.exec.enabled else None

        # cluster.service_connect: the namespace services register in, the cluster's default.
        self.service_connect_namespace: Optional[aws.servicediscovery.HttpNamespace] = (
            http_namespace(
                child(name, "namespace"), namespace=config.service_connect.namespace,
                environment=args.environment, tags=args.tags, parent=self,
            )
            if config.service_connect is not None
            else None
        )
        self.cluster = aws.ecs.Cluster(
            name,
            name=self.cluster_physical_name,
            settings=[{"name": "containerInsights", "value": config.container_insights}],
            configuration=configuration,
            service_connect_defaults=(
                aws.ecs.ClusterServiceConnectDefaultsArgs(namespace=self.service_connect_namespace.arn)
                if self.service_connect_namespace is not None
                else None
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.instance_security_group: Optional[aws.ec2.SecurityGroup] = (
            self._instance_security_group() if config.capacity.ec2 else None
        )
        self.capacity_provider_resources: dict[str, aws.ecs.CapacityProvider] = {}
        self.autoscaling_groups: dict[str, aws.autoscaling.Group] = {}
        # Sorted by key: the order of the YAML mapping changes no resource.
        for key in sorted(config.capacity.ec2):
            self.capacity_provider_resources[key] = self._ec2_provider(key, config.capacity.ec2[key])

        names: dict[str, pulumi.Input[str]] = {
            key: aws_name for key, aws_name in FARGATE_PROVIDERS.items() if getattr(config.capacity, key)
        }
        names.update({key: cp.name for key, cp in self.capacity_provider_resources.items()})

        # Attached explicitly, in one resource: a service whose strategy names a provider the
        # cluster does not hold fails to create, so services depend on this resource.
        # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PutClusterCapacityProviders.html
        self.capacity_providers = aws.ecs.ClusterCapacityProviders(
            child(name, "providers"),
            cluster_name=self.cluster.name,
            capacity_providers=list(names.values()),
            default_capacity_provider_strategies=provider_strategy(config.default_strategy, names),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.cluster_name: pulumi.Output[str] = self.cluster.name
        self.cluster_arn: pulumi.Output[str] = self.cluster.arn
        self.capacity_provider_names: dict[str, pulumi.Input[str]] = names
        self.instance_security_group_id: Optional[pulumi.Output[str]] = (
            self.instance_security_group.id if self.instance_security_group else None
        )
        self.autoscaling_group_names: dict[str, pulumi.Output[str]] = {
            key: group.name for key, group in self.autoscaling_groups.items()
        }
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "cluster_arn": self.cluster_arn,
                "capacity_provider_names": self.capacity_provider_names,
                "instance_security_group_id": self.instance_security_group_id,
                "exec_kms_key_arn": self.exec_kms_key_arn,
                "exec_log_group_name": self.exec_log_group_name,
                "autoscaling_group_names": self.autoscaling_group_names,
            }
        )

    # ---- ECS Exec ----------------------------------------------------------------------------

    def _exec_configuration(self) -> dict:
        """ECS Exec sessions: encrypted with a customer key, every command logged to a log group
        the platform owns (retention set), never to the account-wide default.
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-logging"""
        args, name = self._args, self._name
        # The key policy also admits CloudWatch Logs: without an environment log key the exec
        # log group is encrypted with this key, because Session Manager refuses to write
        # (cloud_watch_encryption_enabled) to a log group that is not KMS-encrypted.
        key = log_encryption_key(
            child(name, "exec-key"),
            description=f"Encrypts ECS Exec sessions of the {args.environment} cluster",
            facts=args.facts,
            tags=args.tags,
            protect=args.protect,
            parent=self,
        )
        aws.kms.Alias(
            child(name, "exec-key-alias"),
            name=bounded("aws:kms/alias:Alias", f"alias/ecs/{args.environment}/exec"),
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        group = log_group(
            child(name, "exec-logs"),
            log_group_name=log_group_name(args.environment, EXEC_LOG_KEY),
            retention_days=args.exec_log_retention_days,
            kms_key_arn=args.log_kms_key_arn if args.log_kms_key_arn is not None else key.arn,
            tags=args.tags,
            protect=args.protect,
            parent=self,
        )
        self.exec_kms_key_arn = key.arn
        self.exec_log_group_name = group.name
        return {
            "execute_command_configuration": {
                "kms_key_id": key.arn,
                "logging": "OVERRIDE",
                "log_configuration": {
                    "cloud_watch_log_group_name": group.name,
                    "cloud_watch_encryption_enabled": True,
                },
            }
        }

    # ---- EC2 capacity ------------------------------------------------------------------------

    def _instance_security_group(self) -> aws.ec2.SecurityGroup:
        """The container instances' own ENI. Tasks use awsvpc, so each task has its own ENI and
        its service's security group: the instance admits nothing (no ingress rule at all; use
        Session Manager, not SSH). Its egress is what the ECS agent, the container runtime
        (image pulls, awslogs, secrets) and the SSM agent need: HTTPS to AWS APIs and to
        registries, through NAT or the VPC endpoints. DNS (VPC+2), NTP (169.254.169.123) and
        instance metadata are not filtered by security groups, so they need no rule.
        https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"""
        args, name = self._args, self._name
        group = aws.ec2.SecurityGroup(
            autonamed("aws:ec2/securityGroup:SecurityGroup", child(name, "instances")),
            # No fixed name: a description change replaces the group, and Pulumi creates the
            # new one first, which a fixed name would collide with (InvalidGroup.Duplicate).
            description=f"ECS container instances of {args.environment}: no ingress, HTTPS egress only",
            vpc_id=args.vpc_id,
            tags={**args.tags, "Name": child(name, "instances")},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.vpc.SecurityGroupEgressRule(
            child(name, "instances-https-out"),
            security_group_id=group.id,
            description="HTTPS to AWS APIs (ECS, ECR, S3, CloudWatch Logs, SSM) and registries",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return group

    def _ec2_provider(self, key: str, provider: Ec2Provider) -> aws.ecs.CapacityProvider:
        args, name = self._args, self._name
        partition = args.facts.partition
        base = child(name, key)

        role = aws.iam.Role(
            autonamed("aws:iam/role:Role", child(base, "instance-role")),
            description=f"ECS container instances of the {key} capacity provider ({args.environment})",
            assume_role_policy=instance_trust_policy(),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                child(base, suffix),
                role=role.name,
                policy_arn=f"arn:{partition}:iam::aws:policy/{policy}",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for suffix, policy in INSTANCE_MANAGED_POLICIES.items()
        ]
        profile = aws.iam.InstanceProfile(
            autonamed("aws:iam/instanceProfile:InstanceProfile", child(base, "instance-profile")),
            role=role.name,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

        instance_tags = {**args.tags, "Name": base}
        launch_template = aws.ec2.LaunchTemplate(
            autonamed("aws:ec2/launchTemplate:LaunchTemplate", child(base, "launch-template")),
            description=f"ECS container instances of the {key} capacity provider",
            # The ECS-optimised AMI for the provider's architecture (its GPU variant for GPU
            # types), read once per stack from AWS's public SSM parameter (components/facts.py):
            # a new release rolls in on `up`.
            image_id=args.facts.ecs_amis[provider_ami_parameter(provider)],
            iam_instance_profile={"arn": profile.arn},
            # IMDSv2 only, and one hop: a container behind the docker bridge is a second hop,
            # so it cannot read the instance role's credentials; instance tags stay out of IMDS.
            # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
                "instance_metadata_tags": "disabled",
            },
            block_device_mappings=[
                {
                    "device_name": ROOT_DEVICE,
                    "ebs": {
                        "volume_size": provider.root_volume_gb,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            network_interfaces=[
                {
                    "device_index": 0,
                    "associate_public_ip_address": "false",
                    "delete_on_termination": "true",
                    "security_groups": [self.instance_security_group.id],  # type: ignore[union-attr]
                }
            ],
            # The cluster name comes from the cluster resource, so instances launch after it exists.
            user_data=self.cluster.name.apply(
                lambda cluster: _base64(user_data(cluster, gpu=is_gpu_provider(provider.instance_types)))
            ),
            update_default_version=True,
            tag_specifications=[
                {"resource_type": kind, "tags": instance_tags} for kind in ("instance", "volume", "network-interface")
            ],
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=attachments),
        )

        zones = sorted(args.private_subnet_ids)
        group = aws.autoscaling.Group(
            autonamed("aws:autoscaling/group:Group", child(base, "asg")),
            vpc_zone_identifiers=[args.private_subnet_ids[zone] for zone in zones],
            min_size=provider.min_size,
            max_size=provider.max_size,
            # Managed termination protection needs new instances protected from scale-in: ECS
            # lifts the protection only from instances that run no tasks.
            # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-termination-protection.html
            protect_from_scale_in=True,
            # Replace a Spot instance at risk of interruption before it is reclaimed.
            capacity_rebalance=True,
            # Deleting a group waits for its instances to terminate, which scale-in protection
            # prevents forever; by the time a provider is deleted, no strategy names it any more
            # (the loader checks) and its services have moved in the same update.
            force_delete=True,
            mixed_instances_policy={
                "launch_template": {
                    "launch_template_specification": {
                        "launch_template_id": launch_template.id,
                        # update_default_version marks every new template version default, so
                        # instances launched after an update (a new AMI) use it.
                        "version": "$Default",
                    },
                    # One override per type; on-demand capacity uses them in the listed order.
                    "overrides": [{"instance_type": instance_type} for instance_type in provider.instance_types],
                },
                "instances_distribution": {
                    "on_demand_allocation_strategy": "prioritized",
                    "on_demand_base_capacity": provider.on_demand_base,
                    "on_demand_percentage_above_base_capacity": provider.on_demand_percent_above_base,
                    # AWS's recommended Spot strategy: the deepest pools at the lowest price.
                    # https://docs.aws.amazon.com/autoscaling/ec2/userguide/allocation-strategies.html
                    "spot_allocation_strategy": "price-capacity-optimized",
                },
            },
            # ECS marks the groups it scales with this tag; declaring it avoids a diff on every up.
            # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/asg-capacity-providers.html
            tags=[{"key": "AmazonECSManaged", "value": "true", "propagate_at_launch": True}]
            + [{"key": k, "value": v, "propagate_at_launch": False} for k, v in sorted(args.tags.items())],
            # ECS managed scaling owns the desired capacity between runs of `pulumi up`.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCapacity"]),
        )
        self.autoscaling_groups[key] = group

        return aws.ecs.CapacityProvider(
            child(base, "capacity-provider"),
            # Named `<key>-<cluster>`: capacity provider names are unique per account and region
            # and must not start with aws/ecs/fargate, which the key never does (checked above).
            name=bounded("aws:ecs/capacityProvider:CapacityProvider", f"{key}-{self.cluster_physical_name}"),
            auto_scaling_group_provider={
                "auto_scaling_group_arn": group.arn,
                "managed_termination_protection": "ENABLED",
                "managed_draining": "ENABLED",
                "managed_scaling": {"status": "ENABLED", "target_capacity": provider.target_capacity},
            },
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
