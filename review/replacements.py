"""Which input changes make AWS (through pulumi-aws) replace a resource instead of updating
it, for the resource types this project creates. Paths are wire (camelCase) names; a change
at a path or below it forces replacement. From the provider schema's ForceNew arguments
(the Terraform AWS provider docs say "Forces new resource" on each).
"""

from __future__ import annotations

# Marks a type where every input change registers a new immutable version instead.
NEW_REVISION = "new-revision"

REPLACE_ON: dict[str, tuple[str, ...] | str] = {
    # The VPC's primary CIDR is fixed at creation (secondary blocks are separate resources).
    "aws:ec2/vpc:Vpc": ("cidrBlock", "instanceTenancy", "ipv4IpamPoolId"),
    # A subnet cannot move between ranges, zones or VPCs.
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone", "availabilityZoneId", "vpcId", "ipv6Native"),
    # An Elastic IP's domain and pool are fixed.
    "aws:ec2/eip:Eip": ("domain", "address", "publicIpv4Pool", "networkBorderGroup", "customerOwnedIpv4Pool"),
    # A NAT gateway lives in one subnet with one address allocation.
    "aws:ec2/natGateway:NatGateway": ("subnetId", "allocationId", "connectivityType", "privateIp"),
    # Internet gateways re-attach in place.
    "aws:ec2/internetGateway:InternetGateway": (),
    "aws:ec2/routeTable:RouteTable": ("vpcId",),
    # A route is identified by its table and destination.
    "aws:ec2/route:Route": ("routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId"),
    # The table of an association can be swapped in place; its subnet cannot.
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("subnetId", "gatewayId"),
    # Name, description and VPC of a security group are immutable in EC2.
    "aws:ec2/securityGroup:SecurityGroup": ("name", "namePrefix", "description", "vpcId"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("vpcId",),
    # A classic rule has no update API beyond its description: every other argument is fixed.
    "aws:ec2/securityGroupRule:SecurityGroupRule": ("type", "securityGroupId", "protocol", "fromPort", "toPort", "cidrBlocks", "ipv6CidrBlocks", "prefixListIds", "sourceSecurityGroupId", "self"),
    # The newer per-rule resources update ports and sources in place; only the group is fixed.
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("securityGroupId",),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("securityGroupId",),
    # Endpoint service and type are fixed; subnets, groups and policy update in place.
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpcId", "serviceName", "vpcEndpointType", "serviceRegion"),
    "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation": ("routeTableId", "vpcEndpointId"),
    # Flow logs have no update API at all (except tags).
    "aws:ec2/flowLog:FlowLog": ("vpcId", "subnetId", "eniId", "logDestination", "logDestinationType", "logGroupName", "trafficType", "iamRoleArn", "maxAggregationInterval", "logFormat", "destinationOptions"),
    # Launch templates version in place (a new default version); only the name is fixed.
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", "namePrefix"),
    "aws:autoscaling/group:Group": ("name", "namePrefix"),
    # Log group names are their identity; the class cannot change. Holds the logs.
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix", "logGroupClass"),
    # A key's spec and usage are fixed at creation. Holds the key material.
    "aws:kms/key:Key": ("customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"),
    "aws:kms/alias:Alias": ("name", "namePrefix"),
    # A repository's name and encryption are fixed. Holds the images.
    "aws:ecr/repository:Repository": ("name", "encryptionConfigurations"),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("repository",),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("repository",),
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration": (),
    "aws:ecs/cluster:Cluster": ("name",),
    "aws:ecs/capacityProvider:CapacityProvider": ("name", "autoScalingGroupProvider.autoScalingGroupArn"),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": ("clusterName",),
    # Task definitions are immutable: any change registers a new revision of the family,
    # and the service rolls to it (or, with deploys: ci, ignores it). Not a replacement.
    "aws:ecs/taskDefinition:TaskDefinition": NEW_REVISION,
    # Strategy, count, networking and load balancers update in place; these do not.
    "aws:ecs/service:Service": ("name", "cluster", "launchType", "schedulingStrategy", "iamRole", "deploymentController"),
    "aws:iam/role:Role": ("name", "namePrefix", "path"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix", "role"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role", "policyArn"),
    "aws:iam/policy:Policy": ("name", "namePrefix", "path", "description"),
    "aws:iam/instanceProfile:InstanceProfile": ("name", "namePrefix", "path"),
    # An ALB cannot switch between internet-facing and internal, nor change type.
    "aws:lb/loadBalancer:LoadBalancer": ("name", "namePrefix", "internal", "loadBalancerType"),
    # Target groups fix their port, protocol, VPC and target type.
    "aws:lb/targetGroup:TargetGroup": ("name", "namePrefix", "port", "protocol", "protocolVersion", "vpcId", "targetType", "ipAddressType"),
    "aws:lb/listener:Listener": ("loadBalancerArn",),
    "aws:lb/listenerRule:ListenerRule": ("listenerArn",),
    "aws:appautoscaling/target:Target": ("resourceId", "scalableDimension", "serviceNamespace"),
    "aws:appautoscaling/policy:Policy": ("name", "resourceId", "scalableDimension", "serviceNamespace"),
    # A scheduled action is named from its expression (configs/schedules.py): a new cron is a new action.
    "aws:appautoscaling/scheduledAction:ScheduledAction": ("name", "resourceId", "scalableDimension", "serviceNamespace"),
    # Delivery: alarms are identified by name; a topic by its name; an OIDC provider by its issuer.
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name",),
    "aws:sns/topic:Topic": ("name", "namePrefix", "fifoTopic"),
    # A Cloud Map namespace's name and description are set when it is created (ForceNew in the
    # provider); a new name is a new namespace, and every server registers again (a redeploy).
    "aws:servicediscovery/httpNamespace:HttpNamespace": ("name", "description"),
    "aws:sns/topicPolicy:TopicPolicy": ("arn",),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ("url",),
    # Scheduled jobs: a queue keeps its name and FIFO-ness, a state machine its name and type
    # (STANDARD/EXPRESS), a schedule its name and group.
    "aws:sqs/queue:Queue": ("name", "namePrefix", "fifoQueue"),
    "aws:sfn/stateMachine:StateMachine": ("name", "namePrefix", "type"),
    "aws:scheduler/schedule:Schedule": ("name", "namePrefix", "groupName"),
    # pulumi-command without an `update` command: a changed trigger (a `before:` job's task
    # definition ARN) replaces it, i.e. runs `create` again; other changes also run `create`.
    "command:local:Command": ("triggers",),
}

# What is lost when these are replaced or deleted.
STATEFUL: dict[str, str] = {
    "aws:ecr/repository:Repository": "its images",
    "aws:cloudwatch/logGroup:LogGroup": "its log events",
    "aws:kms/key:Key": "its key material (data encrypted under it becomes unreadable)",
    "aws:sns/topic:Topic": "its subscriptions (who is paged by the alarms)",
}

# Changes to these never touch the resource itself (tags update in place everywhere).
IN_PLACE_ALWAYS = ("tags", "tagsAll")


def under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def change_effect(type_: str, path: str) -> str:
    """"replace", "new-revision" or "update" for a change of one input path."""
    if any(under(path, p) for p in IN_PLACE_ALWAYS):
        return "update"
    rule = REPLACE_ON.get(type_, ())
    if rule == NEW_REVISION:
        return "new-revision"
    return "replace" if any(under(path, p) for p in rule) else "update"
