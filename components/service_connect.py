"""Service Connect's resources and arguments (`cluster.service_connect`; roles in
configs/service_connect.py).

- The cluster creates one Cloud Map HTTP namespace, named by `cluster.service_connect.namespace`,
  and makes it its `serviceConnectDefaults`.
- Each server or client service gets `service_connect_configuration`: enabled, the namespace,
  the proxy's logs in the service's own log group, and for a server one entry
  `{port_name: <key>-<port>, discovery_name: <key>, client_alias: [{port, dns_name: <key>}]}`.

Security groups are not touched: the server's proxy listens on the container port, which the
`connects_to` rules already open both ways (components/service.py).
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

from configs.service_connect import PROXY_LOG_STREAM_PREFIX
from components.task import port_name


def http_namespace(name: str, *, namespace: str, environment: str, tags: dict[str, str], parent: pulumi.Resource) -> aws.servicediscovery.HttpNamespace:
    """The Cloud Map namespace the services register in. An HTTP namespace: discovery through the
    API (which the proxies use), no Route 53 zone to pay for or to leak names into."""
    return aws.servicediscovery.HttpNamespace(
        name,
        name=namespace,
        description=f"Service Connect names of the {environment} environment",
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def service_connect_configuration(
    key: str,
    port: Optional[int],
    *,
    namespace_arn: pulumi.Input[str],
    log_group_name: pulumi.Input[str],
    region: str,
) -> aws.ecs.ServiceServiceConnectConfigurationArgs:
    """A client (no port) joins the namespace; a server (a port) also publishes `<key>:<port>`.

    The proxy logs with awslogs to the service's log group under its own stream prefix (the
    execution role may already write there), so nothing about the proxy goes unlogged."""
    services = None
    if port is not None:
        services = [
            aws.ecs.ServiceServiceConnectConfigurationServiceArgs(
                port_name=port_name(key, port),
                discovery_name=key,
                client_alias=[aws.ecs.ServiceServiceConnectConfigurationServiceClientAliasArgs(port=port, dns_name=key)],
            )
        ]
    return aws.ecs.ServiceServiceConnectConfigurationArgs(
        enabled=True,
        namespace=namespace_arn,
        services=services,
        log_configuration=aws.ecs.ServiceServiceConnectConfigurationLogConfigurationArgs(
            log_driver="awslogs",
            options={
                "awslogs-group": log_group_name,
                "awslogs-region": region,
                "awslogs-stream-prefix": PROXY_LOG_STREAM_PREFIX,
            },
        ),
    )
