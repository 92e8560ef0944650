"""Edges of the load balancer rules (policies/load_balancer.py) through the pack: each case
changes one thing of the compliant ALB, its listeners or the api target group and names every
violation whole (policy, resource and the entire message)."""

from __future__ import annotations

import pytest

from .stack import add, all_mandatory, drop, edited, set_
from .verdicts import expected, violations

ALB, HTTP, HTTPS, TARGETS = "prod-alb", "prod-alb-http", "prod-alb-https", "prod-api-tg"
HTTPS_ONLY, TLS, HEADERS, DESYNC = "aws-lb-https-only", "aws-lb-listener-modern-tls", "aws-lb-drop-invalid-headers", "aws-lb-desync-mitigation"
DELETION, ACCESS_LOGS, HEALTH = "aws-lb-deletion-protection", "aws-lb-access-logs", "aws-lb-target-group-health-check"
PUBLIC_INGRESS = "aws-ec2-security-group-no-public-ingress"
MODERN = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HTTP_SERVES = (HTTPS_ONLY, ALB, f"the HTTP listener {HTTP} serves traffic instead of redirecting to HTTPS")
NO_PATH = (HEALTH, TARGETS, "its HTTP health check has no path")


def listener(name, **props):
    """Another listener of the ALB."""
    return add("aws:lb/listener:Listener", name, {"loadBalancerArn": "arn:alb", **props}, {"loadBalancerArn": [ALB]})


def redirect(protocol="HTTPS"):
    return {"type": "redirect", "redirect": {"protocol": protocol, "port": "443", "statusCode": "HTTP_301"}}


def case(id_, edits, *found):
    return pytest.param(edits, found, id=id_)


CASES = [
    # ---- HTTPS only: every HTTP listener (after any other listener) and its rules redirect
    case("http-redirects-to-http", [set_(HTTP, "defaultActions", [redirect("HTTP")])], HTTP_SERVES),
    case("http-redirects-and-forwards", [set_(HTTP, "defaultActions", [redirect(), {"type": "forward", "targetGroupArn": "arn:tg"}])], HTTP_SERVES),
    case("http-served-after-another-https-listener", [listener("prod-alb-a-admin", protocol="HTTPS", port=8443, sslPolicy=MODERN, certificateArn="arn:cert",
                                                               defaultActions=[{"type": "fixed-response"}]),
                                                      set_(HTTP, "defaultActions", [{"type": "forward", "targetGroupArn": "arn:tg"}])], HTTP_SERVES),
    case("https-listener-made-http", [set_(HTTPS, "protocol", "HTTP")],
         (HTTPS_ONLY, ALB, "has no HTTPS listener"),
         (HTTPS_ONLY, ALB, f"the HTTP listener {HTTPS} serves traffic instead of redirecting to HTTPS"),
         (HTTPS_ONLY, ALB, f"the rule prod-api-rule forwards plain HTTP on {HTTPS}")),
    # ---- TLS policies: HTTPS and TLS listeners
    case("tls-listener-old-policy", [listener("prod-alb-tls", protocol="TLS", port=8443, sslPolicy="ELBSecurityPolicy-2016-08", certificateArn="arn:cert",
                                              defaultActions=[{"type": "forward", "targetGroupArn": "arn:tg"}])],
         (TLS, "prod-alb-tls", "sslPolicy is ELBSecurityPolicy-2016-08, which still allows TLS 1.0/1.1 or non-forward-secret ciphers")),
    case("https-default-policy", [drop(HTTPS, "sslPolicy")],
         (TLS, HTTPS, "sslPolicy is ELBSecurityPolicy-2016-08 (the default), which still allows TLS 1.0/1.1 or non-forward-secret ciphers")),
    # ---- the ALB itself
    case("headers-kept", [drop(ALB, "dropInvalidHeaderFields")], (HEADERS, ALB, "dropInvalidHeaderFields is off")),
    case("headers-kept-default-type", [drop(ALB, "loadBalancerType"), set_(ALB, "dropInvalidHeaderFields", "false")], (HEADERS, ALB, "dropInvalidHeaderFields is off")),
    case("desync-monitor", [set_(ALB, "desyncMitigationMode", "monitor")], (DESYNC, ALB, "desyncMitigationMode is monitor")),
    case("deletion-protection-off", [set_(ALB, "enableDeletionProtection", False)], (DELETION, ALB, "enableDeletionProtection is off")),
    case("access-logs-disabled", [set_(ALB, "accessLogs.enabled", False)], (ACCESS_LOGS, ALB, "access logs are off")),
    case("access-logs-without-bucket", [drop(ALB, "accessLogs.bucket")], (ACCESS_LOGS, ALB, "access logs are off")),
    # A network load balancer: no HTTPS, header or desync rule (ALB features), and no ALB exception for its group.
    case("network-load-balancer", [set_(ALB, "loadBalancerType", "network"), drop(ALB, "dropInvalidHeaderFields"), set_(ALB, "desyncMitigationMode", "monitor"),
                                   set_(HTTP, "defaultActions", [{"type": "forward", "targetGroupArn": "arn:tg"}])],
         (PUBLIC_INGRESS, "prod-alb-sg", "ingress[0] admits 0.0.0.0/0 on tcp 443-443"), (PUBLIC_INGRESS, "prod-alb-sg", "ingress[1] admits 0.0.0.0/0 on tcp 80-80")),
    # ---- target groups
    case("no-health-check", [drop(TARGETS, "healthCheck")], (HEALTH, TARGETS, "has no explicit health check (the default probes / on the traffic port)")),
    case("health-check-disabled", [set_(TARGETS, "healthCheck.enabled", False)], (HEALTH, TARGETS, "its health check is disabled")),
    case("https-targets-without-path", [set_(TARGETS, "protocol", "HTTPS"), drop(TARGETS, "healthCheck.path")], NO_PATH),
    case("default-protocol-without-path", [drop(TARGETS, "protocol"), drop(TARGETS, "healthCheck.path")], NO_PATH),
    case("empty-path", [set_(TARGETS, "healthCheck.path", "")], NO_PATH),
]


@pytest.mark.parametrize("edits, found", CASES)
def test_each_edge_fails_with_exactly_these_violations(pack, edits, found):
    assert violations(pack.verdict(edited(*edits))) == expected(*found)


@pytest.mark.parametrize("edits", [
    pytest.param([set_(ALB, "desyncMitigationMode", "Strictest")], id="desync-any-case"),
    pytest.param([set_(HTTP, "protocol", "HTTP"), set_(HTTP, "defaultActions", [redirect(), redirect()])], id="every-action-redirects"),
    pytest.param([set_(HTTPS, "sslPolicy", "ELBSecurityPolicy-FS-1-2-Res-2020-10")], id="forward-secret-tls-1-2"),
    pytest.param([set_(TARGETS, "protocol", "TCP"), drop(TARGETS, "healthCheck.path")], id="tcp-targets-need-no-path"),
    pytest.param([set_(TARGETS, "targetType", "lambda"), drop(TARGETS, "healthCheck")], id="lambda-targets"),
    pytest.param([drop(TARGETS, "healthCheck.enabled")], id="health-check-enabled-by-default"),
])
def test_edges_these_rules_accept(pack, edits):
    assert violations(pack.verdict(edited(*edits))) == []


def test_the_allowed_tls_policies_are_configurable(pack):
    old = edited(set_(HTTPS, "sslPolicy", "ELBSecurityPolicy-2016-08"))
    assert violations(pack.verdict(old, all_mandatory(**{TLS: {"allowedSslPolicies": ["ELBSecurityPolicy-2016-08"]}}))) == []
    assert violations(pack.verdict(edited(), all_mandatory(**{TLS: {"allowedSslPolicies": ["ELBSecurityPolicy-TLS13-1-3-2021-06"]}}))) == expected(
        (TLS, HTTPS, f"sslPolicy is {MODERN}, which still allows TLS 1.0/1.1 or non-forward-secret ciphers"))


def test_https_only_and_the_others_apply_to_production_only(pack):
    edits = edited(set_(HTTP, "defaultActions", [{"type": "forward", "targetGroupArn": "arn:tg"}]), drop(ALB, "enableDeletionProtection"), drop(ALB, "accessLogs"))
    assert violations(pack.verdict(edits, all_mandatory(production=False))) == []
