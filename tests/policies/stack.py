"""One compliant production platform as the engine would describe it to the pack, and small
edits that change one field. Every policy test starts from `compliant_stack()`."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable, Iterable

from policies.registry import RULES_BY_NAME
from policies.tags import TAGGABLE_TYPES
from review.policy_verdict import Resource

ENV, ACCOUNT, REGION = "prod", "123456789012", "eu-west-1"
TAGS = {"env": ENV, "team": "platform"}
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-AbCdEf"
PARAMETER = "/prod/api/key"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:{ENV}::ecs-platform::{type_}::{name}"


class Builder:
    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}

    def add(self, type_: str, name: str, props: dict, *, links: dict[str, Iterable[str]] = (), parent: str = "", custom: bool = True) -> None:
        if type_ in TAGGABLE_TYPES and type_ != "aws:autoscaling/group:Group":
            props = {"tags": dict(TAGS), **props}
        self.resources[name] = {"type": type_, "name": name, "props": props, "links": dict(links or {}), "parent": parent, "custom": custom}


def json_doc(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def trust(service: str = "ecs-tasks.amazonaws.com") -> str:
    condition = {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:*"}}
    return json_doc([{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole", "Condition": condition}])


LIFECYCLE = json.dumps({"rules": [
    {"rulePriority": 1, "description": "keep 30 v* tags", "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 30}, "action": {"type": "expire"}},
    {"rulePriority": 2, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}, "action": {"type": "expire"}},
]})

CONTAINERS = [{
    "name": "api",
    "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/prod/api:v1.4.2",
    "readonlyRootFilesystem": True,
    "privileged": False,
    "linuxParameters": {"capabilities": {"drop": ["ALL"]}},
    "user": "10001",
    "environment": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "KEYCLOAK_URL", "value": "https://id"}],
    "secrets": [{"name": "DB_PASSWORD", "valueFrom": f"{SECRET}:password::"}, {"name": "API_KEY", "valueFrom": PARAMETER}],
    "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/prod/api", "awslogs-region": REGION, "awslogs-stream-prefix": "api"}},
}]


def compliant_stack() -> dict[str, dict[str, Any]]:
    b = Builder()
    # network
    b.add("aws:ec2/vpc:Vpc", "prod-vpc", {"cidrBlock": "10.30.0.0/16", "enableDnsHostnames": True})
    b.add("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "prod-default-sg", {"vpcId": "vpc-1", "ingress": [], "egress": []}, links={"vpcId": ["prod-vpc"]})
    b.add("aws:cloudwatch/logGroup:LogGroup", "prod-flow-logs", {"name": "/vpc/prod/flow-logs", "retentionInDays": 365, "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1"})
    b.add("aws:ec2/flowLog:FlowLog", "prod-flow-log", {"vpcId": "vpc-1", "trafficType": "ALL", "logDestination": "arn:flow"}, links={"vpcId": ["prod-vpc"], "logDestination": ["prod-flow-logs"]})
    b.add("aws:ec2/internetGateway:InternetGateway", "prod-igw", {"vpcId": "vpc-1"}, links={"vpcId": ["prod-vpc"]})
    b.add("aws:ec2/subnet:Subnet", "prod-public-eu-west-1a", {"vpcId": "vpc-1", "cidrBlock": "10.30.0.0/24"}, links={"vpcId": ["prod-vpc"]})
    b.add("aws:ec2/subnet:Subnet", "prod-private-eu-west-1a", {"vpcId": "vpc-1", "cidrBlock": "10.30.16.0/20"}, links={"vpcId": ["prod-vpc"]})
    b.add("aws:ec2/eip:Eip", "prod-nat-eip-eu-west-1a", {"domain": "vpc"})
    b.add("aws:ec2/natGateway:NatGateway", "prod-nat-eu-west-1a", {"subnetId": "subnet-pub", "allocationId": "eip-1"}, links={"subnetId": ["prod-public-eu-west-1a"], "allocationId": ["prod-nat-eip-eu-west-1a"]})
    b.add("aws:ec2/routeTable:RouteTable", "prod-public-rt", {"vpcId": "vpc-1", "routes": [{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"}]}, links={"vpcId": ["prod-vpc"], "routes": ["prod-igw"]})
    b.add("aws:ec2/routeTable:RouteTable", "prod-private-rt-eu-west-1a", {"vpcId": "vpc-1"}, links={"vpcId": ["prod-vpc"]})
    b.add("aws:ec2/route:Route", "prod-private-default-eu-west-1a", {"routeTableId": "rtb-2", "destinationCidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"}, links={"routeTableId": ["prod-private-rt-eu-west-1a"], "natGatewayId": ["prod-nat-eu-west-1a"]})
    b.add("aws:ec2/routeTableAssociation:RouteTableAssociation", "prod-public-eu-west-1a-rta", {"subnetId": "subnet-pub", "routeTableId": "rtb-1"}, links={"subnetId": ["prod-public-eu-west-1a"], "routeTableId": ["prod-public-rt"]})
    b.add("aws:ec2/routeTableAssociation:RouteTableAssociation", "prod-private-eu-west-1a-rta", {"subnetId": "subnet-priv", "routeTableId": "rtb-2"}, links={"subnetId": ["prod-private-eu-west-1a"], "routeTableId": ["prod-private-rt-eu-west-1a"]})
    b.add("aws:ec2/vpcEndpoint:VpcEndpoint", "prod-endpoint-s3", {"vpcId": "vpc-1", "serviceName": f"com.amazonaws.{REGION}.s3", "vpcEndpointType": "Gateway"}, links={"vpcId": ["prod-vpc"]})
    b.add("aws:ec2/vpcEndpoint:VpcEndpoint", "prod-endpoint-ecr-api", {"vpcId": "vpc-1", "serviceName": f"com.amazonaws.{REGION}.ecr.api", "vpcEndpointType": "Interface", "privateDnsEnabled": True}, links={"vpcId": ["prod-vpc"]})
    # registry
    b.add("aws:ecr/repository:Repository", "prod-api-repository", {"name": "prod/api", "imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}, "encryptionConfigurations": [{"encryptionType": "KMS"}]})
    b.add("aws:ecr/lifecyclePolicy:LifecyclePolicy", "prod-api-lifecycle", {"repository": "prod/api", "policy": LIFECYCLE}, links={"repository": ["prod-api-repository"]})
    b.add("aws:ecr/repositoryPolicy:RepositoryPolicy", "prod-api-repository-policy", {"repository": "prod/api", "policy": json_doc([{"Sid": "AccountPull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": ["ecr:BatchGetImage"]}])}, links={"repository": ["prod-api-repository"]})
    # a bucket: public access blocked, TLS only
    b.add("aws:s3/bucketV2:BucketV2", "prod-assets", {"bucket": "acme-prod-assets"})
    b.add("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "prod-assets-block", {"bucket": "acme-prod-assets", "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}, links={"bucket": ["prod-assets"]})
    b.add("aws:s3/bucketPolicy:BucketPolicy", "prod-assets-policy", {"bucket": "acme-prod-assets", "policy": json_doc([
        {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::acme-prod-assets", "arn:aws:s3:::acme-prod-assets/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "ApiReads", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/prod-api-task"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-prod-assets/*"},
    ])}, links={"bucket": ["prod-assets"]})
    # cluster and EC2 capacity
    b.add("aws:kms/key:Key", "prod-exec-key", {"enableKeyRotation": True})
    b.add("aws:cloudwatch/logGroup:LogGroup", "prod-exec-logs", {"name": "/ecs/prod/exec", "retentionInDays": 90, "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1"})
    b.add("aws:ecs/cluster:Cluster", "prod-cluster", {"name": "prod", "settings": [{"name": "containerInsights", "value": "enhanced"}], "configuration": {"executeCommandConfiguration": {"kmsKeyId": "key-1", "logging": "OVERRIDE", "logConfiguration": {"cloudWatchLogGroupName": "/ecs/prod/exec", "cloudWatchEncryptionEnabled": True}}}})
    b.add("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "prod-cluster-capacity", {"clusterName": "prod", "capacityProviders": ["FARGATE", "FARGATE_SPOT", "prod-general"], "defaultCapacityProviderStrategies": [{"capacityProvider": "FARGATE", "base": 1, "weight": 1}]}, links={"clusterName": ["prod-cluster"], "capacityProviders": ["prod-general"]})
    b.add("aws:ec2/launchTemplate:LaunchTemplate", "prod-general-lt", {"imageId": "ami-1", "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1}, "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeSize": 30, "volumeType": "gp3"}}], "networkInterfaces": [{"deviceIndex": 0, "associatePublicIpAddress": "false"}]})
    b.add("aws:autoscaling/group:Group", "prod-general-asg", {"minSize": 1, "maxSize": 10, "protectFromScaleIn": True, "mixedInstancesPolicy": {"instancesDistribution": {"onDemandBaseCapacity": 1, "onDemandPercentageAboveBaseCapacity": 25}}, "tags": [{"key": "env", "value": ENV, "propagateAtLaunch": True}, {"key": "team", "value": "platform", "propagateAtLaunch": True}]}, links={"mixedInstancesPolicy": ["prod-general-lt"]})
    b.add("aws:iam/role:Role", "prod-general-instance-role", {"assumeRolePolicy": json_doc([{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}])})
    for suffix, policy in (("ecs-agent", "service-role/AmazonEC2ContainerServiceforEC2Role"), ("ssm-core", "AmazonSSMManagedInstanceCore")):
        b.add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"prod-general-{suffix}", {"role": "prod-general-instance-role", "policyArn": f"arn:aws:iam::aws:policy/{policy}"}, links={"role": ["prod-general-instance-role"]})
    b.add("aws:ecs/capacityProvider:CapacityProvider", "prod-general", {"name": "prod-general", "autoScalingGroupProvider": {"autoScalingGroupArn": "arn:asg", "managedScaling": {"status": "ENABLED", "targetCapacity": 90}, "managedTerminationProtection": "ENABLED"}}, links={"autoScalingGroupProvider": ["prod-general-asg"]})
    # load balancer
    b.add("aws:ec2/securityGroup:SecurityGroup", "prod-alb-sg", {"vpcId": "vpc-1", "description": "the shared ALB", "ingress": [
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"], "description": "HTTPS from the internet"},
        {"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"], "description": "HTTP, redirected to HTTPS"},
    ], "egress": [{"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": ["10.30.0.0/16"], "description": "to the services"}]}, links={"vpcId": ["prod-vpc"]})
    b.add("aws:lb/loadBalancer:LoadBalancer", "prod-alb", {"internal": False, "loadBalancerType": "application", "dropInvalidHeaderFields": True, "enableDeletionProtection": True, "accessLogs": {"bucket": "acme-prod-alb-logs", "enabled": True}, "securityGroups": ["sg-alb"], "subnets": ["subnet-pub"]}, links={"securityGroups": ["prod-alb-sg"], "subnets": ["prod-public-eu-west-1a"]})
    b.add("aws:lb/listener:Listener", "prod-alb-https", {"loadBalancerArn": "arn:alb", "protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/1", "defaultActions": [{"type": "fixed-response", "fixedResponse": {"contentType": "text/plain", "statusCode": "404"}}]}, links={"loadBalancerArn": ["prod-alb"]})
    b.add("aws:lb/listener:Listener", "prod-alb-http", {"loadBalancerArn": "arn:alb", "protocol": "HTTP", "port": 80, "defaultActions": [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]}, links={"loadBalancerArn": ["prod-alb"]})
    # the api service
    b.add("ecsplatform:service:Service", "prod-api", {}, custom=False)
    b.add("aws:cloudwatch/logGroup:LogGroup", "prod-api-logs", {"name": "/ecs/prod/api", "retentionInDays": 90, "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1"}, parent="prod-api")
    b.add("aws:iam/role:Role", "prod-api-exec-role", {"assumeRolePolicy": trust(), "inlinePolicies": [{"name": "execution", "policy": json_doc([
        {"Sid": "Pull", "Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"], "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/prod/api"},
        {"Sid": "Token", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/prod/api:*"},
        {"Sid": "Secrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": SECRET},
        {"Sid": "Parameters", "Effect": "Allow", "Action": "ssm:GetParameters", "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{PARAMETER}"},
    ])}]}, parent="prod-api")
    b.add("aws:iam/role:Role", "prod-api-task-role", {"assumeRolePolicy": trust(), "inlinePolicies": [{"name": "task", "policy": json_doc([
        {"Sid": "Config", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::acme-config/*"},
        {"Sid": "Exec", "Effect": "Allow", "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"], "Resource": "*"},
    ])}]}, parent="prod-api")
    b.add("aws:ecs/taskDefinition:TaskDefinition", "prod-api-task", {"family": "prod-api", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
          "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/prod-api-exec", "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/prod-api-task",
          "containerDefinitions": json.dumps(CONTAINERS)}, links={"executionRoleArn": ["prod-api-exec-role"], "taskRoleArn": ["prod-api-task-role"]}, parent="prod-api")
    b.add("aws:ec2/securityGroup:SecurityGroup", "prod-api-sg", {"vpcId": "vpc-1", "description": "api tasks", "egress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"], "description": "HTTPS to AWS APIs"}]}, links={"vpcId": ["prod-vpc"]}, parent="prod-api")
    b.add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "prod-api-sg-from-alb", {"securityGroupId": "sg-api", "referencedSecurityGroupId": "sg-alb", "ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "description": "ALB to api on 8080"}, links={"securityGroupId": ["prod-api-sg"], "referencedSecurityGroupId": ["prod-alb-sg"]}, parent="prod-api")
    b.add("aws:lb/targetGroup:TargetGroup", "prod-api-tg", {"port": 8080, "protocol": "HTTP", "targetType": "ip", "vpcId": "vpc-1", "healthCheck": {"enabled": True, "path": "/health", "matcher": "200-399"}}, links={"vpcId": ["prod-vpc"]}, parent="prod-api")
    b.add("aws:lb/listenerRule:ListenerRule", "prod-api-rule", {"listenerArn": "arn:https", "priority": 10, "actions": [{"type": "forward", "targetGroupArn": "arn:tg"}], "conditions": [{"pathPattern": {"values": ["/api/*"]}}]}, links={"listenerArn": ["prod-alb-https"], "actions": ["prod-api-tg"]}, parent="prod-api")
    b.add("aws:ecs/service:Service", "prod-api-service", {"name": "api", "cluster": "arn:cluster", "taskDefinition": "arn:task", "desiredCount": 3, "enableExecuteCommand": True,
          "networkConfiguration": {"assignPublicIp": False, "subnets": ["subnet-priv"], "securityGroups": ["sg-api"]},
          "deploymentCircuitBreaker": {"enable": True, "rollback": True}, "deploymentMinimumHealthyPercent": 100, "deploymentMaximumPercent": 200,
          "capacityProviderStrategies": [{"capacityProvider": "FARGATE", "base": 2, "weight": 1}, {"capacityProvider": "FARGATE_SPOT", "weight": 1}],
          "loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "api", "containerPort": 8080}], "healthCheckGracePeriodSeconds": 60},
          links={"cluster": ["prod-cluster"], "taskDefinition": ["prod-api-task"], "networkConfiguration": ["prod-api-sg", "prod-private-eu-west-1a"], "loadBalancers": ["prod-api-tg"]}, parent="prod-api")
    # the api service's production-tier alarms, notifying the environment's topic
    b.add("aws:sns/topic:Topic", "prod-alarms", {"name": "prod-alarms", "kmsMasterKeyId": "arn:aws:kms:eu-west-1:123456789012:key/2"})
    for name, queries, links in (
        ("prod-api-alarms-http-5xx-percent", [
            {"id": "errors0", "metric": {"namespace": "AWS/ApplicationELB", "metricName": "HTTPCode_Target_5XX_Count", "stat": "Sum", "period": 60, "dimensions": {"LoadBalancer": "app/prod-alb/1", "TargetGroup": "targetgroup/prod-api/1"}}},
            {"id": "requests0", "metric": {"namespace": "AWS/ApplicationELB", "metricName": "RequestCount", "stat": "Sum", "period": 60, "dimensions": {"LoadBalancer": "app/prod-alb/1", "TargetGroup": "targetgroup/prod-api/1"}}},
            {"id": "result", "expression": "IF(requests0 > 0, 100 * errors0 / requests0, 0)", "returnData": True},
        ], ["prod-alb", "prod-api-tg"]),
        ("prod-api-alarms-running-below-desired", [
            {"id": "running", "metric": {"namespace": "ECS/ContainerInsights", "metricName": "RunningTaskCount", "stat": "Average", "period": 60, "dimensions": {"ClusterName": "prod", "ServiceName": "api"}}},
            {"id": "desired", "metric": {"namespace": "ECS/ContainerInsights", "metricName": "DesiredTaskCount", "stat": "Average", "period": 60, "dimensions": {"ClusterName": "prod", "ServiceName": "api"}}},
            {"id": "result", "expression": "desired - running", "returnData": True},
        ], ["prod-cluster"]),
    ):
        b.add("aws:cloudwatch/metricAlarm:MetricAlarm", name, {"name": name.replace("-alarms", ""), "comparisonOperator": "GreaterThanThreshold", "threshold": 5,
              "evaluationPeriods": 5, "metricQueries": queries, "alarmActions": ["arn:topic"], "okActions": ["arn:topic"]},
              links={"metricQueries": links, "alarmActions": ["prod-alarms"], "okActions": ["prod-alarms"]})
    return b.resources


def to_resources(stack: dict[str, dict[str, Any]]) -> list[Resource]:
    """Resources with URNs, parents and property dependencies as the engine sends them."""
    def urn_of(name: str) -> str:
        return urn(stack[name]["type"], name) if name in stack else urn("removed", name)

    result = []
    for name, r in stack.items():
        prop_deps = {prop: [urn_of(target) for target in targets] for prop, targets in r["links"].items()}
        result.append(Resource(
            type=r["type"], name=name, props=r["props"], urn=urn_of(name),
            parent=urn_of(r["parent"]) if r["parent"] else "",
            dependencies=sorted({u for urns in prop_deps.values() for u in urns}),
            property_dependencies=prop_deps, custom=r["custom"],
        ))
    return result


# ---- edits: each changes one thing ---------------------------------------------------------

Edit = Callable[[dict], None]


def set_(name: str, path: str, value: Any) -> Edit:
    """Sets props[a][b]... = value; path 'a.b' (list indices as numbers)."""
    def edit(stack: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = stack[name]["props"]
        for key in parents:
            target = target[key]
        target[last] = value
    return edit


def drop(name: str, path: str) -> Edit:
    def edit(stack: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = stack[name]["props"]
        for key in parents:
            target = target[key]
        del target[last]
    return edit


def remove(name: str) -> Edit:
    return lambda stack: stack.pop(name)


def container(key: str, value: Any, name: str = "prod-api-task") -> Edit:
    """Edits the first container of a task definition (containerDefinitions is a JSON string)."""
    def edit(stack: dict) -> None:
        containers = json.loads(stack[name]["props"]["containerDefinitions"])
        if value is None:
            containers[0].pop(key, None)
        else:
            containers[0][key] = value
        stack[name]["props"]["containerDefinitions"] = json.dumps(containers)
    return edit


def statement(role: str, index: int, **changes: Any) -> Edit:
    """Edits one statement of a role's first inline policy."""
    def edit(stack: dict) -> None:
        policy = stack[role]["props"]["inlinePolicies"][0]
        doc = json.loads(policy["policy"])
        doc["Statement"][index].update(changes)
        policy["policy"] = json.dumps(doc)
    return edit


def add(type_: str, name: str, props: dict, links: dict | None = None, parent: str = "") -> Edit:
    def edit(stack: dict) -> None:
        builder = Builder()
        builder.add(type_, name, props, links=links or {}, parent=parent)
        stack.update(builder.resources)
    return edit


def edited(*edits: Edit) -> list[Resource]:
    stack = copy.deepcopy(compliant_stack())
    for edit in edits:
        edit(stack)
    return to_resources(stack)


def all_mandatory(environment: str = ENV, production: bool = True, **per_policy: dict) -> dict[str, dict]:
    """A pack config with every policy mandatory, for the given environment."""
    keys = {"service": ["api", "api-admin", "reports"], "repository": ["api"], "provider": ["general"]}
    return {
        name: {"enforcementLevel": "mandatory", "environment": environment, "production": production, "componentKeys": keys, **per_policy.get(name, {})}
        for name in RULES_BY_NAME
    }
