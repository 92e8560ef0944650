"""Captured Pulumi registrations -> a Terraform-plan JSON that checkov's terraform_plan
framework scans, so an independent rule set (written for Terraform) judges what we build.

pulumi-aws is bridged from the Terraform AWS provider, so every resource and property has a
Terraform twin; the names differ in three regular ways, handled here:
- type tokens: `aws:ecs/taskDefinition:TaskDefinition` -> `aws_ecs_task_definition` (TYPE_NAMES);
- property keys: camelCase -> snake_case, at every depth;
- repeatable nested blocks Pulumi pluralises: `capacityProviderStrategies` ->
  `capacity_provider_strategy` (PROPERTY_RENAMES, per Terraform type).
Terraform also writes every nested block as a list, even one that holds at most one item,
and keeps the keys of map attributes (tags) exactly as written.

Terraform plan JSON format: https://developer.hashicorp.com/terraform/internals/json-format
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from pulumi.runtime import mocks as pulumi_mocks

from review.offline import CapturedResource

# The pulumi-aws types this project registers, and their Terraform names. An explicit table,
# not a derivation: a type missing here fails the conversion, so no resource goes unscanned.
TYPE_NAMES: dict[str, str] = {
    "aws:appautoscaling/policy:Policy": "aws_appautoscaling_policy",
    "aws:appautoscaling/scheduledAction:ScheduledAction": "aws_appautoscaling_scheduled_action",
    "aws:scheduler/schedule:Schedule": "aws_scheduler_schedule",
    "aws:sfn/stateMachine:StateMachine": "aws_sfn_state_machine",
    "aws:sqs/queue:Queue": "aws_sqs_queue",
    "aws:appautoscaling/target:Target": "aws_appautoscaling_target",
    "aws:autoscaling/group:Group": "aws_autoscaling_group",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/launchTemplate:LaunchTemplate": "aws_launch_template",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/route:Route": "aws_route",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "aws_security_group_rule",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation": "aws_vpc_endpoint_route_table_association",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "aws_ecr_lifecycle_policy",
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration": "aws_ecr_registry_scanning_configuration",
    "aws:ecr/repository:Repository": "aws_ecr_repository",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "aws_ecr_repository_policy",
    "aws:ecs/capacityProvider:CapacityProvider": "aws_ecs_capacity_provider",
    "aws:ecs/cluster:Cluster": "aws_ecs_cluster",
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": "aws_ecs_cluster_capacity_providers",
    "aws:ecs/service:Service": "aws_ecs_service",
    "aws:ecs/taskDefinition:TaskDefinition": "aws_ecs_task_definition",
    "aws:iam/instanceProfile:InstanceProfile": "aws_iam_instance_profile",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
    "aws:iam/policy:Policy": "aws_iam_policy",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:lb/listener:Listener": "aws_lb_listener",
    "aws:lb/listenerRule:ListenerRule": "aws_lb_listener_rule",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:lb/targetGroup:TargetGroup": "aws_lb_target_group",
    "aws:servicediscovery/httpNamespace:HttpNamespace": "aws_service_discovery_http_namespace",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
    # A `before:` job's run (pulumi-command): Terraform's twin is terraform_data with a
    # local-exec provisioner; checkov has no check for it, so nothing is judged there.
    "command:local:Command": "terraform_data",
}

# Pulumi's plural names of repeatable blocks (and a few other differences) -> Terraform's,
# by Terraform type. Keys are Pulumi's camelCase names; they apply at every depth of the
# resource, because the same block names recur inside nested blocks (listener actions).
PROPERTY_RENAMES: dict[str, dict[str, str]] = {
    "aws_appautoscaling_policy": {"stepAdjustments": "step_adjustment"},
    "aws_cloudwatch_metric_alarm": {"metricQueries": "metric_query"},
    "aws_iam_openid_connect_provider": {"clientIdLists": "client_id_list", "thumbprintLists": "thumbprint_list"},
    "aws_autoscaling_group": {
        "tags": "tag",  # a list of {key, value, propagate_at_launch} blocks, not a map
        "vpcZoneIdentifiers": "vpc_zone_identifier",
        "overrides": "override",
    },
    "aws_ecr_registry_scanning_configuration": {"rules": "rule", "repositoryFilters": "repository_filter"},
    "aws_ecr_repository": {"encryptionConfigurations": "encryption_configuration"},
    "aws_ecs_cluster": {"settings": "setting"},
    "aws_ecs_cluster_capacity_providers": {"defaultCapacityProviderStrategies": "default_capacity_provider_strategy"},
    "aws_ecs_service": {
        "capacityProviderStrategies": "capacity_provider_strategy",
        "loadBalancers": "load_balancer",
        "orderedPlacementStrategies": "ordered_placement_strategy",
        "placementConstraints": "placement_constraints",
        "services": "service",  # serviceConnectConfiguration's service blocks
    },
    "aws_ecs_task_definition": {"volumes": "volume", "placementConstraints": "placement_constraints"},
    "aws_iam_role": {"inlinePolicies": "inline_policy"},
    "aws_lb": {"subnetMappings": "subnet_mapping"},
    "aws_lb_listener": {"defaultActions": "default_action", "targetGroups": "target_group"},
    "aws_lb_listener_rule": {"actions": "action", "conditions": "condition", "targetGroups": "target_group"},
    "aws_route_table": {"routes": "route"},
}

# Map attributes: user-chosen keys, kept verbatim and not wrapped as a block.
MAP_ATTRIBUTES = frozenset({"tags", "tags_all"})
# Attributes Terraform holds as a JSON string; an object on the wire is encoded the same way.
JSON_STRING_ATTRIBUTES = frozenset({"container_definitions", "policy", "assume_role_policy"})

PROVIDER_NAME = "registry.terraform.io/hashicorp/aws"
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class UnmappedTypeError(ValueError):
    """A captured type without a Terraform name: add it to TYPE_NAMES (and PROPERTY_RENAMES)."""


def snake_case(name: str) -> str:
    """`healthCheckGracePeriodSeconds` -> `health_check_grace_period_seconds`, `cidrIpv4` -> `cidr_ipv4`."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def terraform_type(pulumi_type: str) -> str:
    try:
        return TYPE_NAMES[pulumi_type]
    except KeyError:
        raise UnmappedTypeError(
            f"{pulumi_type} has no Terraform name in verify/terraform_plan.py TYPE_NAMES; add it "
            "(and its pluralised block names to PROPERTY_RENAMES) so checkov scans it"
        ) from None


def terraform_values(props: dict[str, Any], tf_type: str, references: Optional["ReferenceIndex"] = None) -> dict[str, Any]:
    """A resource's Pulumi inputs as Terraform attribute values."""
    return _Converter(tf_type, references or ReferenceIndex()).block(props)[0]


class ReferenceIndex:
    """Which strings are attributes that exist only once another resource is created (its id,
    ARN, URL, ...), as the mocks compute them: value -> `aws_vpc.prod-network-vpc.id`.

    In a Terraform plan of a new stack such values are unknown, and the configuration records
    the reference instead; checkov draws its resource graph from those references (a flow log
    attached to its VPC, a security group used by a service), so the graph checks need them.
    """

    # Computed `name`s are left out: they equal logical names, which also appear in tags.
    NOT_REFERENCES = frozenset({"name"})

    def __init__(self) -> None:
        self.by_value: dict[str, str] = {}

    @classmethod
    def of(cls, resources: Iterable[CapturedResource], mocks: pulumi_mocks.Mocks) -> "ReferenceIndex":
        index = cls()
        for resource in resources:
            if resource.custom:
                index.add(resource, mocks)
        return index

    def add(self, resource: CapturedResource, mocks: pulumi_mocks.Mocks) -> None:
        address = f"{terraform_type(resource.type)}.{resource.name}"
        args = pulumi_mocks.MockResourceArgs(resource.type, resource.name, resource.props, custom=True)
        resource_id, state = mocks.new_resource(args)
        computed = {"id": resource_id} | {
            key: value
            for key, value in state.items()
            if key not in resource.props and key not in self.NOT_REFERENCES and isinstance(value, str)
        }
        for key, value in computed.items():
            self.by_value.setdefault(value, f"{address}.{snake_case(key)}")

    def reference(self, value: Any) -> Optional[str]:
        return self.by_value.get(value) if isinstance(value, str) else None


@dataclass(frozen=True)
class _Converter:
    """Converts one resource: (Terraform values, configuration expressions with references)."""

    tf_type: str
    references: ReferenceIndex

    @property
    def renames(self) -> dict[str, str]:
        return PROPERTY_RENAMES.get(self.tf_type, {})

    def key(self, key: str) -> str:
        return self.renames.get(key) or snake_case(key)

    def block(self, props: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        values: dict[str, Any] = {}
        expressions: dict[str, Any] = {}
        for key, value in props.items():
            tf_key = self.key(key)
            converted, expression = self.attribute(tf_key, value)
            if converted is not _UNKNOWN:
                values[tf_key] = converted
            if expression:
                expressions[tf_key] = expression
        return values, expressions

    def attribute(self, tf_key: str, value: Any) -> tuple[Any, Any]:
        if tf_key in MAP_ATTRIBUTES and isinstance(value, dict):
            return {k: _scalar(v) for k, v in value.items()}, None
        if tf_key in JSON_STRING_ATTRIBUTES and isinstance(value, (dict, list)):
            return json.dumps(value, sort_keys=True), None
        if isinstance(value, dict):
            # A single nested block (Pulumi: an object) is a one-item list in Terraform.
            return self.blocks([value])
        if isinstance(value, list) and any(isinstance(item, dict) for item in value):
            return self.blocks(value)
        if isinstance(value, list):
            return self.scalars(value)
        reference = self.references.reference(value)
        if reference:
            return _UNKNOWN, _references([reference])
        return _scalar(value), None

    def blocks(self, items: list[Any]) -> tuple[list[Any], Any]:
        converted = [self.block(item) if isinstance(item, dict) else (_scalar(item), {}) for item in items]
        expressions = [expression for _, expression in converted]
        return [values for values, _ in converted], expressions if any(expressions) else None

    def scalars(self, items: list[Any]) -> tuple[list[Any], Any]:
        # Unknown elements stay in place as null, as Terraform shows a partly known list.
        found = [self.references.reference(item) for item in items]
        values = [None if reference else _scalar(item) for item, reference in zip(items, found)]
        known = [reference for reference in found if reference]
        return values, _references(known) if known else None


_UNKNOWN = object()  # an attribute Terraform would only know after apply: left out of values


def _references(references: list[str]) -> dict[str, list[str]]:
    # Terraform lists each reference with the resource it belongs to: `aws_vpc.x.id`, `aws_vpc.x`.
    listed: list[str] = []
    for reference in references:
        listed += [reference, reference.rsplit(".", 1)[0]]
    return {"references": listed}


def _scalar(value: Any) -> Any:
    # The mock monitor decodes every number as a float; Terraform writes whole numbers as ints,
    # and checkov compares some (ports, retention days) with ints.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def planned_resource(resource: CapturedResource, references: Optional[ReferenceIndex] = None) -> tuple[dict, dict]:
    """The resource's planned_values entry and its configuration entry (the references)."""
    tf_type = terraform_type(resource.type)
    address = f"{tf_type}.{resource.name}"
    values, expressions = _Converter(tf_type, references or ReferenceIndex()).block(resource.props)
    common = {"address": address, "mode": "managed", "type": tf_type, "name": resource.name}
    planned = {**common, "provider_name": PROVIDER_NAME, "schema_version": 0, "values": values, "sensitive_values": {}}
    configuration = {**common, "provider_config_key": "aws", "expressions": expressions}
    return planned, configuration


def to_terraform_plan(resources: Iterable[CapturedResource], mocks: Optional[pulumi_mocks.Mocks] = None) -> dict[str, Any]:
    """The custom resources as a Terraform plan that creates them (components have no twin).

    With the mocks that answered the run, ids and ARNs of created resources become references.
    """
    custom = sorted((r for r in resources if r.custom), key=lambda r: (terraform_type(r.type), r.name))
    references = ReferenceIndex.of(custom, mocks) if mocks is not None else ReferenceIndex()
    converted = [planned_resource(r, references) for r in custom]
    planned = [p for p, _ in converted]
    _refuse_duplicate_addresses(planned)
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": [_creation(r) for r in planned],
        "configuration": {"root_module": {"resources": [c for _, c in converted]}},
    }


def _creation(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": resource["address"],
        "mode": "managed",
        "type": resource["type"],
        "name": resource["name"],
        "provider_name": PROVIDER_NAME,
        "change": {"actions": ["create"], "before": None, "after": resource["values"], "after_unknown": {}},
    }


def _refuse_duplicate_addresses(planned: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for resource in planned:
        if resource["address"] in seen:
            raise ValueError(f"two resources would share the Terraform address {resource['address']}")
        seen.add(resource["address"])
