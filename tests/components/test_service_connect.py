"""Service Connect (`cluster.service_connect`): the namespace, the servers and clients exactly,
the request shapes AWS would receive (botocore), the blast radius of turning it on, the port
names CI's revisions keep, the security groups it must not touch, and the diagram."""

from __future__ import annotations

import json

import pytest

from components.task import port_name
from tests.components.plan_diff import added_names, changed_resources
from tests.components.test_service import ECS_MODEL, create_service_request, register_task_definition_request, reports_as_a_service, validate
from tests.harness import edited, plan_of, reference_plan


def prod_with_a_portless_service():
    """prod's nightly report job as the port-less service it once was (tests/components/test_service.py)."""
    return plan_of(edited("prod", reports_as_a_service))


def reports_calls_worker(data: dict) -> None:
    reports_as_a_service(data)
    data["services"]["reports"]["connects_to"] = [{"service": "worker", "port": 9000}]

NAMESPACE_TYPE = "aws:servicediscovery/httpNamespace:HttpNamespace"
ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
RULE_TYPES = ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")


def with_service_connect(namespace: str = "staging.internal"):
    def edit(data: dict) -> None:
        data.setdefault("cluster", {})["service_connect"] = {"namespace": namespace}

    return edit


def without_service_connect(data: dict) -> None:
    data["cluster"].pop("service_connect", None)


def containers(plan, name: str) -> list[dict]:
    return json.loads(plan.named(name).props["containerDefinitions"])


def namespace_arn(plan) -> str:
    [namespace] = plan.of_type(NAMESPACE_TYPE)
    return f"arn:aws:servicediscovery:eu-west-1:123456789012:httpnamespace/{namespace.name}"  # the mocks' ARN


def expected_configuration(env: str, key: str, port: int | None, namespace: str) -> dict:
    configuration = {
        "enabled": True,
        "namespace": namespace,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": f"/ecs/{env}/{key}", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "service-connect"},
        },
    }
    if port is not None:
        configuration["services"] = [
            {"portName": f"{key}-{port}", "discoveryName": key, "clientAlias": [{"port": float(port), "dnsName": key}]}
        ]
    return configuration


# --------------------------------------------------------------------------------------------
# prod: the reference environment that uses it (api connects_to worker)
# --------------------------------------------------------------------------------------------


def test_prod_has_one_http_namespace_under_the_cluster_and_it_is_the_clusters_default():
    plan = reference_plan("prod")
    [namespace] = plan.of_type(NAMESPACE_TYPE)
    assert namespace.name == "prod-cluster-namespace"
    assert namespace.parent.endswith("ecsplatform:cluster:Cluster::prod-cluster")
    assert namespace.props == {
        "name": "prod.internal",
        "description": "Service Connect names of the prod environment",
        "tags": {"cost-center": "4712", "env": "prod", "team": "platform"},
    }
    cluster = plan.named("prod-cluster", "aws:ecs/cluster:Cluster")
    assert cluster.props["serviceConnectDefaults"] == {"namespace": namespace_arn(plan)}


def test_prod_servers_and_clients_exactly():
    """api (port 8080, connects_to worker) and worker (port 9000) are servers; reports has no
    port and connects to nothing, so it gets no proxy at all."""
    plan = reference_plan("prod")
    arn = namespace_arn(plan)
    assert plan.named("prod-api-service", ECS_SERVICE).props["serviceConnectConfiguration"] == expected_configuration("prod", "api", 8080, arn)
    assert plan.named("prod-worker-service", ECS_SERVICE).props["serviceConnectConfiguration"] == expected_configuration("prod", "worker", 9000, arn)
    # a service without a port that connects to nothing gets no proxy at all
    assert "serviceConnectConfiguration" not in prod_with_a_portless_service().named("prod-reports-service", ECS_SERVICE).props


def test_prod_servers_name_their_port_and_declare_http():
    plan = reference_plan("prod")
    assert containers(plan, "prod-api-task-definition")[0]["portMappings"] == [
        {"containerPort": 8080, "protocol": "tcp", "name": "api-8080", "appProtocol": "http"}
    ]
    assert containers(plan, "prod-worker-task-definition")[0]["portMappings"] == [
        {"containerPort": 9000, "protocol": "tcp", "name": "worker-9000", "appProtocol": "http"}
    ]
    assert containers(plan, "prod-reports-task-definition")[0]["portMappings"] == []


def test_a_client_without_a_port_joins_the_namespace_with_no_services():
    plan = plan_of(edited("prod", reports_calls_worker))
    assert plan.named("prod-reports-service", ECS_SERVICE).props["serviceConnectConfiguration"] == expected_configuration(
        "prod", "reports", None, namespace_arn(plan)
    )


# --------------------------------------------------------------------------------------------
# botocore: CreateService and RegisterTaskDefinition with the new fields
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["api", "worker", "reports"])
def test_prod_services_are_valid_create_service_requests(key):
    plan = prod_with_a_portless_service() if key == "reports" else reference_plan("prod")
    service = plan.named(f"prod-{key}-service", ECS_SERVICE)
    request = create_service_request(service)
    assert ("serviceConnectConfiguration" in request) == (key != "reports")
    validate("CreateService", request)


@pytest.mark.parametrize("key", ["api", "worker"])
def test_prod_server_task_definitions_are_valid_register_task_definition_requests(key):
    request = register_task_definition_request(reference_plan("prod").named(f"prod-{key}-task-definition"))
    validate("RegisterTaskDefinition", request)
    # botocore's validator checks types, not enums: the protocol is one ECS lists.
    [mapping] = request["containerDefinitions"][0]["portMappings"]
    assert mapping["appProtocol"] in ECS_MODEL.shape_for("ApplicationProtocol").enum


def test_the_shape_oracle_catches_a_wrong_service_connect_field():
    request = create_service_request(reference_plan("prod").named("prod-worker-service", ECS_SERVICE))
    request["serviceConnectConfiguration"]["services"][0]["clientAliases"][0]["port"] = "9000"
    with pytest.raises(AssertionError, match="clientAliases"):
        validate("CreateService", request)
    task = register_task_definition_request(reference_plan("prod").named("prod-worker-task-definition"))
    task["containerDefinitions"][0]["portMappings"][0]["appProtocol"] = 1  # botocore checks types, not enum values
    with pytest.raises(AssertionError, match="appProtocol"):
        validate("RegisterTaskDefinition", task)


# --------------------------------------------------------------------------------------------
# Blast radius and security groups
# --------------------------------------------------------------------------------------------


def test_turning_it_on_touches_the_cluster_and_the_servers_only():
    """staging: api and worker have ports. The namespace is added; the cluster gets its default;
    both task definitions name their protocol and both ECS services join. No security group
    rule, role, policy or other resource changes."""
    before = reference_plan("staging")
    after = plan_of(edited("staging", with_service_connect()))
    assert added_names(before, after) == ["staging-cluster-namespace"]
    changes = changed_resources(before, after)
    assert {name: sorted(props) for name, props in changes.items()} == {
        "staging-cluster": ["serviceConnectDefaults"],
        "staging-api-task-definition": ["containerDefinitions"],
        "staging-worker-task-definition": ["containerDefinitions"],
        "staging-api-service": ["serviceConnectConfiguration"],
        "staging-worker-service": ["serviceConnectConfiguration"],
    }


def test_a_new_client_changes_its_own_service_and_adds_only_its_two_rules():
    before = prod_with_a_portless_service()
    after = plan_of(edited("prod", reports_calls_worker))
    assert {name: sorted(props) for name, props in changed_resources(before, after).items()} == {
        "prod-reports-service": ["serviceConnectConfiguration"],
    }
    assert added_names(before, after) == ["prod-reports-to-worker-9000-egress", "prod-reports-to-worker-9000-ingress"]


def test_no_security_group_rule_differs_with_or_without_it():
    """The proxy listens on the container port that connects_to already opens: nothing else opens."""
    def rules(plan) -> list[tuple]:
        return sorted((r.type, r.name, json.dumps(r.props, sort_keys=True)) for t in RULE_TYPES for r in plan.of_type(t))

    on = reference_plan("prod")
    off = plan_of(edited("prod", without_service_connect))
    assert rules(on) == rules(off)
    assert not off.of_type(NAMESPACE_TYPE)
    assert all("serviceConnectConfiguration" not in s.props for s in off.of_type(ECS_SERVICE))


# --------------------------------------------------------------------------------------------
# deploys: ci: CI renders new revisions from the latest one, so the port name must not move
# --------------------------------------------------------------------------------------------


def test_the_port_name_is_the_same_in_every_revision():
    """prod deploys with CI (the ECS service ignores taskDefinition). The port name Service
    Connect refers to is already in the revisions registered before it was turned on, and stays
    the same when the image changes, so a revision CI renders from any of them keeps matching."""
    with_it = reference_plan("prod")
    without_it = plan_of(edited("prod", without_service_connect))

    def new_tag(data: dict) -> None:
        data["services"]["worker"]["image"]["tag"] = "v2.1.0"

    next_release = plan_of(edited("prod", new_tag))
    assert "taskDefinition" in with_it.named("prod-worker-service", ECS_SERVICE).ignore_changes
    referenced = with_it.named("prod-worker-service", ECS_SERVICE).props["serviceConnectConfiguration"]["services"][0]["portName"]
    for plan in (with_it, without_it, next_release):
        assert containers(plan, "prod-worker-task-definition")[0]["portMappings"][0]["name"] == referenced == "worker-9000"
    assert port_name("worker", 9000) == referenced


# --------------------------------------------------------------------------------------------
# The proxy's memory inside a task with sidecars
# --------------------------------------------------------------------------------------------


def test_with_sidecars_the_main_container_leaves_the_proxy_its_memory():
    """dev's api (512 CPU / 1024 MiB) has an otel sidecar (128 / 256). Without Service Connect
    the main container's hard limit is 768 MiB, all that is left; with it, 704: the task memory
    must exceed the containers' limits, and the proxy lives on the difference (64 MiB)."""
    before = containers(reference_plan("dev"), "dev-api-task-definition")[0]
    after = containers(plan_of(edited("dev", with_service_connect("dev.internal"))), "dev-api-task-definition")[0]
    assert (before["cpu"], before["memory"]) == (384, 768)
    assert (after["cpu"], after["memory"]) == (384, 704)


# --------------------------------------------------------------------------------------------
# The diagram
# --------------------------------------------------------------------------------------------


def test_the_diagram_names_servers_and_client_calls():
    from review.diagram import render_mermaid
    from tests.harness import reference_config

    lines = render_mermaid(reference_config("prod"), reference_plan("prod")).splitlines()
    assert '  svc_worker["worker<br/>worker:9000<br/>1 vCPU / 2 GB x 2<br/>autoscaling 2-10"]' in lines
    assert '  svc_api -.->|"http://worker:9000"| svc_worker' in lines
    assert '  svc_api -.->|"tcp 5432"| ext_10_130_0_0_24' in lines  # outside targets keep their port
    staging = render_mermaid(reference_config("staging"), reference_plan("staging")).splitlines()
    assert '  svc_api -.->|"tcp 9000"| svc_worker' in staging  # without Service Connect: the port only


# --------------------------------------------------------------------------------------------
# The cost estimate: Cloud Map is named, not priced (no rate with provenance in the table)
# --------------------------------------------------------------------------------------------


def test_the_estimate_names_cloud_map_as_not_priced_only_with_service_connect():
    from review.cost import estimate_cost
    from review.prices import load_prices
    from tests.harness import reference_config

    prices = load_prices("eu-west-1")
    prod = estimate_cost(reference_config("prod"), reference_plan("prod"), prices)
    note = [a for a in prod.assumptions if "Cloud Map" in a]
    assert note == [
        "not priced: Cloud Map's charge per registered instance for the Service Connect servers' tasks (api, worker) "
        "and its discovery calls, small per task but not yet in review/prices with its page and usage type"
    ]
    assert not any("Cloud Map" in line.item for line in prod.lines)
    staging = estimate_cost(reference_config("staging"), reference_plan("staging"), prices)
    assert not [a for a in staging.assumptions if "Cloud Map" in a]


def test_a_port_name_past_awss_64_characters_is_shortened_the_same_way_every_time():
    key = "a" * 60
    assert port_name("worker", 9000) == "worker-9000"  # within the limit: unchanged
    long = port_name(key, 65535)
    assert len(long) == 64 and long.startswith("a" * 56 + "-") and long == port_name(key, 65535)
    assert long != port_name(key, 65534)


def test_the_proxy_logs_where_the_execution_role_may_already_write():
    """The proxy's awslogs group is the main container's, so the execution role's grant on its
    own log group's streams covers the proxy's stream prefix; no new permission."""
    plan = reference_plan("prod")
    for key in ("api", "worker"):
        proxy = plan.named(f"prod-{key}-service", ECS_SERVICE).props["serviceConnectConfiguration"]["logConfiguration"]["options"]
        main = containers(plan, f"prod-{key}-task-definition")[0]["logConfiguration"]["options"]
        assert proxy["awslogs-group"] == main["awslogs-group"] == f"/ecs/prod/{key}"
        assert (proxy["awslogs-stream-prefix"], main["awslogs-stream-prefix"]) == ("service-connect", key)
