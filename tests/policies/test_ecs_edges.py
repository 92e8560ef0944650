"""Edges of the ECS service and cluster rules (policies/ecs_service.py, policies/ecs_cluster.py)
through the pack: each case changes one thing of the compliant stack and names every violation
whole (policy, resource and the entire message); the accepted edges pin down the defaults and
the deployment kinds a rule leaves alone."""

from __future__ import annotations

import pytest

from .stack import add, all_mandatory, drop, edited, remove, set_
from .verdicts import expected, violations

SERVICE, CLUSTER, PROVIDER, ASG = "prod-api-service", "prod-cluster", "prod-general", "prod-general-asg"
EXEC = "configuration.executeCommandConfiguration"
PUBLIC_IP, BREAKER, HEALTHY = "aws-ecs-service-no-public-ip", "aws-ecs-service-circuit-breaker", "aws-ecs-service-min-healthy-percent"
MAX, ON_DEMAND, GRACE = "aws-ecs-service-deployment-max-percent", "aws-ecs-service-on-demand-share", "aws-ecs-service-health-check-grace-period"
INSIGHTS, AUDITED = "aws-ecs-cluster-container-insights", "aws-ecs-cluster-exec-audited"
DEFAULT_STRATEGY, SCALING = "aws-ecs-cluster-default-capacity-strategy", "aws-ecs-capacity-provider-managed-scaling"
CONNECT = "aws-ecs-service-connect-logs"
NO_BREAKER = "the deployment circuit breaker with rollback is off, so a failing rollout retries forever"


def stuck(maximum, minimum):
    return (MAX, SERVICE, f"deploymentMaximumPercent is {maximum} with deploymentMinimumHealthyPercent {minimum}: "
                          "at one task ECS can neither start a new task first nor stop the old one, so the rollout never progresses")


def strategy(*entries):
    return set_(SERVICE, "capacityProviderStrategies", list(entries))


def distribution(**values):
    return set_(ASG, "mixedInstancesPolicy.instancesDistribution", values)


ALL_SPOT = distribution(onDemandBaseCapacity=0, onDemandPercentageAboveBaseCapacity=0)
SPOT_DEFAULT = set_("prod-cluster-capacity", "defaultCapacityProviderStrategies", [{"capacityProvider": "FARGATE_SPOT", "weight": 1}])


# A second cluster whose default strategy is on demand: the api's own cluster's default decides.
BATCH_CLUSTER = [
    add("aws:ecs/cluster:Cluster", "prod-batch", {"name": "batch", "settings": [{"name": "containerInsights", "value": "enhanced"}]}),
    add("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "prod-batch-capacity", {
        "clusterName": "batch", "capacityProviders": ["FARGATE"], "defaultCapacityProviderStrategies": [{"capacityProvider": "FARGATE", "base": 1, "weight": 1}]},
        {"clusterName": ["prod-batch"]}),
]
# Another EC2 capacity provider, listed before prod-general.
GPU_PROVIDER = add("aws:ecs/capacityProvider:CapacityProvider", "prod-a-gpu", {"name": "prod-a-gpu", "autoScalingGroupProvider": {
    "autoScalingGroupArn": "arn:asg-gpu", "managedScaling": {"status": "ENABLED"}, "managedTerminationProtection": "ENABLED"}})


def worker():
    """A second service of the cluster with ECS Exec on, compliant otherwise (no load balancer)."""
    base = {"name": "worker", "cluster": "arn:cluster", "taskDefinition": "arn:task", "enableExecuteCommand": True,
            "networkConfiguration": {"assignPublicIp": False, "subnets": ["subnet-priv"]}, "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "capacityProviderStrategies": [{"capacityProvider": "FARGATE", "base": 1, "weight": 1}]}
    return add("aws:ecs/service:Service", "prod-worker-service", base, {"cluster": [CLUSTER], "networkConfiguration": ["prod-private-eu-west-1a"]})


def connect(**configuration):
    """Service Connect on the api service: enabled, with `configuration`."""
    return set_(SERVICE, "serviceConnectConfiguration", {"enabled": True, "namespace": "arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-1",
                                                          **configuration})


def case(id_, edits, *found):
    return pytest.param(edits, found, id=id_)


CASES = [
    # ---- services
    case("public-ip", [set_(SERVICE, "networkConfiguration.assignPublicIp", True)],
         (PUBLIC_IP, SERVICE, "assignPublicIp is true: every task gets an internet-reachable address")),
    case("task-set-public-ip", [add("aws:ecs/taskSet:TaskSet", "prod-api-tasks", {"service": "api", "cluster": "prod", "taskDefinition": "arn:task",
                                                                                  "networkConfiguration": {"assignPublicIp": True, "subnets": ["subnet-priv"]}},
                                    {"networkConfiguration": ["prod-private-eu-west-1a"]})],
         (PUBLIC_IP, "prod-api-tasks", "assignPublicIp is true: every task gets an internet-reachable address")),
    case("breaker-without-rollback", [set_(SERVICE, "deploymentCircuitBreaker.rollback", False)], (BREAKER, SERVICE, NO_BREAKER)),
    case("breaker-rollback-only", [drop(SERVICE, "deploymentCircuitBreaker.enable")], (BREAKER, SERVICE, NO_BREAKER)),
    case("breaker-off-under-an-explicit-rolling-ecs-controller", [set_(SERVICE, "deploymentController", {"type": "ECS"}),
                                                                  set_(SERVICE, "deploymentConfiguration", {"strategy": "ROLLING"}),
                                                                  drop(SERVICE, "deploymentCircuitBreaker")], (BREAKER, SERVICE, NO_BREAKER)),
    case("exposed-healthy-99", [set_(SERVICE, "deploymentMinimumHealthyPercent", 99)],
         (HEALTHY, SERVICE, "deploymentMinimumHealthyPercent is 99, below 100 for a service behind the load balancer: a rollout drops serving tasks")),
    case("unexposed-healthy-49", [drop(SERVICE, "loadBalancers"), set_(SERVICE, "deploymentMinimumHealthyPercent", 49)],
         (HEALTHY, SERVICE, "deploymentMinimumHealthyPercent is 49, below 50 for a service without a load balancer: a rollout drops serving tasks")),
    case("healthy-0-under-code-deploy", [set_(SERVICE, "deploymentController", {"type": "CODE_DEPLOY"}), set_(SERVICE, "deploymentMinimumHealthyPercent", 0)],
         (HEALTHY, SERVICE, "deploymentMinimumHealthyPercent is 0, below 100 for a service behind the load balancer: a rollout drops serving tasks")),
    case("max-199", [set_(SERVICE, "deploymentMaximumPercent", 199)], stuck(199, 100)),
    case("max-150-min-1", [set_(SERVICE, "deploymentMaximumPercent", 150), set_(SERVICE, "deploymentMinimumHealthyPercent", 1)],
         stuck(150, 1), (HEALTHY, SERVICE, "deploymentMinimumHealthyPercent is 1, below 100 for a service behind the load balancer: a rollout drops serving tasks")),
    case("max-150-explicit-replica", [set_(SERVICE, "schedulingStrategy", "REPLICA"), set_(SERVICE, "deploymentMaximumPercent", 150)], stuck(150, 100)),
    case("fargate-weight-0-beside-spot-ec2", [strategy({"capacityProvider": "FARGATE", "weight": 0}, {"capacityProvider": PROVIDER, "weight": 1}), ALL_SPOT],
         (ON_DEMAND, SERVICE, "the capacity strategy (FARGATE, prod-general) has no on-demand share")),
    case("unknown-ec2-provider", [strategy({"capacityProvider": "prod-other", "weight": 1})],
         (ON_DEMAND, SERVICE, "the capacity strategy (prod-other) has no on-demand share")),
    # The default strategy of the service's cluster, linked by its name only (beside another cluster's),
    # or of the one ClusterCapacityProviders when it names a cluster the stack cannot link (the cluster rule then fails too).
    case("default-strategy-of-a-cluster-named-by-value", [drop(SERVICE, "capacityProviderStrategies"), SPOT_DEFAULT, set_(SERVICE, "cluster", "prod"),
                                                          lambda s: s[SERVICE]["links"].pop("cluster"), *BATCH_CLUSTER],
         (ON_DEMAND, SERVICE, "the capacity strategy (FARGATE_SPOT) has no on-demand share")),
    case("default-strategy-of-the-only-settings", [drop(SERVICE, "capacityProviderStrategies"), SPOT_DEFAULT, set_("prod-cluster-capacity", "clusterName", "shared"),
                                                   lambda s: s["prod-cluster-capacity"]["links"].pop("clusterName")],
         (ON_DEMAND, SERVICE, "the capacity strategy (FARGATE_SPOT) has no on-demand share"),
         (DEFAULT_STRATEGY, CLUSTER, "has no default capacity provider strategy, so services without one fall back to launch types")),
    case("default-strategy-of-its-own-cluster-beside-another", [drop(SERVICE, "capacityProviderStrategies"), SPOT_DEFAULT, *BATCH_CLUSTER],
         (ON_DEMAND, SERVICE, "the capacity strategy (FARGATE_SPOT) has no on-demand share")),
    case("grace-0", [set_(SERVICE, "healthCheckGracePeriodSeconds", 0)],
         (GRACE, SERVICE, "healthCheckGracePeriodSeconds is unset: the ALB can kill tasks that are still starting")),
    # ---- the Service Connect proxy's logs
    case("connect-log-configuration-not-an-object", [connect(enabled="true", logConfiguration="awslogs")],
         (CONNECT, SERVICE, "Service Connect is enabled without a logConfiguration: its proxy's logs are kept nowhere")),
    case("connect-no-driver", [connect(logConfiguration={"options": {"awslogs-group": "/ecs/prod/api"}})],
         (CONNECT, SERVICE, "the Service Connect proxy logs with None, not awslogs to the service's log group")),
    case("connect-no-options", [connect(logConfiguration={"logDriver": "awslogs"})],
         (CONNECT, SERVICE, "the Service Connect proxy's awslogs configuration names no awslogs-group")),
    # ---- cluster
    case("insights-enabled-later", [set_(CLUSTER, "settings", [{"name": "other", "value": "enabled"}, {"name": "containerInsights", "value": "disabled"}])],
         (INSIGHTS, CLUSTER, "containerInsights is disabled")),
    case("insights-unset", [set_(CLUSTER, "settings", [{"name": "other", "value": "enabled"}])], (INSIGHTS, CLUSTER, "containerInsights is unset (disabled)")),
    case("exec-unconfigured", [set_(CLUSTER, EXEC, {})],
         (AUDITED, CLUSTER, "ECS Exec is on for prod-api-service but sessions are not encrypted with a KMS key"),
         (AUDITED, CLUSTER, "ECS Exec is on for prod-api-service but session logging is DEFAULT, not OVERRIDE")),
    case("exec-configuration-absent", [drop(CLUSTER, EXEC)],
         (AUDITED, CLUSTER, "ECS Exec is on for prod-api-service but sessions are not encrypted with a KMS key"),
         (AUDITED, CLUSTER, "ECS Exec is on for prod-api-service but session logging is DEFAULT, not OVERRIDE")),
    case("exec-logging-none-two-services", [worker(), set_(CLUSTER, f"{EXEC}.logging", "NONE")],
         (AUDITED, CLUSTER, "ECS Exec is on for prod-api-service, prod-worker-service but session logging is NONE, not OVERRIDE")),
    case("exec-log-group-unnamed", [drop(CLUSTER, f"{EXEC}.logConfiguration.cloudWatchLogGroupName")],
         (AUDITED, CLUSTER, "ECS Exec is on for prod-api-service but session logs go to no encrypted log group or bucket")),
    case("exec-bucket-unencrypted", [set_(CLUSTER, f"{EXEC}.logConfiguration", {"s3BucketName": "acme-exec", "s3EncryptionEnabled": False})],
         (AUDITED, CLUSTER, "ECS Exec is on for prod-api-service but session logs go to no encrypted log group or bucket")),
    case("exec-bucket-unnamed", [set_(CLUSTER, f"{EXEC}.logConfiguration", {"s3EncryptionEnabled": True})],
         (AUDITED, CLUSTER, "ECS Exec is on for prod-api-service but session logs go to no encrypted log group or bucket")),
    case("exec-no-log-configuration", [drop(CLUSTER, f"{EXEC}.logConfiguration")],
         (AUDITED, CLUSTER, "ECS Exec is on for prod-api-service but session logs go to no encrypted log group or bucket")),
    case("no-default-strategy", [remove("prod-cluster-capacity"), drop(SERVICE, "capacityProviderStrategies")],
         (DEFAULT_STRATEGY, CLUSTER, "has no default capacity provider strategy, so services without one fall back to launch types")),
    case("provider-without-group-settings", [drop(PROVIDER, "autoScalingGroupProvider")],
         (SCALING, PROVIDER, "managed scaling is off: the group does not grow with pending tasks"), (SCALING, PROVIDER, "managed termination protection is off")),
    case("provider-unmanaged", [set_(PROVIDER, "autoScalingGroupProvider", {"autoScalingGroupArn": "arn:asg"})],
         (SCALING, PROVIDER, "managed scaling is off: the group does not grow with pending tasks"), (SCALING, PROVIDER, "managed termination protection is off")),
]


@pytest.mark.parametrize("edits, found", CASES)
def test_each_edge_fails_with_exactly_these_violations(pack, edits, found):
    assert violations(pack.verdict(edited(*edits))) == expected(*found)


@pytest.mark.parametrize("edits", [
    pytest.param([set_(SERVICE, "deploymentController", {"type": "CODE_DEPLOY"}), drop(SERVICE, "deploymentCircuitBreaker")], id="code-deploy-has-no-breaker"),
    pytest.param([set_(SERVICE, "deploymentConfiguration", {"strategy": "BLUE_GREEN"}), drop(SERVICE, "deploymentCircuitBreaker"),
                  set_(SERVICE, "deploymentMaximumPercent", 100)], id="native-blue-green"),
    pytest.param([set_(SERVICE, "deploymentConfiguration", {"strategy": "CANARY"}), set_(SERVICE, "deploymentMaximumPercent", 100)], id="native-canary"),
    pytest.param([set_(SERVICE, "schedulingStrategy", "DAEMON"), set_(SERVICE, "deploymentMinimumHealthyPercent", 0)], id="daemon-min-0"),
    pytest.param([drop(SERVICE, "deploymentMinimumHealthyPercent")], id="min-default-100"),
    pytest.param([drop(SERVICE, "deploymentMaximumPercent")], id="max-default-200"),
    pytest.param([set_(SERVICE, "deploymentMaximumPercent", 200), set_(SERVICE, "deploymentMinimumHealthyPercent", 100)], id="max-200"),
    pytest.param([drop(SERVICE, "capacityProviderStrategies"), set_(SERVICE, "launchType", "EC2"),
                  set_("prod-cluster-capacity", "defaultCapacityProviderStrategies", [{"capacityProvider": "FARGATE_SPOT", "weight": 1}])], id="ec2-launch-type"),
    pytest.param([drop(SERVICE, "capacityProviderStrategies"), set_(SERVICE, "launchType", "FARGATE"),
                  set_("prod-cluster-capacity", "defaultCapacityProviderStrategies", [{"capacityProvider": "FARGATE_SPOT", "weight": 1}])], id="fargate-launch-type"),
    pytest.param([drop(SERVICE, "capacityProviderStrategies")], id="cluster-default-fargate-base"),
    pytest.param([strategy({"capacityProvider": "FARGATE", "weight": 1})], id="fargate-alone-without-base"),
    pytest.param([strategy({"capacityProvider": "FARGATE"})], id="fargate-alone-default-weight"),
    pytest.param([strategy({"capacityProvider": "FARGATE_SPOT", "weight": 1}, {"capacityProvider": PROVIDER, "weight": 1}), ALL_SPOT,
                  distribution(onDemandBaseCapacity=1, onDemandPercentageAboveBaseCapacity=0)], id="ec2-base-beside-spot"),
    pytest.param([strategy({"capacityProvider": PROVIDER, "weight": 1}), distribution(onDemandBaseCapacity=0)], id="ec2-percent-default-100"),
    pytest.param([strategy({"capacityProvider": PROVIDER, "weight": 1}), drop(ASG, "mixedInstancesPolicy")], id="ec2-without-mixed-instances"),
    pytest.param([strategy({"capacityProvider": PROVIDER, "weight": 1}), drop(PROVIDER, "name")], id="ec2-provider-named-by-its-resource"),
    pytest.param([strategy({"capacityProvider": "general-cp", "weight": 1}), set_(PROVIDER, "name", "general-cp")], id="ec2-provider-named-apart-from-its-resource"),
    pytest.param([strategy({"capacityProvider": PROVIDER, "weight": 1}), GPU_PROVIDER], id="ec2-provider-after-another"),
    pytest.param([drop(SERVICE, "loadBalancers"), drop(SERVICE, "healthCheckGracePeriodSeconds")], id="no-grace-without-load-balancer"),
    pytest.param([set_(CLUSTER, "settings.0.value", "enabled")], id="insights-enabled"),
    pytest.param([set_(CLUSTER, f"{EXEC}.logConfiguration", {"s3BucketName": "acme-exec", "s3EncryptionEnabled": True})], id="exec-logs-to-an-encrypted-bucket"),
    pytest.param([set_(CLUSTER, f"{EXEC}.logConfiguration", {"cloudWatchLogGroupName": "/ecs/prod/exec", "cloudWatchEncryptionEnabled": False,
                                                              "s3BucketName": "acme-exec", "s3EncryptionEnabled": True})], id="exec-logs-to-a-bucket-beside-a-plain-group"),
    pytest.param([set_(SERVICE, "enableExecuteCommand", False), set_(CLUSTER, EXEC, {})], id="exec-off-needs-no-audit"),
    pytest.param([connect(enabled=False)], id="connect-disabled-needs-no-logs"),
    pytest.param([set_(SERVICE, "serviceConnectConfiguration", "on")], id="connect-configuration-not-an-object"),
    pytest.param([connect(logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/prod/api"}})], id="connect-logs-to-a-group"),
])
def test_edges_these_rules_accept(pack, edits):
    assert violations(pack.verdict(edited(*edits))) == []


def test_the_exposed_minimum_is_configurable(pack):
    config = all_mandatory(**{HEALTHY: {"minHealthyPercent": 50, "unexposedMinHealthyPercent": 0}})
    assert violations(pack.verdict(edited(set_(SERVICE, "deploymentMinimumHealthyPercent", 50)), config)) == []
    unexposed = edited(drop(SERVICE, "loadBalancers"), set_(SERVICE, "deploymentMinimumHealthyPercent", 0), set_(SERVICE, "deploymentMaximumPercent", 100))
    assert violations(pack.verdict(unexposed, config)) == []


def test_a_launch_type_service_with_no_strategy_anywhere_is_left_to_the_cluster_rule(pack):
    """No strategy on the service or the cluster: the cluster rule reports it, not the service rule."""
    verdict = pack.verdict(edited(drop(SERVICE, "capacityProviderStrategies"), set_("prod-cluster-capacity", "defaultCapacityProviderStrategies", [])))
    assert violations(verdict) == expected((DEFAULT_STRATEGY, CLUSTER, "has no default capacity provider strategy, so services without one fall back to launch types"))
