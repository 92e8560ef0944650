"""Where a captured resource sits: which top-level component (network, cluster, a service ...)
owns it. Cost, diagram and diff all group by this, so it is computed in one place."""

from __future__ import annotations

from typing import Optional

from review.offline import CapturedResource, Plan, mock_id

ENVIRONMENT_TYPE = "ecsplatform:index:Environment"
SERVICE_TYPE = "ecsplatform:service:Service"
# A service's alarms are a component of their own (named child(environment, key, "alarms")),
# counted with the service.
SERVICE_ALARMS_TYPE = "ecsplatform:alarms:ServiceAlarms"
JOB_TYPE = "ecsplatform:job:Job"  # labelled by its key too ("job nightly-report")
# Labels for the component types; a service is labelled by its key ("service api").
COMPONENT_LABELS = {
    "ecsplatform:network:Network": "network",
    "ecsplatform:registry:Registry": "registry",
    "ecsplatform:cluster:Cluster": "cluster",
    "ecsplatform:load_balancer:LoadBalancer": "load balancer",
}
ENVIRONMENT_LABEL = "environment"  # resources the Environment creates itself (the log KMS key)


def top_component(plan: Plan, resource: CapturedResource) -> Optional[CapturedResource]:
    """The ancestor (or the resource itself) whose parent is the Environment component."""
    by_urn = plan.by_urn
    current: Optional[CapturedResource] = resource
    while current is not None:
        parent = by_urn.get(current.parent)
        if parent is None or parent.type == ENVIRONMENT_TYPE:
            return current if (parent is not None and not current.custom) else None
        current = parent
    return None


def service_key(plan: Plan, component: CapturedResource) -> str:
    """`dev-api` -> `api`: service components are named child(environment, key)."""
    prefix = f"{plan.environment}-"
    name = component.name.removesuffix("-alarms") if component.type == SERVICE_ALARMS_TYPE else component.name
    return name[len(prefix):] if name.startswith(prefix) else name


def component_label(plan: Plan, resource: CapturedResource) -> str:
    component = top_component(plan, resource)
    if component is None:
        return ENVIRONMENT_LABEL
    if component.type in (SERVICE_TYPE, SERVICE_ALARMS_TYPE):
        return f"service {service_key(plan, component)}"
    if component.type == JOB_TYPE:
        return f"job {service_key(plan, component)}"
    return COMPONENT_LABELS.get(component.type, component.type.split(":")[-1].lower())


def mock_ids(plan: Plan) -> dict[str, CapturedResource]:
    """id -> resource, for the ids the offline mocks assign (review/offline.mock_id). Inputs
    that refer to another resource (a route's natGatewayId) carry these ids, so they resolve here."""
    return {mock_id(resource.type, resource.name): resource for resource in plan.resources}
