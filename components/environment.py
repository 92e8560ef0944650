"""The whole environment: the one place where components are wired together.

Data flows one way: the validated model and the facts looked up once go in; each component
gets only the values it needs (plain values from the model, ids and ARNs as Inputs).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
from pulumi.runtime.sync_await import _sync_await

from configs.endpoints import resolve_endpoints
from configs import service_connect
from configs.model import EnvironmentConfig, Image
from components.alarms import ServiceAlarms, ServiceAlarmsArgs, notification_topic
from components.ci_role import CiRole, CiRoleArgs, pipeline_jobs
from components.deployment import NativeLoadBalancing
from components.cluster import Cluster, ClusterArgs
from components.facts import PlatformFacts, lookup_facts
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.logs import log_encryption_key
from components.iam import repository_arn
from components.naming import child, family, type_token
from components.job import Job, JobArgs
from components.network import Network, NetworkArgs
from components.registry import Registry, RegistryArgs, repository_name
from components.service import Service, ServiceArgs, connect_services
from components.storage import EfsMount, Storage, StorageArgs, access_point_requests


# Services built between two turns of the SDK's event loop (let_registrations_run). A turn
# walks every callback the loop has queued, so one after each service would cost O(services²).
SERVICES_PER_TURN = 8
# Loop iterations in a turn: enough for most of what 8 services queued to reach the monitor and
# resolve (measured at 40 services: 1,000 iterations lower the peak by at most 2 MB more).
ITERATIONS_PER_TURN = 100


def let_registrations_run() -> None:
    """Gives the SDK's event loop a turn in the middle of the program, as each synchronous
    invoke of components/facts.py does (both through the SDK's _sync_await): the registrations
    of the resources built so far advance instead of all waiting for the program's end, and
    what each holds while pending (four futures and a task per output property) is freed as it
    completes. At 40 services the program's peak is about 16 MB lower (bench/bench_review.py).
    A turn never waits: under the engine it only moves along what is ready."""
    _sync_await(_iterations(ITERATIONS_PER_TURN))


async def _iterations(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


@dataclass(frozen=True)
class EnvironmentArgs:
    config: EnvironmentConfig
    facts: PlatformFacts


class Environment(pulumi.ComponentResource):
    def __init__(self, name: str, args: EnvironmentArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(type_token("index", "Environment"), name, None, opts)
        config, facts = args.config, args.facts
        self._facts = facts
        tags, protect = config.all_tags, config.protect_resources
        self.config = config

        self.log_key = (
            log_encryption_key(child(name, "logs-key"), facts=facts, tags=tags, protect=protect, parent=self)
            if config.logs.kms
            else None
        )
        log_key_arn = self.log_key.arn if self.log_key else None

        self.network = Network(
            child(name, "network"),
            NetworkArgs(
                network=config.network,
                environment=config.environment,
                zones=facts.zones,
                region=facts.region,
                endpoints=resolve_endpoints(config),
                tags=tags,
                log_kms_key_arn=log_key_arn,
                protect=protect,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.registry = Registry(
            child(name, "registry"),
            RegistryArgs(
                registry=config.registry,
                environment=config.environment,
                account_id=facts.account_id,
                partition=facts.partition,
                tags=tags,
                protect=protect,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.cluster = Cluster(
            child(name, "cluster"),
            ClusterArgs(
                cluster=config.cluster,
                environment=config.environment,
                facts=facts,
                vpc_id=self.network.vpc_id,
                private_subnet_ids=self.network.private_subnet_ids,
                exec_log_retention_days=config.exec_log_retention,
                log_kms_key_arn=log_key_arn,
                tags=tags,
                protect=protect,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.storage = Storage(
            child(name, "storage"),
            StorageArgs(
                storage=config.storage,
                access_points=access_point_requests(config),
                environment=config.environment,
                vpc_id=self.network.vpc_id,
                private_subnet_ids=self.network.private_subnet_ids,
                tags=tags,
                protect=protect,
                account_id=facts.account_id,
                partition=facts.partition,
            ),
            pulumi.ResourceOptions(parent=self),
        ) if config.storage.efs else None
        self.load_balancer = self._load_balancer(name, config, tags)
        self.alarm_topic_arn: pulumi.Input[str] = config.alarms.notify or notification_topic(
            child(name, "alarms"), environment=config.environment, facts=facts, tags=tags, parent=self
        ).arn
        self.alarms = {key: self._alarms(name, key, config) for key in config.services if config.alarms_for(key)}
        # Jobs first: a service named in a job's `before` depends on the job (run_before below).
        self.jobs = {key: self._job(name, key, config, facts, log_key_arn) for key in config.jobs}
        self.services = self._services(name, config, facts, log_key_arn)
        # A job's connects_to opens the same rules as a service's (its group to the service's).
        rules = connect_services({**self.services, **self.jobs}, {**config.services, **config.jobs})  # type: ignore[dict-item]
        self.before_runs = {
            key: job.run_before(config.jobs[key].before, waits_for=[*rules.get(key, []), self.cluster.capacity_providers])
            for key, job in self.jobs.items()
            if config.jobs[key].before
        }
        self.ci_role = self._ci_role(name, config, facts)
        self.register_outputs({})

    def _services(self, name: str, config: EnvironmentConfig, facts: PlatformFacts, log_key_arn: Any) -> dict[str, Service]:
        """The services, with a turn of the event loop after every SERVICES_PER_TURN of them
        (let_registrations_run), those that roll out after a `before:` job last and with no
        turn after them: such a service depends on the job's component, whose run (a child) is
        created only once every service exists, and a dependency on a component stands for the
        children it has when the dependent registers. Returned in the config's order."""
        waiting = [key for key in config.services if self._before_jobs(key, config)]
        built: dict[str, Service] = {}
        for key in (key for key in config.services if key not in waiting):
            built[key] = self._service(name, key, config, facts, log_key_arn)
            if len(built) % SERVICES_PER_TURN == 0:
                let_registrations_run()
        for key in waiting:
            built[key] = self._service(name, key, config, facts, log_key_arn)
        return {key: built[key] for key in config.services}

    def _before_jobs(self, key: str, config: EnvironmentConfig) -> tuple[Job, ...]:
        """The jobs whose run a service rolls out after (`before: [key]`)."""
        return tuple(self.jobs[j] for j in sorted(config.jobs) if key in config.jobs[j].before)

    def _load_balancer(self, name: str, config: EnvironmentConfig, tags: dict[str, str]) -> Optional[LoadBalancer]:
        if not config.exposed_services:
            return None
        return LoadBalancer(
            child(name, "alb"),
            LoadBalancerArgs(
                load_balancer=config.load_balancer,
                environment=config.environment,
                vpc_id=self.network.vpc_id,
                vpc_cidr=self.network.vpc_cidr,
                public_subnet_ids=self.network.public_subnet_ids,
                private_subnet_ids=self.network.private_subnet_ids,
                routes=config.exposed_services,
                deletion_protection=config.load_balancer_deletion_protection,
                tags=tags,
                account_id=self._facts.account_id,
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _service(
        self, name: str, key: str, config: EnvironmentConfig, facts: PlatformFacts, log_key_arn: Any
    ) -> Service:
        service = config.services[key]
        image = self._image(service.image)
        lb = self.load_balancer if service.expose is not None else None
        return Service(
            child(name, key),
            ServiceArgs(
                key=key,
                service=service,
                environment=config.environment,
                facts=facts,
                strategy=tuple(config.strategy_for(key)),
                uses_ec2=config.uses_ec2(key),
                architecture=config.architecture_for(key),
                deploys=config.deploys,
                exec_enabled=config.cluster.exec.enabled,
                log_retention_days=config.log_retention_for(key),
                log_kms_key_arn=log_key_arn,
                image=image,
                sidecar_images={name: self._image(sidecar.image) for name, sidecar in service.sidecars.items()},
                cluster_arn=self.cluster.cluster_arn,
                cluster_name=self.cluster.cluster_name,
                capacity_provider_names=self.cluster.capacity_provider_names,
                capacity_providers=self.cluster.capacity_providers,
                vpc_id=self.network.vpc_id,
                private_subnet_ids=self.network.private_subnet_ids,
                load_balancer_security_group_id=lb.security_group_id if lb else None,
                target_group_arn=lb.target_group_arns[key] if lb else None,
                listener_rule=lb.listener_rules[key] if lb else None,
                request_count_label=(
                    pulumi.Output.concat(lb.arn_suffix, "/", lb.target_group_arn_suffixes[key]) if lb else None
                ),
                exec_kms_key_arn=self.cluster.exec_kms_key_arn,
                exec_log_group_name=self.cluster.exec_log_group_name,
                tags=config.service_tags(key),
                protect=config.protect_resources,
                efs=self._efs(key),
                runs_after=self._before_jobs(key, config),
                **self._aws_egress(config),
                **self._delivery(key, config),
                service_connect_namespace_arn=(
                    self.cluster.service_connect_namespace.arn  # type: ignore[union-attr]
                    if service_connect.has_proxy(config, key)
                    else None
                ),
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _delivery(self, key: str, config: EnvironmentConfig) -> dict[str, Any]:
        """A native deployment's alternate target group, rules and role; the rollback alarms."""
        deployment, lb, alarms = config.services[key].deployment, self.load_balancer, self.alarms.get(key)
        native = None
        if deployment.native and lb is not None and key in lb.alternate_target_groups:
            native = NativeLoadBalancing(
                alternate_target_group_arn=lb.alternate_target_groups[key].arn,
                production_listener_rule_arn=lb.listener_rules[key].arn,
                test_listener_rule_arn=lb.test_listener_rules[key].arn,
                infrastructure_role_arn=lb.infrastructure_role_arn,  # type: ignore[arg-type]
            )
        return {
            "native_load_balancing": native,
            "rollback_alarm_names": tuple(alarms.alarm_names.values()) if alarms and deployment.rollback_alarms else (),
            "alarms": (alarms,) if alarms else (),
        }

    def _alarms(self, name: str, key: str, config: EnvironmentConfig) -> ServiceAlarms:
        lb = self.load_balancer if config.services[key].expose is not None else None
        return ServiceAlarms(
            child(name, key, "alarms"),
            ServiceAlarmsArgs(
                key=key,
                environment=config.environment,
                thresholds=config.alarms_for(key),
                cluster_name=self.cluster.cluster_name,
                topic_arn=self.alarm_topic_arn,
                tags=config.service_tags(key),
                load_balancer_arn_suffix=lb.arn_suffix if lb else None,
                # A native deployment serves production from either target group.
                target_group_arn_suffixes=(
                    (lb.target_group_arn_suffixes[key], *([lb.alternate_target_group_arn_suffixes[key]] if key in lb.alternate_target_group_arn_suffixes else []))
                    if lb
                    else ()
                ),
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _ci_role(self, name: str, config: EnvironmentConfig, facts: PlatformFacts) -> Optional[CiRole]:
        """`cicd.github`: the deploy role of the application pipeline, scoped to this environment."""
        github = config.cicd.github
        if github is None:
            return None
        return CiRole(
            child(name, "ci"),
            CiRoleArgs(
                github=github,
                environment=config.environment,
                facts=facts,
                repository_arns=[
                    repository_arn(repository_name(config.environment, key), facts) for key in sorted(config.registry.repositories)
                ],
                task_definition_families=[family(config.environment, key) for key in sorted(config.services)],
                cluster_name=self.cluster.cluster_name,
                service_names=sorted(config.services),
                pass_role_arns=[
                    arn
                    for key in sorted(self.services)
                    for arn in (self.services[key].execution_role_arn, self.services[key].task_role_arn)
                    if arn is not None
                ],
                tags=config.all_tags,
                **self._pipeline_jobs(config),
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _pipeline_jobs(self, config: EnvironmentConfig) -> dict[str, Any]:
        """The one-off jobs app-deploy.yml runs before a deploy: the deploy role may run them."""
        keys = sorted({job for jobs in pipeline_jobs(config).values() for job in jobs})
        return {
            "cluster_arn": self.cluster.cluster_arn,
            "job_families": [family(config.environment, key) for key in keys],
            "job_pass_role_arns": [
                arn for key in keys for arn in (self.jobs[key].execution_role_arn, self.jobs[key].task_role_arn) if arn is not None
            ],
        }

    def _job(self, name: str, key: str, config: EnvironmentConfig, facts: PlatformFacts, log_key_arn: Any) -> Job:
        job = config.jobs[key]
        return Job(
            child(name, key),
            JobArgs(
                key=key,
                job=job,
                environment=config.environment,
                facts=facts,
                strategy=tuple(config.strategy_for(key)),
                uses_ec2=config.uses_ec2(key),
                architecture=config.architecture_for(key),
                exec_enabled=False,  # a job's task is not exec'd into: run it again with other settings
                log_retention_days=config.log_retention_for(key),
                log_kms_key_arn=log_key_arn,
                image=self._image(job.image),
                sidecar_images={n: self._image(sidecar.image) for n, sidecar in job.sidecars.items()},
                cluster_arn=self.cluster.cluster_arn,
                cluster_name=self.cluster.cluster_name,
                capacity_provider_names=self.cluster.capacity_provider_names,
                vpc_id=self.network.vpc_id,
                private_subnet_ids=self.network.private_subnet_ids,
                exec_kms_key_arn=None,
                tags={**config.all_tags, "job": key},
                protect=config.protect_resources,
                efs=self._efs(key),
                **self._aws_egress(config),
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _efs(self, key: str) -> dict[str, EfsMount]:
        """The workload's EFS volumes: volume -> its file system and access point."""
        mounts = self.storage.mounts if self.storage is not None else {}
        return {volume: mount for (workload, volume), mount in mounts.items() if workload == key}

    def _aws_egress(self, config: EnvironmentConfig) -> dict[str, Any]:
        """Without NAT, tasks reach AWS only through the endpoints, so their HTTPS egress is
        narrowed to the endpoint security group and S3's prefix list instead of anywhere."""
        if config.network.nat != "none":
            return {"aws_egress": "nat"}
        return {
            "aws_egress": "endpoints",
            "endpoint_security_group_id": self.network.endpoint_security_group_id,
            "s3_prefix_list_id": self.network.s3_prefix_list_id,
            "dynamodb_prefix_list_id": self.network.dynamodb_prefix_list_id,
        }

    def _image(self, image: Image) -> pulumi.Input[str]:
        """The full image reference: the configured uri, or the repository URL with the tag."""
        if image.uri is not None:
            return image.uri
        return pulumi.Output.concat(self.registry.repository_urls[image.repository], ":", image.tag)


def create_environment(config: EnvironmentConfig) -> Environment:
    """Looks up the account facts once, then registers the whole environment."""
    facts = lookup_facts(config)
    return Environment(config.environment, EnvironmentArgs(config=config, facts=facts))


def stack_outputs(environment: Environment) -> dict[str, Any]:
    lb = environment.load_balancer
    ci = {"ci_role_arn": environment.ci_role.role_arn} if environment.ci_role else {}
    return {
        **ci,
        "alarm_topic_arn": environment.alarm_topic_arn,
        "vpc_id": environment.network.vpc_id,
        "cluster_name": environment.cluster.cluster_name,
        "repository_urls": environment.registry.repository_urls,
        # What `python3 run.py task ENV JOB` needs to print the exact `aws ecs run-task` command.
        "jobs": {
            key: {
                "task_family": job.task_family,
                "security_group_id": job.security_group_id,
                "subnet_ids": job.subnet_ids,
                "capacity": job.capacity,
            }
            for key, job in environment.jobs.items()
        },
        "service_urls": {
            key: pulumi.Output.concat(lb.url, (svc.expose.paths or ["/"])[0].rstrip("*"))
            for key, svc in environment.config.exposed_services.items()
        }
        if lb
        else {},
    }
