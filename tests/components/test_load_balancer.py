"""components/load_balancer.py, run alone under mocks with literal network ids."""

from __future__ import annotations

from typing import Any

import pytest

from components.load_balancer import LoadBalancer, LoadBalancerArgs, replaceable_name
from configs.model import EnvironmentConfig
from review.offline import Plan, run_program
from tests.harness import edited, reference_config

VPC = "vpc-0123456789abcdef0"
PUBLIC = {"eu-west-1b": "subnet-public-b", "eu-west-1a": "subnet-public-a"}
PRIVATE = {"eu-west-1b": "subnet-private-b", "eu-west-1a": "subnet-private-a"}
NOT_FOUND = {"type": "fixed-response", "fixedResponse": {"contentType": "text/plain", "messageBody": "Not Found", "statusCode": "404"}}
PROD_CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"

LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def lb_plan(config: EnvironmentConfig) -> tuple[Plan, dict[str, Any]]:
    def program(cfg: EnvironmentConfig) -> dict[str, Any]:
        lb = LoadBalancer(
            f"{cfg.environment}-alb",
            LoadBalancerArgs(
                load_balancer=cfg.load_balancer,
                environment=cfg.environment,
                vpc_id=VPC,
                public_subnet_ids=PUBLIC,
                private_subnet_ids=PRIVATE,
                routes=cfg.exposed_services,
                deletion_protection=cfg.load_balancer_deletion_protection,
                tags=cfg.all_tags,
                vpc_cidr=str(cfg.network.cidr),
            ),
        )
        return {
            "url": lb.url,
            "listener_arn": lb.listener_arn,
            "target_group_arns": lb.target_group_arns,
            "target_group_arn_suffixes": lb.target_group_arn_suffixes,
            "security_group_id": lb.security_group_id,
            "arn_suffix": lb.arn_suffix,
        }

    plan = run_program(config, program=program)
    return plan, plan.outputs


def rolling(data: dict) -> None:
    """prod's api as a rolling service: native deployments' extra groups and rules are in
    tests/components/test_deployment.py."""
    data["services"]["api"].pop("deployment", None)


def with_admin(data: dict) -> None:
    """A second exposed service routed by host and path, on its own port."""
    data["services"]["admin"] = {
        "image": {"repository": "api", "tag": "v1.4.2"},
        "cpu": 256,
        "memory": 512,
        "port": 8081,
        "user": "10001",
        "expose": {"paths": ["/admin/*"], "hosts": ["admin.example.com"], "priority": 20},
        "health_check": {"path": "/ready", "interval": 10, "timeout": 4, "healthy_threshold": 2, "unhealthy_threshold": 5, "matcher": "200"},
    }


def rules(plan: Plan, type_: str) -> set[tuple]:
    return {
        (r.props["fromPort"], r.props["toPort"], r.props["ipProtocol"], r.props["cidrIpv4"], r.props["description"])
        for r in plan.of_type(type_)
    }


# --------------------------------------------------------------------------------------------
# the load balancer
# --------------------------------------------------------------------------------------------


def test_children_of_an_http_only_environment():
    plan, _ = lb_plan(reference_config("dev"))
    component = plan.named("dev-alb", "ecsplatform:load_balancer:LoadBalancer")
    assert sorted((r.type, r.name) for r in plan.children_of(component)) == [
        ("aws:ec2/securityGroup:SecurityGroup", "dev-alb-sg"),
        (LISTENER, "dev-alb-http"),
        (RULE, "dev-alb-rule-api"),
        (LB, "dev-alb"),
        (TARGET_GROUP, "dev-alb-tg-api"),
        (EGRESS, "dev-alb-sg-out-8080"),
        (INGRESS, "dev-alb-sg-in-80-203-0-113-0-24"),
    ]


@pytest.mark.parametrize("environment, protected", [("dev", False), ("staging", False), ("prod", True)])
def test_load_balancer_settings_per_environment(environment, protected):
    plan, outputs = lb_plan(reference_config(environment))
    [lb] = plan.of_type(LB)
    props = lb.props
    assert props["loadBalancerType"] == "application"
    assert props["internal"] is False
    assert props["subnets"] == ["subnet-public-a", "subnet-public-b"]
    assert props["dropInvalidHeaderFields"] is True
    assert props["enableDeletionProtection"] is protected
    assert props["idleTimeout"] == 60
    assert props["securityGroups"] == [outputs["security_group_id"]]
    assert len(props["name"]) <= 32
    assert outputs["arn_suffix"].startswith("app/")


def test_deletion_protection_follows_the_file():
    # (the production tier refuses deletion_protection: false: tests/configs/test_governance.py)
    plan, _ = lb_plan(edited("staging", lambda d: d["load_balancer"].update(deletion_protection=False)))
    assert plan.of_type(LB)[0].props["enableDeletionProtection"] is False
    plan, _ = lb_plan(edited("dev", lambda d: d.update(protect=True)))
    assert plan.of_type(LB)[0].props["enableDeletionProtection"] is True


def test_access_logs_as_configured():
    prod, _ = lb_plan(reference_config("prod"))
    assert prod.of_type(LB)[0].props["accessLogs"] == {"bucket": "acme-prod-alb-logs", "prefix": "ecs-platform", "enabled": True}
    dev, _ = lb_plan(reference_config("dev"))
    assert "accessLogs" not in dev.of_type(LB)[0].props


def test_internal_uses_the_private_subnets_and_keeps_a_valid_name():
    plan, _ = lb_plan(edited("prod", lambda d: d["load_balancer"].update(internal=True)))
    [lb] = plan.of_type(LB)
    assert lb.props["internal"] is True
    assert lb.props["subnets"] == ["subnet-private-a", "subnet-private-b"]
    public, _ = lb_plan(reference_config("prod"))
    # The scheme forces a replacement, so it gets a new name: create-before-delete works.
    assert lb.props["name"] != public.of_type(LB)[0].props["name"]


def test_replaceable_names_fit_and_avoid_the_reserved_prefix():
    name = replaceable_name("internal-" + "x" * 60, 32, "HTTP", "ip", "8080")
    assert len(name) <= 32 and name.startswith("int-") and not name.endswith("-")
    assert name == replaceable_name("internal-" + "x" * 60, 32, "HTTP", "ip", "8080")


# --------------------------------------------------------------------------------------------
# listeners
# --------------------------------------------------------------------------------------------


def test_without_a_certificate_plain_http_routes_and_answers_404():
    plan, outputs = lb_plan(reference_config("dev"))
    [http] = plan.of_type(LISTENER)
    assert http.props == {
        "loadBalancerArn": "arn:aws:lb:eu-west-1:111111111111:loadbalancer/dev-alb",
        "port": 80,
        "protocol": "HTTP",
        "defaultActions": [NOT_FOUND],
        "tags": {"cost-center": "4711", "env": "dev", "team": "platform"},
    }
    assert outputs["listener_arn"] == "arn:aws:lb:eu-west-1:111111111111:listener/dev-alb-http"
    assert outputs["url"].startswith("http://dev-alb-")


def test_with_a_certificate_https_routes_and_http_redirects():
    plan, outputs = lb_plan(reference_config("prod"))
    listeners = {r.name: r.props for r in plan.of_type(LISTENER)}
    assert set(listeners) == {"prod-alb-http", "prod-alb-https"}
    http, https = listeners["prod-alb-http"], listeners["prod-alb-https"]
    assert (http["port"], http["protocol"]) == (80, "HTTP")
    assert http["defaultActions"] == [
        {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    ]
    assert (https["port"], https["protocol"]) == (443, "HTTPS")
    assert https["certificateArn"] == PROD_CERTIFICATE
    assert https["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["defaultActions"] == [NOT_FOUND]
    assert outputs["listener_arn"] == "arn:aws:lb:eu-west-1:123456789012:listener/prod-alb-https"
    assert outputs["url"].startswith("https://prod-alb-")
    assert {r.props["listenerArn"] for r in plan.of_type(RULE)} == {outputs["listener_arn"]}


# --------------------------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------------------------


def test_rules_route_paths_and_hosts_at_their_priority_to_their_target_group():
    plan, outputs = lb_plan(edited("prod", lambda d: (rolling(d), with_admin(d))))
    found = {r.name: r.props for r in plan.of_type(RULE)}
    assert found == {
        "prod-alb-rule-admin": {
            "listenerArn": outputs["listener_arn"],
            "priority": 20,
            "actions": [{"type": "forward", "targetGroupArn": outputs["target_group_arns"]["admin"]}],
            "conditions": [
                {"pathPattern": {"values": ["/admin/*"]}},
                {"hostHeader": {"values": ["admin.example.com"]}},
            ],
            "tags": {"cost-center": "4712", "env": "prod", "team": "platform", "service": "admin"},
        },
        "prod-alb-rule-api": {
            "listenerArn": outputs["listener_arn"],
            "priority": 10,
            "actions": [{"type": "forward", "targetGroupArn": outputs["target_group_arns"]["api"]}],
            "conditions": [{"pathPattern": {"values": ["/api/*"]}}],
            "tags": {"cost-center": "4712", "env": "prod", "team": "platform", "service": "api"},
        },
    }
    assert set(outputs["target_group_arn_suffixes"]) == {"admin", "api"}


def test_target_groups_are_ip_with_the_services_health_check():
    plan, _ = lb_plan(edited("prod", with_admin))
    groups = {r.name: r.props for r in plan.of_type(TARGET_GROUP)}
    admin = groups["prod-alb-tg-admin"]
    assert {k: v for k, v in admin.items() if k not in ("name", "tags")} == {
        "targetType": "ip",
        "protocol": "HTTP",
        "protocolVersion": "HTTP1",
        "port": 8081,
        "vpcId": VPC,
        "deregistrationDelay": 30,
        "healthCheck": {
            "enabled": True,
            "protocol": "HTTP",
            "port": "traffic-port",
            "path": "/ready",
            "interval": 10,
            "timeout": 4,
            "healthyThreshold": 2,
            "unhealthyThreshold": 5,
            "matcher": "200",
        },
    }
    assert groups["prod-alb-tg-api"]["healthCheck"]["path"] == "/health"
    assert groups["prod-alb-tg-api"]["port"] == 8080
    for props in groups.values():
        assert 30 <= props["deregistrationDelay"] <= 60
        assert len(props["name"]) <= 32


def test_target_group_names_are_stable_fit_32_and_change_only_on_replacement():
    def long_key(data: dict) -> None:
        rolling(data)
        data["environment"] = "prod-eu-west-primary"  # 20 characters, the longest allowed
        # the longest key: every name derived from it is shortened to its limit (components/naming.py)
        data["services"]["a" * 63] = data["services"].pop("api")

    config = edited("prod", long_key)
    plan, _ = lb_plan(config)
    [group] = plan.of_type(TARGET_GROUP)
    assert len(group.props["name"]) <= 32
    again, _ = lb_plan(config)
    assert again.of_type(TARGET_GROUP)[0].props["name"] == group.props["name"]

    base, _ = lb_plan(reference_config("prod"))
    moved, _ = lb_plan(edited("prod", lambda d: d["services"]["api"].update(port=8443)))
    assert base.of_type(TARGET_GROUP)[0].props["name"] != moved.of_type(TARGET_GROUP)[0].props["name"]
    health, _ = lb_plan(edited("prod", lambda d: d["services"]["api"]["health_check"].update(path="/live")))
    assert base.of_type(TARGET_GROUP)[0].props["name"] == health.of_type(TARGET_GROUP)[0].props["name"]


def test_adding_a_service_leaves_the_other_routes_unchanged():
    before, _ = lb_plan(reference_config("prod"))
    after, _ = lb_plan(edited("prod", with_admin))
    later = {(r.type, r.name): r for r in after.resources}
    for resource in before.resources:
        counterpart = later[(resource.type, resource.name)]
        assert counterpart.props == resource.props, resource.name
        assert counterpart.parent == resource.parent
    added = sorted((r.type, r.name) for r in after.resources if (r.type, r.name) not in {(b.type, b.name) for b in before.resources})
    assert added == [
        (RULE, "prod-alb-rule-admin"),
        (TARGET_GROUP, "prod-alb-tg-admin"),
        (EGRESS, "prod-alb-sg-out-8081"),
    ]


# --------------------------------------------------------------------------------------------
# the security group
# --------------------------------------------------------------------------------------------


def test_security_group_rules_http_only():
    plan, _ = lb_plan(reference_config("dev"))
    assert rules(plan, INGRESS) == {(80, 80, "tcp", "203.0.113.0/24", "HTTP from 203.0.113.0/24 (load_balancer.ingress_cidrs)")}
    assert rules(plan, EGRESS) == {(8080, 8080, "tcp", "10.10.0.0/16", "Requests and health checks to tasks on port 8080 in the VPC")}
    [group] = plan.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert "ingress" not in group.props and "egress" not in group.props  # rules are separate resources
    assert group.props["vpcId"] == VPC


def test_security_group_rules_one_per_cidr_and_listener_port():
    config = edited("prod", lambda d: (d["load_balancer"].update(ingress_cidrs=["198.51.100.0/24", "203.0.113.0/24"]), with_admin(d)))
    plan, outputs = lb_plan(config)
    assert rules(plan, INGRESS) == {
        (80, 80, "tcp", "198.51.100.0/24", "HTTP from 198.51.100.0/24 (load_balancer.ingress_cidrs)"),
        (443, 443, "tcp", "198.51.100.0/24", "HTTPS from 198.51.100.0/24 (load_balancer.ingress_cidrs)"),
        (80, 80, "tcp", "203.0.113.0/24", "HTTP from 203.0.113.0/24 (load_balancer.ingress_cidrs)"),
        (443, 443, "tcp", "203.0.113.0/24", "HTTPS from 203.0.113.0/24 (load_balancer.ingress_cidrs)"),
    }
    assert rules(plan, EGRESS) == {
        (8080, 8080, "tcp", "10.30.0.0/16", "Requests and health checks to tasks on port 8080 in the VPC"),
        (8081, 8081, "tcp", "10.30.0.0/16", "Requests and health checks to tasks on port 8081 in the VPC"),
    }
    for rule in plan.of_type(INGRESS) + plan.of_type(EGRESS):
        assert rule.props["securityGroupId"] == outputs["security_group_id"]


# --------------------------------------------------------------------------------------------
# guards
# --------------------------------------------------------------------------------------------


def test_a_health_check_timeout_not_below_the_interval_is_refused():
    """The config model rejects it first; the component guards direct use (an ALB would)."""
    config = reference_config("dev")
    api = config.services["api"]
    bad = api.model_copy(update={"health_check": api.health_check.model_copy(update={"interval": 5, "timeout": 5})})
    config = config.model_copy(update={"services": {**config.services, "api": bad}})
    with pytest.raises(Exception, match=r"services.api.health_check: timeout 5 must be below interval 5"):
        lb_plan(config)
