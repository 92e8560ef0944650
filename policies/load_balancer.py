"""Application load balancers: TLS, header hygiene, deletion protection, health checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .framework import ResourceRule, Settings, Stack, StackRule
from .helpers import get, items, truthy

LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"


def is_alb(props: Mapping) -> bool:
    """An application load balancer (the default type), as opposed to a network or gateway one."""
    return get(props, "loadBalancerType", default="application") == "application"


def https_only(subject, stack: Stack, _settings: Settings) -> Iterable[str]:
    if not is_alb(stack.props(subject)):
        return
    listeners = stack.referrers(subject, "loadBalancerArn", (LISTENER,))
    if not any(get(stack.props(l), "protocol") == "HTTPS" for l in listeners):
        yield "has no HTTPS listener"
    for listener in listeners:
        if get(stack.props(listener), "protocol") != "HTTP":
            continue
        if not all(_redirects_to_https(action) for action in items(stack.props(listener), "defaultActions")):
            yield f"the HTTP listener {listener.name} serves traffic instead of redirecting to HTTPS"
        for rule in stack.referrers(listener, "listenerArn", (LISTENER_RULE,)):
            if not all(_redirects_to_https(action) for action in items(stack.props(rule), "actions")):
                yield f"the rule {rule.name} forwards plain HTTP on {listener.name}"


def _redirects_to_https(action: Mapping) -> bool:
    return get(action, "type") == "redirect" and get(action, "redirect", "protocol") == "HTTPS"


def modern_tls(props: Mapping, settings: Settings) -> Iterable[str]:
    if get(props, "protocol") not in ("HTTPS", "TLS"):
        return
    policy = get(props, "sslPolicy", default="ELBSecurityPolicy-2016-08 (the default)")
    if policy not in settings.option("allowedSslPolicies"):
        yield f"sslPolicy is {policy}, which still allows TLS 1.0/1.1 or non-forward-secret ciphers"


def drop_invalid_headers(props: Mapping, _settings: Settings) -> Iterable[str]:
    # Invalid header names are a request-smuggling vector; ALBs forward them unless told not to.
    if is_alb(props) and not truthy(get(props, "dropInvalidHeaderFields")):
        yield "dropInvalidHeaderFields is off"


# How an ALB treats requests that may be smuggled (HTTP desync): monitor forwards them all.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#desync-mitigation-mode
SAFE_DESYNC_MODES = ("defensive", "strictest")


def desync_mitigation(props: Mapping, _settings: Settings) -> Iterable[str]:
    mode = str(get(props, "desyncMitigationMode", default="defensive"))
    if is_alb(props) and mode.lower() not in SAFE_DESYNC_MODES:
        yield f"desyncMitigationMode is {mode}"


def deletion_protection(props: Mapping, _settings: Settings) -> Iterable[str]:
    if not truthy(get(props, "enableDeletionProtection")):
        yield "enableDeletionProtection is off"


def access_logs(props: Mapping, _settings: Settings) -> Iterable[str]:
    if not truthy(get(props, "accessLogs", "enabled")) or not get(props, "accessLogs", "bucket"):
        yield "access logs are off"


def health_check(props: Mapping, _settings: Settings) -> Iterable[str]:
    if get(props, "targetType") == "lambda":
        return
    check = get(props, "healthCheck")
    if check is None:
        yield "has no explicit health check (the default probes / on the traffic port)"
    elif check.get("enabled") is False:
        yield "its health check is disabled"
    elif get(props, "protocol", default="HTTP") in ("HTTP", "HTTPS") and not check.get("path"):
        yield "its HTTP health check has no path"


MODERN_POLICIES = [
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
]

RULES = [
    StackRule(
        name="aws-lb-https-only",
        description="Production ALBs serve HTTPS; plain HTTP only redirects to HTTPS.",
        remediation="set load_balancer.certificate_arn (HTTPS listener plus an HTTP->HTTPS redirect)",
        category="security",
        types=(LOAD_BALANCER,),
        check=https_only,
        production_only=True,
    ),
    ResourceRule(
        name="aws-lb-listener-modern-tls",
        description="HTTPS listeners use a TLS 1.2+ forward-secret security policy.",
        remediation="set load_balancer.ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06",
        category="security",
        types=(LISTENER,),
        check=modern_tls,
        options={"allowedSslPolicies": MODERN_POLICIES},
        option_schema={"allowedSslPolicies": {"type": "array", "items": {"type": "string"}}},
    ),
    ResourceRule(
        name="aws-lb-drop-invalid-headers",
        description="ALBs drop HTTP headers with invalid names.",
        remediation="set dropInvalidHeaderFields: true",
        category="security",
        types=(LOAD_BALANCER,),
        check=drop_invalid_headers,
    ),
    ResourceRule(
        name="aws-lb-desync-mitigation",
        description="ALBs mitigate HTTP desync: desyncMitigationMode is defensive or strictest.",
        remediation="set desyncMitigationMode: defensive (the default) or strictest",
        category="security",
        types=(LOAD_BALANCER,),
        check=desync_mitigation,
    ),
    ResourceRule(
        name="aws-lb-deletion-protection",
        description="Production load balancers have deletion protection.",
        remediation="set load_balancer.deletion_protection: true (the default when protect is on)",
        category="reliability",
        types=(LOAD_BALANCER,),
        check=deletion_protection,
        production_only=True,
    ),
    ResourceRule(
        name="aws-lb-access-logs",
        description="Production load balancers write access logs.",
        remediation="set load_balancer.access_logs.bucket",
        category="security",
        types=(LOAD_BALANCER,),
        check=access_logs,
        production_only=True,
    ),
    ResourceRule(
        name="aws-lb-target-group-health-check",
        description="Target groups have an enabled health check with a path.",
        remediation="set services.<key>.health_check.path (the target group's healthCheck)",
        category="reliability",
        types=(TARGET_GROUP,),
        check=health_check,
    ),
]
