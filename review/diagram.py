"""A Mermaid picture of an environment, which GitHub renders in a PR comment:
internet -> ALB routes -> services -> capacity providers, and the network underneath
(subnets per zone, NAT gateways and the private routes to them, VPC endpoints).

What exists (listeners, rules, subnets, NATs, endpoints) is read from the plan; sizes,
counts, strategies and connections of services from the validated config.
"""

from __future__ import annotations

import re
from collections import defaultdict

from configs.instance_types import is_gpu_provider
from configs.model import EnvironmentConfig, Task
from configs.service_connect import endpoint, is_client, is_server
from review.offline import CapturedResource, Plan
from review.topology import mock_ids

PROVIDER_NAMES = {"fargate": "FARGATE", "fargate_spot": "FARGATE_SPOT"}


def node_id(*parts: str) -> str:
    """Mermaid ids allow letters, digits and underscores only."""
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


def label(text: str) -> str:
    """A quoted Mermaid label; double quotes would end it, so they become #quot;."""
    return '"' + text.replace('"', "#quot;") + '"'


def render_mermaid(config: EnvironmentConfig, plan: Plan) -> str:
    lines = ["flowchart LR"]
    lines += _edge_and_alb(config, plan)
    lines += _network(config, plan)
    lines += _services(config, plan)
    lines += _jobs(config)
    lines += _capacity(config)
    lines += _alarms(config, plan)
    return "\n".join(lines)


# ---- internet and the load balancer ----------------------------------------------------------


def _listeners(plan: Plan) -> list[CapturedResource]:
    return sorted(plan.of_type("aws:lb/listener:Listener"), key=lambda r: r.props.get("port", 0))


def _listener_text(listener: CapturedResource) -> str:
    props = listener.props
    text = f"{props.get('protocol', '?')} :{int(props.get('port', 0))}"
    actions = props.get("defaultActions") or []
    if actions and actions[0].get("type") == "redirect":
        text += " redirect to " + str(actions[0].get("redirect", {}).get("protocol", "?"))
    return text


def _edge_and_alb(config: EnvironmentConfig, plan: Plan) -> list[str]:
    albs = plan.of_type("aws:lb/loadBalancer:LoadBalancer")
    if not albs:
        return []
    alb = albs[0]
    internal = bool(alb.props.get("internal"))
    sources = ", ".join(str(c) for c in config.load_balancer.ingress_cidrs)
    client = "clients in the VPC" if internal else "Internet"
    listeners = " / ".join(_listener_text(l) for l in _listeners(plan))
    lines = [
        f"  client(({label(f'{client}<br/>{sources}')}))",
        f"  alb{{{{{label(('internal ' if internal else '') + 'ALB ' + str(alb.props.get('name', alb.name)))}}}}}",
        f"  client -->|{label(listeners)}| alb",
    ]
    services_by_target = {
        lb.get("targetGroupArn"): service.props.get("name", service.name)
        for service in plan.of_type("aws:ecs/service:Service")
        for lb in service.props.get("loadBalancers") or []
    }
    for rule in sorted(plan.of_type("aws:lb/listenerRule:ListenerRule"), key=lambda r: r.props.get("priority", 0)):
        target = next((a.get("targetGroupArn") for a in rule.props.get("actions") or [] if a.get("type") == "forward"), None)
        service = services_by_target.get(target)
        if service is not None:
            lines.append(f"  alb -->|{label(_rule_text(rule))}| {node_id('svc', service)}")
    return lines


def _rule_text(rule: CapturedResource) -> str:
    parts = []
    for condition in rule.props.get("conditions") or []:
        for kind, body in condition.items():
            values = body.get("values") if isinstance(body, dict) else None
            parts.append(", ".join(values) if values and kind == "pathPattern" else f"{kind} {', '.join(values or [])}")
    return f"{' '.join(parts)} (priority {int(rule.props.get('priority', 0))})"


# ---- network ---------------------------------------------------------------------------------


def _tier(subnet: CapturedResource) -> str:
    return "public" if subnet.props.get("mapPublicIpOnLaunch") or "-public-" in subnet.name else "private"


def _network(config: EnvironmentConfig, plan: Plan) -> list[str]:
    subnets = plan.of_type("aws:ec2/subnet:Subnet")
    if not subnets:
        return []
    ids = mock_ids(plan)
    zones: dict[str, list[CapturedResource]] = defaultdict(list)
    for subnet in subnets:
        zones[subnet.props.get("availabilityZone", "?")].append(subnet)
    vpc = plan.of_type("aws:ec2/vpc:Vpc")
    cidr = vpc[0].props.get("cidrBlock", "") if vpc else ""
    lines = [f"  subgraph vpc[{label(f'VPC {cidr}')}]", "    direction TB"]
    for zone in sorted(zones):
        lines.append(f"    subgraph {node_id('zone', zone)}[{label(zone)}]")
        for subnet in sorted(zones[zone], key=lambda s: (_tier(s), s.name)):
            lines.append(f"      {node_id('subnet', subnet.name)}[{label(_tier(subnet) + ' ' + str(subnet.props.get('cidrBlock', '')))}]")
        for nat in plan.of_type("aws:ec2/natGateway:NatGateway"):
            subnet = ids.get(nat.props.get("subnetId", ""))
            if subnet is not None and subnet.props.get("availabilityZone") == zone:
                lines.append(f"      {node_id('nat', nat.name)}[/{label('NAT gateway')}/]")
        lines.append("    end")
    lines += _endpoints(plan)
    lines.append("  end")
    lines += _routes(plan, ids)
    return lines


def _endpoints(plan: Plan) -> list[str]:
    endpoints = plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    if not endpoints:
        return []
    by_kind: dict[str, list[str]] = defaultdict(list)
    for endpoint in endpoints:
        service = str(endpoint.props.get("serviceName", ""))
        by_kind[str(endpoint.props.get("vpcEndpointType", "Interface"))].append(service.split(".", 3)[-1])
    text = "<br/>".join(f"{kind.lower()}: {', '.join(sorted(names))}" for kind, names in sorted(by_kind.items()))
    return [f"    endpoints[({label('VPC endpoints<br/>' + text)})]"]


def _routes(plan: Plan, ids: dict[str, CapturedResource]) -> list[str]:
    """private subnet -> NAT gateway, from the default routes of the route tables they use."""
    nat_of_table = {
        route.props.get("routeTableId"): ids.get(route.props.get("natGatewayId", ""))
        for route in plan.of_type("aws:ec2/route:Route")
        if route.props.get("natGatewayId")
    }
    lines = []
    for association in plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation"):
        nat = nat_of_table.get(association.props.get("routeTableId"))
        subnet = ids.get(association.props.get("subnetId", ""))
        if nat is not None and subnet is not None:
            lines.append(f"  {node_id('subnet', subnet.name)} -->|{label('0.0.0.0/0')}| {node_id('nat', nat.name)}")
    if plan.of_type("aws:ec2/natGateway:NatGateway"):
        lines.append(f"  internet_out(({label('Internet')}))")
        for nat in plan.of_type("aws:ec2/natGateway:NatGateway"):
            lines.append(f"  {node_id('nat', nat.name)} --> internet_out")
    return lines


# ---- services and capacity -------------------------------------------------------------------


def _services(config: EnvironmentConfig, plan: Plan) -> list[str]:
    lines = []
    has_endpoints = bool(plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"))
    for key, service in sorted(config.services.items()):
        size = f"{service.cpu / 1024:g} vCPU / {service.memory / 1024:g} GB{_gpus(service)} x {service.desired_count}"
        scaling = f"<br/>autoscaling {service.autoscaling.min}-{service.autoscaling.max}" if service.autoscaling else ""
        if service.autoscaling and service.autoscaling.schedule:
            scaling += f"<br/>{len(service.autoscaling.schedule)} scheduled ({service.autoscaling.timezone})"
        # A Service Connect server answers at <service>:<port> in the namespace.
        name = f"<br/>{endpoint(key, service.port)}" if is_server(config, key) and service.port else ""
        lines.append(f"  {node_id('svc', key)}[{label(f'{key}{name}<br/>{size}{scaling}')}]")
        lines += _sidecars("svc", key, service)
        lines += _queue_feed(key, service)
        for entry in config.strategy_for(key):
            text = f"weight {entry.weight}" + (f", base {entry.base}" if entry.base else "")
            lines.append(f"  {node_id('svc', key)} -->|{label(text)}| {node_id('cp', entry.provider)}")
        for connection in service.connects_to:
            # Outside the VPC (a CIDR or a prefix list): a node of its own, drawn as a stadium.
            target = node_id("svc", connection.service) if connection.service else node_id("ext", connection.target)
            if not connection.service:
                lines.append(f"  {target}[({label(connection.target)})]")
            called = f"http://{endpoint(connection.service, connection.port)}" if connection.service and is_client(config, key) else f"tcp {connection.port}"
            lines.append(f"  {node_id('svc', key)} -.->|{label(called)}| {target}")
        if has_endpoints:
            lines.append(f"  {node_id('svc', key)} -.- endpoints")
    return lines


def _queue_feed(key: str, service) -> list[str]:
    """The SQS queue a queue-scaled service consumes, feeding it (`autoscaling.queue`)."""
    queue = service.consumed_queue
    if queue is None:
        return []
    name = queue.arn.split(":", 5)[5]
    node = node_id("sqs", name)
    return [
        f"  {node}>{label(f'SQS {name}')}]",
        f"  {node} -->|{label(f'{queue.backlog_per_task} messages per task')}| {node_id('svc', key)}",
    ]


def _jobs(config: EnvironmentConfig) -> list[str]:
    """Each job with its schedule (or "on demand") and its capacity."""
    lines = []
    for key, job in sorted(config.jobs.items()):
        when = f"{job.schedule} {job.timezone}" if job.schedule else "on demand: run.py task"
        if job.before:  # run by pulumi up when its revision changes (components/job.py)
            when = "in pulumi up, on a new revision"
        text = f"job {key}<br/>{job.cpu / 1024:g} vCPU / {job.memory / 1024:g} GB{_gpus(job)}<br/>{when}"
        lines.append(f"  {node_id('job', key)}[/{label(text)}/]")
        lines += _sidecars("job", key, job)
        for service in job.before:
            lines.append(f"  {node_id('job', key)} ==>|{label('exit 0 before rollout')}| {node_id('svc', service)}")
        for entry in config.strategy_for(key):
            lines.append(f"  {node_id('job', key)} -.->|{label(f'weight {entry.weight}')}| {node_id('cp', entry.provider)}")
    return lines


def _gpus(task: Task) -> str:
    return f" / {task.gpu} GPU" if task.gpu else ""


def _sidecars(kind: str, key: str, task: Task) -> list[str]:
    """Each sidecar as a node tied to its task, with the share it reserves inside the task."""
    lines = []
    for name, sidecar in sorted(task.sidecars.items()):
        text = f"sidecar {name}<br/>{sidecar.cpu / 1024:g} vCPU / {sidecar.memory / 1024:g} GB of the task"
        lines.append(f"  {node_id(kind, key, 'sidecar', name)}[{label(text)}]")
        lines.append(f"  {node_id(kind, key)} --- {node_id(kind, key, 'sidecar', name)}")
    return lines


def _capacity(config: EnvironmentConfig) -> list[str]:
    used = {entry.provider for key in [*config.services, *config.jobs] for entry in config.strategy_for(key)}
    lines = [f"  subgraph capacity[{label('capacity providers')}]"]
    for provider in sorted(used):
        ec2 = config.cluster.capacity.ec2.get(provider)
        if ec2 is None:
            text = PROVIDER_NAMES.get(provider, provider)
        else:
            ami = " (GPU AMI)" if is_gpu_provider(ec2.instance_types) else ""
            text = (f"EC2 {provider}: {', '.join(ec2.instance_types)}{ami}<br/>{ec2.min_size}-{ec2.max_size} instances, "
                    f"{ec2.on_demand_base} + {ec2.on_demand_percent_above_base}% on-demand")
        lines.append(f"    {node_id('cp', provider)}[[{label(text)}]]")
    lines.append("  end")
    return lines


# ---- alarms ----------------------------------------------------------------------------------


def _alarms(config: EnvironmentConfig, plan: Plan) -> list[str]:
    """Per service, the alarms the plan creates for it (with thresholds), and where they notify."""
    from components.alarms import alarm_name

    alarms = {str(a.props.get("name", a.name)): a for a in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    if not alarms:
        return []
    topics = plan.of_type("aws:sns/topic:Topic")
    topic = f"SNS {topics[0].props.get('name', topics[0].name)}" if topics else f"SNS {config.alarms.notify}"
    lines = [f"  notify(({label(topic)}))"]
    for key in sorted(config.services):
        found = []
        for metric in ("http_5xx_percent", "p99_latency_ms", "cpu", "memory", "running_below_desired"):
            alarm = alarms.get(alarm_name(config.environment, key, metric))
            if alarm is not None:
                threshold = "" if metric == "running_below_desired" else f" > {alarm.props.get('threshold', 0):g}"
                found.append(metric.replace("_", " ") + threshold)
        if found:
            node = node_id("alarms", key)
            lines.append(f"  {node}[/{label('alarms: ' + '<br/>'.join(found))}/]")
            lines.append(f"  {node_id('svc', key)} -.- {node}")
            lines.append(f"  {node} -->|{label('notify')}| notify")
    return lines
