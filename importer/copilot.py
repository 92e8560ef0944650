"""An AWS Copilot application -> one environment file per Copilot environment.

The source of truth for Copilot's fields and defaults is its manifest reference (the copilot-cli
repository, site/content/docs/manifest/*.en.md and site/content/docs/include/*.en.md, as of the
last release before end of support); each mapping below names the field it reads. Everything
that has an equivalent is carried over; everything else, and every guess, goes into the report.

Data flow: manifests (importer.manifest) -> `import_workspace` -> per environment a plain dict in
the shape of configs/<env>.yaml (validated by the same loader as a hand-written file) + report.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from importer.manifest import Manifest, ManifestError, load_manifest

# Copilot's defaults (manifest reference: task-size.en.md, lb-web-service.en.md "count").
DEFAULT_CPU, DEFAULT_MEMORY, DEFAULT_COUNT = 256, 512, 1
# Copilot's default VPC (environment.en.md "network.vpc.cidr") spans two zones.
DEFAULT_CIDR, DEFAULT_ZONES = "10.0.0.0/16", 2
# The platform requires a non-root user for every container; Copilot has no such field, so the
# importer picks one and says so (the image must be able to run as it).
DEFAULT_USER = "10001"
WORKLOAD_TYPES = ("Load Balanced Web Service", "Backend Service", "Worker Service", "Scheduled Job")
SERVICE_TYPES = WORKLOAD_TYPES[:3]
NOT_SUPPORTED_TYPES = {
    "Request-Driven Web Service": "App Runner services have no ECS equivalent here",
    "Static Site": "S3 + CloudFront sites are outside an ECS platform",
}
TIERS = ("production", "staging", "development")

# scheduled-job.en.md "on.schedule". (The reference's table prints "cron(0 * * * ? *)" for
# @yearly, a typo: the prose says "at midnight on January 1st".)
SCHEDULE_SHORTCUTS = {
    "@yearly": "cron(0 0 1 1 ? *)",
    "@annually": "cron(0 0 1 1 ? *)",
    "@monthly": "cron(0 0 1 * ? *)",
    "@weekly": "cron(0 0 ? * 1 *)",
    "@daily": "cron(0 0 * * ? *)",
    "@midnight": "cron(0 0 * * ? *)",
    "@hourly": "cron(0 * * * ? *)",
}
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")  # ms before m: "250ms"


def platform_has(model: str, key: str) -> bool:
    """Whether the environment model offers `key` on the class `model` (configs/model.py): the
    importer writes only what the platform builds, and reports the rest as not carried."""
    from configs import model as models

    return key in getattr(models, model).model_fields


@dataclass(frozen=True)
class ReportEntry:
    where: str  # manifest:line
    field: str  # the Copilot field
    kind: str  # not-carried | guess | changed | action
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.text}"


@dataclass
class Report:
    entries: list[ReportEntry] = field(default_factory=list)

    def add(self, manifest: Manifest, path: tuple, kind: str, text: str) -> None:
        self.entries.append(ReportEntry(manifest.where(*path), ".".join(map(str, path)) or "(manifest)", kind, text))

    def render(self, written: list[str], stale_usage: tuple[str, ...] | list[str] = ()) -> str:
        titles = {
            "action": "Do before the first `pulumi up`",
            "not-carried": "Not carried over",
            "guess": "Guesses (check them)",
            "changed": "Changed to the platform's secure value",
        }
        out = ["Imported from AWS Copilot.", "", "Written:"] + [f"  {path}" for path in written]
        if stale_usage:
            # A usage file describes the environment that was there before (its services' names).
            out += ["", "Kept, but written for the environment this import replaced (check or remove them):"]
            out += [f"  {path}" for path in stale_usage]
        for kind, title in titles.items():
            chosen = sorted({e for e in self.entries if e.kind == kind}, key=lambda e: (e.where.split(":")[0], e.field, e.text))
            if chosen:
                out += ["", f"{title}:"] + [f"  - {entry}" for entry in chosen]
        return "\n".join(out)


@dataclass(frozen=True)
class ImportOptions:
    account: str
    region: str
    tag: str = "initial"
    tiers: dict[str, str] = field(default_factory=dict)  # Copilot environment -> tier
    queues: dict[str, str] = field(default_factory=dict)  # worker service -> SQS queue ARN
    required_tags: tuple[str, ...] = ()  # governance's required tags (`env` is the platform's own)


@dataclass
class Workspace:
    application: str
    environments: dict[str, Manifest]
    workloads: dict[str, Manifest]
    other: list[Manifest]


# ---- reading --------------------------------------------------------------------------------


def read_workspace(root: Path) -> Workspace:
    """`root` holds copilot/ (or is it). Refuses what cannot be imported, with file:line."""
    copilot = root if root.name == "copilot" else root / "copilot"
    shown_base = copilot.parent
    workspace_file = copilot / ".workspace"
    if not workspace_file.is_file():
        raise ManifestError(f"{copilot}: no copilot/.workspace: not a Copilot workspace")
    workspace = load_manifest(workspace_file, workspace_file.relative_to(shown_base))
    application = workspace.data.get("application")
    if not isinstance(application, str) or not application:
        raise ManifestError(f"{workspace.where('application')}: application: the workspace names no application")
    environments = {}
    for path in sorted((copilot / "environments").glob("*/manifest.yml")):
        manifest = load_manifest(path, path.relative_to(shown_base))
        if manifest.data.get("type") != "Environment":
            raise ManifestError(f"{manifest.where('type')}: type: {manifest.data.get('type')!r} under environments/; expected 'Environment'")
        environments[str(manifest.data.get("name") or path.parent.name)] = manifest
    if not environments:
        raise ManifestError(f"{copilot}/environments: no environment manifest (environments/<name>/manifest.yml)")
    workloads, other = {}, []
    for path in sorted(copilot.glob("*/manifest.yml")):
        if path.parent.name == "environments":
            continue
        manifest = load_manifest(path, path.relative_to(shown_base))
        kind = manifest.data.get("type")
        if kind in WORKLOAD_TYPES:
            workloads[str(manifest.data.get("name") or path.parent.name)] = manifest
        elif kind in NOT_SUPPORTED_TYPES:
            other.append(manifest)
        else:
            known = ", ".join(repr(t) for t in (*WORKLOAD_TYPES, *NOT_SUPPORTED_TYPES))
            raise ManifestError(f"{manifest.where('type')}: type: unknown manifest type {kind!r}; Copilot's types are {known}")
    return Workspace(str(application), environments, workloads, other)


# ---- small conversions ------------------------------------------------------------------------


def seconds(value: Any) -> Optional[int]:
    """A Go duration ("1h30m", "30s", "2m") or a number of seconds, as whole seconds."""
    exact = exact_seconds(value)
    return None if exact is None else int(exact)


def exact_seconds(value: Any) -> Optional[float]:
    """A Go duration or a number of seconds, with its fraction ("250ms" -> 0.25)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    parts = DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m or 1h")
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts)


def backlog_per_task(queue_delay: dict[str, Any]) -> int:
    """worker-service.en.md count.queue_delay: "the acceptable backlog per task is calculated by
    dividing acceptable_latency by msg_processing_time" (whole messages, at least 1)."""
    latency = exact_seconds(queue_delay.get("acceptable_latency"))
    processing = exact_seconds(queue_delay.get("msg_processing_time"))
    if not latency or not processing:
        raise ValueError("count.queue_delay needs acceptable_latency and msg_processing_time, e.g. 10m and 250ms")
    return max(1, math.floor(round(latency / processing, 9)))


def schedule_expression(value: str) -> str:
    """on.schedule -> an EventBridge Scheduler expression (scheduled-job.en.md)."""
    text = value.strip()
    if text in SCHEDULE_SHORTCUTS:
        return SCHEDULE_SHORTCUTS[text]
    if text.startswith("@every "):
        return rate_expression(seconds(text[len("@every "):]) or 0)
    if text.startswith(("rate(", "cron(")):
        return text
    fields = text.split()
    if len(fields) == 5:
        # A Unix cron (minute hour day month weekday). EventBridge takes six fields and one of
        # day-of-month / day-of-week must be "?".
        minute, hour, day, month, weekday = fields
        if weekday == "*":
            weekday = "?"
        elif day == "*":
            day = "?"
        return f"cron({minute} {hour} {day} {month} {weekday} *)"
    raise ValueError(f"{text!r} is not a schedule Copilot accepts (@daily, @every 1h, rate(...), cron)")


def rate_expression(total_seconds: int) -> str:
    minutes = max(1, math.ceil(total_seconds / 60))
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"rate({days} day{'s' if days > 1 else ''})"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"rate({hours} hour{'s' if hours > 1 else ''})"
    return f"rate({minutes} minute{'s' if minutes > 1 else ''})"


def with_overrides(manifest: Manifest, environment: str) -> dict[str, Any]:
    """The workload's manifest with `environments.<env>` applied (overrides-intro.md: maps merge
    key by key, lists and scalars replace)."""
    data = copy.deepcopy(manifest.data)
    overrides = data.pop("environments", None) or {}
    return merge(data, overrides.get(environment) or {})


def merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        result = dict(base)
        for key, value in override.items():
            result[key] = merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return result
    return copy.deepcopy(override)


# ---- the environment manifest ---------------------------------------------------------------


def network_section(env: Manifest, tier: str, report: Report) -> dict[str, Any]:
    """environment.en.md "network.vpc": cidr and the subnets' zones. Copilot's own subnet CIDRs
    are not kept: the platform carves private /20s and public /24s by zone letter."""
    vpc = (env.data.get("network") or {}).get("vpc") or {}
    if "id" in vpc:
        report.add(env, ("network", "vpc", "id"), "not-carried",
                   f"an imported VPC ({vpc['id']}) is not reused: the stack creates its own VPC; move data stores or peer the networks")
    subnets = vpc.get("subnets") or {}
    zones = sorted({s["az"] for kind in ("public", "private") for s in subnets.get(kind) or [] if isinstance(s, dict) and s.get("az")})
    if subnets:
        report.add(env, ("network", "vpc", "subnets"), "changed",
                   "subnet CIDRs are laid out by the platform (private /20 from the start of the range, public /24 from the end); only their zones are kept")
    network: dict[str, Any] = {"cidr": str(vpc.get("cidr") or DEFAULT_CIDR), "availability_zones": zones or DEFAULT_ZONES}
    # Copilot places tasks in public subnets with public IPs unless `placement: private`; the
    # platform always runs them in private subnets, so they need NAT for the internet.
    network["nat"] = "per_az" if tier == "production" else "single"
    report.add(env, ("network",), "guess",
               f"tasks run in private subnets; nat: {network['nat']} gives them the internet (use `nat: none` if they only call AWS APIs)")
    return network


def load_balancer_section(env: Manifest, tier: str, application: str, report: Report) -> dict[str, Any]:
    http = env.data.get("http") or {}
    public = http.get("public") or {}
    certificates = public.get("certificates") or []
    section: dict[str, Any] = {"internal": False}
    if certificates:
        section["certificate_arn"] = str(certificates[0])
        if len(certificates) > 1:
            report.add(env, ("http", "public", "certificates"), "not-carried",
                       f"{len(certificates) - 1} more certificate(s): the listener takes one (add others as SNI certificates by hand)")
    elif tier == "production":
        report.add(env, ("http", "public"), "action",
                   "no certificate: production-tier rules require HTTPS; set load_balancer.certificate_arn before the first `pulumi up`")
    else:
        report.add(env, ("http", "public"), "not-carried", f"no certificate: the load balancer serves plain HTTP ({tier} tier)")
    if tier == "production":
        # aws-lb-access-logs is mandatory in production; Copilot kept no access logs. The bucket
        # (with the ELB log-delivery policy) must exist before the first `pulumi up`.
        bucket = f"{application}-{env.data.get('name') or 'env'}-alb-access-logs"
        section["access_logs"] = {"bucket": bucket}
        report.add(env, ("http", "public"), "action",
                   f"access logs go to the bucket {bucket} (production tier): create it with the ELB log-delivery bucket policy, or name yours")
    if public.get("ingress"):
        report.add(env, ("http", "public", "ingress"), "not-carried", "CDN/source-IP ingress: set load_balancer.ingress_cidrs")
    if http.get("private"):
        report.add(env, ("http", "private"), "not-carried", "a second, internal load balancer: services with `http` on a Backend Service are not exposed")
    return section


def container_insights(env: Manifest, report: Report) -> str:
    setting = (env.data.get("observability") or {}).get("container_insights")
    if setting is True or setting == "enhanced":
        return "enhanced" if setting == "enhanced" else "enabled"
    report.add(env, ("observability", "container_insights"), "changed",
               "Container Insights is on (a platform default the pack enforces); Copilot had it off")
    return "enabled"


# ---- workloads ------------------------------------------------------------------------------


class Converter:
    """One Copilot environment: its file, built from the environment and workload manifests."""

    def __init__(self, workspace: Workspace, environment: str, options: ImportOptions, report: Report):
        self.workspace, self.environment, self.options, self.report = workspace, environment, options, report
        self.tier = options.tiers.get(environment, "production")
        self.repositories: dict[str, dict] = {}
        self.file_systems: dict[str, dict] = {}
        self.exec_enabled = False
        self.service_connect = False
        self.priority = 0

    def config(self) -> dict[str, Any]:
        env = self.workspace.environments[self.environment]
        services, jobs = {}, {}
        for name in sorted(self.workspace.workloads):
            manifest = self.workspace.workloads[name].for_environment(self.environment)
            data = with_overrides(manifest, self.environment)
            if manifest.data["type"] == "Scheduled Job":
                jobs[name] = in_reading_order(self.job(name, manifest, data))
            else:
                services[name] = in_reading_order(self.service(name, manifest, data))
        for manifest in self.workspace.other:
            self.report.add(manifest, ("type",), "not-carried", NOT_SUPPORTED_TYPES[manifest.data["type"]])
        config: dict[str, Any] = {
            "environment": self.environment,
            "aws": {"region": self.options.region, "account_id": self.options.account},
            "tags": self.tags(env),
        }
        if self.repositories:
            # Copilot builds these images; after the import a CI pipeline pushes them.
            config["deploys"] = "ci"
        config["network"] = network_section(env, self.tier, self.report)
        if self.repositories:
            config["registry"] = {"repositories": self.repositories}
        config["cluster"] = self.cluster(env)
        if self.file_systems:
            config["storage"] = {"efs": self.file_systems}
        if any("expose" in s for s in services.values()):
            config["load_balancer"] = load_balancer_section(env, self.tier, self.workspace.application, self.report)
        config["services"] = services
        if jobs:
            config["jobs"] = jobs
        self.unsupported_environment_fields(env)
        return config

    def tags(self, env: Manifest) -> dict[str, str]:
        """Copilot tags resources with its application; governance may require more tags."""
        tags = {"application": self.workspace.application}
        for tag in self.options.required_tags:
            if tag not in tags and tag != "env":
                tags[tag] = self.workspace.application
                self.report.add(env, ("name",), "guess", f"the required tag {tag!r} is set to the application's name")
        return tags

    def cluster(self, env: Manifest) -> dict[str, Any]:
        cluster: dict[str, Any] = {"container_insights": container_insights(env, self.report)}
        if self.exec_enabled:
            cluster["exec"] = {"enabled": True}
        if self.service_connect and platform_has("Cluster", "service_connect"):
            # network.en.md "connect": Copilot's namespace is <env>.<app>.local.
            cluster["service_connect"] = {"namespace": f"{self.environment}.{self.workspace.application}.local"}
        return cluster

    def unsupported_environment_fields(self, env: Manifest) -> None:
        for key, why in (("cdn", "CloudFront is not part of the platform"), ("network.vpc.flow_logs", "flow logs are always on"),
                         ("addons", "addons are CloudFormation templates: rebuild them as Pulumi resources")):
            head, *rest = key.split(".")
            value = env.data.get(head)
            for part in rest:
                value = value.get(part) if isinstance(value, dict) else None
            if value:
                self.report.add(env, tuple(key.split(".")), "not-carried" if key != "network.vpc.flow_logs" else "changed", why)

    # ---- what services and jobs share (the task) ----

    def task(self, name: str, manifest: Manifest, data: dict[str, Any]) -> dict[str, Any]:
        task: dict[str, Any] = {"image": self.image(name, manifest, data)}
        task["cpu"] = int(data.get("cpu") or DEFAULT_CPU)
        task["memory"] = int(data.get("memory") or DEFAULT_MEMORY)
        architecture = self.architecture(manifest, data)
        if architecture:
            task["architecture"] = architecture
        task["user"] = DEFAULT_USER
        self.report.add(manifest, ("image",), "guess",
                        f"containers run as uid {DEFAULT_USER} (the platform refuses root; Copilot has no user field): the image must allow it")
        if data.get("command"):
            task["command"] = data["command"] if isinstance(data["command"], list) else str(data["command"]).split()
        if data.get("entrypoint"):
            self.report.add(manifest, ("entrypoint",), "not-carried", "entrypoint overrides are not supported; bake it into the image")
        if data.get("variables"):
            task["environment"] = {str(k): "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in data["variables"].items()}
        if data.get("env_file"):
            self.report.add(manifest, ("env_file",), "not-carried", "env files in S3: copy their variables into `environment`")
        secrets = self.secrets(manifest, data.get("secrets") or {}, ("secrets",))
        if secrets:
            task["secrets"] = secrets
        if data.get("exec"):
            self.exec_enabled = True
        self.storage(name, manifest, data, task)
        sidecars = self.sidecars(manifest, data.get("sidecars") or {})
        if sidecars:
            task["sidecars"] = sidecars
        for key, why in (("logging", "FireLens log routing: logs go to CloudWatch Logs"), ("taskdef_overrides", "raw task-definition overrides"),
                         ("publish", "SNS topics are Copilot-created resources: create them and grant `permissions`"),
                         ("observability", "X-Ray tracing sidecar: add it under `sidecars`")):
            if data.get(key):
                self.report.add(manifest, (key,), "not-carried", why)
        return task

    def image(self, name: str, manifest: Manifest, data: dict[str, Any]) -> dict[str, Any]:
        image = data.get("image") or {}
        if image.get("build"):
            # An image Copilot builds becomes a repository of the registry; CI pushes it.
            self.repositories[name] = {}
            self.report.add(manifest, ("image", "build"), "action",
                            f"push the image to the {name} repository as tag {self.options.tag} before its service can start")
            return {"repository": name, "tag": self.options.tag}
        location = str(image.get("location") or "")
        if not location:
            raise ManifestError(f"{manifest.where('image')}: image: neither build nor location")
        if ":" not in location.rsplit("/", 1)[-1] and "@" not in location:
            location += f":{self.options.tag}"
            self.report.add(manifest, ("image", "location"), "changed", f"the untagged image is pinned to {self.options.tag}")
        elif location.endswith(":latest"):
            location = location[: -len("latest")] + self.options.tag
            self.report.add(manifest, ("image", "location"), "changed", f"`latest` is refused (not immutable): pinned to {self.options.tag}")
        return {"uri": location}

    def architecture(self, manifest: Manifest, data: dict[str, Any]) -> Optional[str]:
        platform = data.get("platform")
        if platform is None:
            return None
        text = platform if isinstance(platform, str) else f"{platform.get('osfamily', 'linux')}/{platform.get('architecture', 'x86_64')}"
        os_family, _, arch = text.lower().partition("/")
        if os_family != "linux":
            raise ManifestError(f"{manifest.where('platform')}: platform: {text!r}: only Linux tasks are supported")
        return {"arm64": "arm64", "arm": "arm64", "x86_64": "x86_64", "amd64": "x86_64"}.get(arch, "x86_64")

    def secrets(self, manifest: Manifest, secrets: dict, path: tuple) -> dict[str, Any]:
        """secrets.en.md: `NAME: ssm-parameter`, `{secretsmanager: name[:json-key::]}`, `{from_cfn: ...}`."""
        result = {}
        for variable, value in secrets.items():
            if isinstance(value, str):
                result[variable] = {"parameter": value if value.startswith(("/", "arn:")) else self.parameter_arn(value)}
            elif isinstance(value, dict) and "secretsmanager" in value:
                secret_name, _, rest = str(value["secretsmanager"]).partition(":")
                ref: dict[str, Any] = {"secret": secret_name if secret_name.startswith("arn:") else
                                       f"arn:aws:secretsmanager:{self.options.region}:{self.options.account}:secret:{secret_name}"}
                key = rest.split(":")[0] if rest else ""
                if key:
                    ref["key"] = key
                result[variable] = ref
            else:
                self.report.add(manifest, (*path, variable), "not-carried", "a secret from another stack's output (from_cfn): reference its ARN")
        return result

    def parameter_arn(self, name: str) -> str:
        return f"arn:aws:ssm:{self.options.region}:{self.options.account}:parameter/{name}"

    def storage(self, name: str, manifest: Manifest, data: dict[str, Any], task: dict[str, Any]) -> None:
        """storage.en.md: ephemeral, readonly_fs, volumes (EFS)."""
        storage = data.get("storage") or {}
        if storage.get("ephemeral"):
            task["ephemeral_storage"] = int(storage["ephemeral"])
        volumes: dict[str, Any] = {}
        if not storage.get("readonly_fs"):
            # Copilot's root filesystem is writable unless readonly_fs; the platform's is read-only.
            volumes["tmp"] = {"path": "/tmp"}
            self.report.add(manifest, ("storage", "readonly_fs"), "changed",
                            "the root filesystem is read-only (pack rule); /tmp is a writable scratch volume; declare other writable paths under `volumes`")
        for volume, spec in (storage.get("volumes") or {}).items():
            efs = (spec or {}).get("efs")
            if not efs:
                volumes[volume] = {"path": spec["path"]}
                continue
            if not platform_has("Volume", "efs"):
                self.report.add(manifest, ("storage", "volumes", volume, "efs"), "not-carried",
                                f"EFS volumes are not built by the platform yet: {spec['path']} is not mounted (its data stays in Copilot's file system)")
                continue
            file_system = f"{name}-{volume}" if efs is True or isinstance(efs, dict) and efs.get("uid") else volume
            if isinstance(efs, dict) and efs.get("id"):
                self.report.add(manifest, ("storage", "volumes", volume, "efs", "id"), "action",
                                f"{efs['id']} is in Copilot's VPC and cannot be mounted from the new one: storage.efs.{file_system} is a new, empty "
                                "file system; copy the data (for example with AWS DataSync) before switching over")
            else:
                self.report.add(manifest, ("storage", "volumes", volume, "efs"), "action",
                                f"Copilot's managed file system becomes storage.efs.{file_system}, a new, empty file system: copy the data (AWS DataSync)")
            self.file_systems[file_system] = {}
            entry: dict[str, Any] = {"path": spec["path"], "efs": {"file_system": file_system}}
            root = efs.get("root_dir") if isinstance(efs, dict) else None
            if root:
                entry["efs"]["root"] = root
            entry["read_only"] = bool(spec.get("read_only", True))  # Copilot's default: read-only
            volumes[volume] = entry
        if volumes:
            task["volumes"] = volumes

    def sidecars(self, manifest: Manifest, sidecars: dict) -> dict[str, Any]:
        """sidecar-config.en.md: image, port, essential, depends_on, variables, secrets."""
        result = {}
        for sidecar, spec in sidecars.items():
            spec = spec or {}
            entry: dict[str, Any] = {"image": {"uri": str(spec.get("image"))}, "cpu": 128, "memory": 256, "user": DEFAULT_USER}
            self.report.add(manifest, ("sidecars", sidecar), "guess",
                            "128 CPU units / 256 MiB reserved for the sidecar inside the task size (Copilot shares the task without reservations)")
            if spec.get("port"):
                entry["port"] = int(str(spec["port"]).split("/")[0])
                self.privileged_port(manifest, ("sidecars", sidecar, "port"), entry["port"])
            if "essential" in spec:
                entry["essential"] = bool(spec["essential"])
            if spec.get("depends_on"):
                entry["depends_on"] = {str(k): str(v).upper() for k, v in spec["depends_on"].items()}
            if spec.get("variables"):
                entry["environment"] = {str(k): str(v) for k, v in spec["variables"].items()}
            secrets = self.secrets(manifest, spec.get("secrets") or {}, ("sidecars", sidecar, "secrets"))
            if secrets:
                entry["secrets"] = secrets
            if spec.get("mount_points"):
                self.report.add(manifest, ("sidecars", sidecar, "mount_points"), "not-carried", "sidecars share the task's volumes")
            result[sidecar] = entry
        return result

    def privileged_port(self, manifest: Manifest, path: tuple, port: int) -> None:
        if port < 1024:
            self.report.add(manifest, path, "action",
                            f"port {port}: a non-root container with every capability dropped cannot listen below 1024; "
                            "make the image listen on a port above 1024 and change it here")

    # ---- services ----

    def service(self, name: str, manifest: Manifest, data: dict[str, Any]) -> dict[str, Any]:
        service = self.task(name, manifest, data)
        image = data.get("image") or {}
        if image.get("port"):
            service["port"] = int(image["port"])
            self.privileged_port(manifest, ("image", "port"), service["port"])
        kind = manifest.data["type"]
        http = data.get("http")
        if kind == "Load Balanced Web Service" and http is not False:
            self.expose(manifest, http or {}, service)
        elif kind == "Backend Service" and http:
            self.report.add(manifest, ("http",), "not-carried", "an internal load balancer for a Backend Service: it is reached through Service Connect")
        if image.get("healthcheck"):
            self.container_health_check(manifest, image["healthcheck"], service)
        network = data.get("network") or {}
        if network.get("connect"):
            self.connect(name, manifest, network["connect"], service)
        placement = (network.get("vpc") or {}).get("placement")
        if placement and placement != "private":
            self.report.add(manifest, ("network", "vpc", "placement"), "changed", "tasks always run in private subnets without public IPs")
        self.count(manifest, data.get("count"), service, exposed="expose" in service)
        if kind == "Worker Service":
            self.worker(name, manifest, data, service)
        self.deployment(manifest, data.get("deployment") or {}, service)
        return service

    def connect(self, name: str, manifest: Manifest, connect: Any, service: dict[str, Any]) -> None:
        """network.en.md "connect" (true, or {alias}): Service Connect for this service. The
        environment gets `cluster.service_connect`; the service answers at <name>:<port>.
        Copilot let every such service call every other one (one shared security group); the
        platform opens only what `connects_to` lists, so the calls must be listed."""
        self.service_connect = True
        if not platform_has("Cluster", "service_connect"):
            self.report.add(manifest, ("network", "connect"), "not-carried",
                            "Service Connect names are not built by the platform yet: give clients `connects_to: {service: ...}` (security-group rules)")
            return
        alias = connect.get("alias") if isinstance(connect, dict) else None
        port = service.get("port")
        if alias and alias != name:
            self.report.add(manifest, ("network", "connect", "alias"), "changed",
                            f"the alias {alias!r} is not kept: Service Connect names are the service keys, so clients call "
                            f"{name}:{port if port else '<port>'} instead of {alias}")
        self.report.add(manifest, ("network", "connect"), "action",
                        f"list the services {name} calls under its `connects_to: [{{service: <key>, port: <port>}}]`: only those "
                        "are opened (Copilot's shared security group let every service call every other)")

    def expose(self, manifest: Manifest, http: dict[str, Any], service: dict[str, Any]) -> None:
        """lb-web-service.en.md "http": path, alias, healthcheck, deregistration_delay."""
        path = str(http.get("path") or "/")
        self.priority += 10
        expose: dict[str, Any] = {"priority": self.priority}
        aliases = http.get("alias")
        hosts = [a if isinstance(a, str) else a.get("name") for a in (aliases if isinstance(aliases, list) else [aliases] if aliases else [])]
        if hosts:
            expose["hosts"] = hosts
        if path != "/" or not hosts:
            expose["paths"] = ["/*"] if path == "/" else [f"/{path.strip('/')}", f"/{path.strip('/')}/*"]
        service["expose"] = expose
        check = http.get("healthcheck")
        health: dict[str, Any] = {}
        if isinstance(check, str):
            health["path"] = check
        elif isinstance(check, dict):
            for ours, theirs, convert in (("path", "path", str), ("healthy_threshold", "healthy_threshold", int),
                                          ("unhealthy_threshold", "unhealthy_threshold", int), ("interval", "interval", seconds),
                                          ("timeout", "timeout", seconds), ("grace_period", "grace_period", seconds),
                                          ("matcher", "success_codes", str)):
                if check.get(theirs) is not None:
                    health[ours] = convert(check[theirs])
            if check.get("port"):
                self.report.add(manifest, ("http", "healthcheck", "port"), "not-carried", "health checks use the service's port")
        if health:
            service["health_check"] = health
        if http.get("deregistration_delay") is not None:
            self.report.add(manifest, ("http", "deregistration_delay"), "not-carried",
                            "target groups drain for 30 s (the platform's setting for every service)")
        for key in ("stickiness", "allowed_source_ips", "additional_rules", "redirect_to_https", "target_container", "version"):
            if http.get(key):
                self.report.add(manifest, ("http", key), "not-carried", "not supported by the shared load balancer's routes")

    def container_health_check(self, manifest: Manifest, check: dict[str, Any], service: dict[str, Any]) -> None:
        health = service.setdefault("health_check", {})
        health["command"] = check.get("command")
        for ours, theirs in (("interval", "interval"), ("timeout", "timeout")):
            if check.get(theirs) is not None:
                health[ours] = seconds(check[theirs])
        if check.get("retries") is not None:
            health["unhealthy_threshold"] = max(2, int(check["retries"]))

    def count(self, manifest: Manifest, count: Any, service: dict[str, Any], *, exposed: bool) -> None:
        """lb-web-service.en.md "count": a number, or range/cpu/memory/requests, spot, spot_from."""
        if count is None or isinstance(count, int):
            service["desired_count"] = DEFAULT_COUNT if count is None else count
            return
        if "spot" in count:
            service["desired_count"] = int(count["spot"])
            self.spot_strategy(manifest, service, on_demand_base=0)
            return
        low, high, spot_from = self.range(manifest, count.get("range"))
        service["desired_count"] = low
        scaling: dict[str, Any] = {"min": low, "max": high}
        if count.get("cpu_percentage"):
            scaling["cpu"] = int(count["cpu_percentage"])
        if count.get("memory_percentage"):
            scaling["memory"] = int(count["memory_percentage"])
        if count.get("requests"):
            if exposed:
                scaling["requests_per_target"] = int(count["requests"])
            else:
                self.report.add(manifest, ("count", "requests"), "not-carried", "request-count scaling needs the service on the load balancer")
        if count.get("response_time"):
            self.report.add(manifest, ("count", "response_time"), "not-carried", "response-time scaling: use requests or cpu")
        if len(scaling) > 2 or count.get("queue_delay"):  # queue_delay: the worker's queue (worker())
            service["autoscaling"] = scaling
        else:
            self.report.add(manifest, ("count",), "guess", f"a range without a metric scales on CPU at 70%")
            service["autoscaling"] = {**scaling, "cpu": 70}
        if spot_from is not None:
            self.spot_strategy(manifest, service, on_demand_base=max(0, spot_from - 1))

    def range(self, manifest: Manifest, value: Any) -> tuple[int, int, Optional[int]]:
        if isinstance(value, dict):
            return int(value.get("min", 1)), int(value.get("max", 1)), (int(value["spot_from"]) if "spot_from" in value else None)
        match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", str(value or ""))
        if not match:
            raise ManifestError(f"{manifest.where('count', 'range')}: count.range: {value!r} is not 'min-max'")
        return int(match[1]), int(match[2]), None

    def spot_strategy(self, manifest: Manifest, service: dict[str, Any], *, on_demand_base: int) -> None:
        base = on_demand_base
        if base < 1 and self.tier == "production":
            # Fargate Spot never falls back to on-demand: the production tier keeps one task there.
            base = 1
            self.report.add(manifest, ("count",), "changed",
                            "one task stays on on-demand Fargate (production tier: Spot has no fallback, a Spot-only service can run zero tasks)")
        service["capacity"] = ([{"provider": "fargate", "base": base, "weight": 0}] if base else []) + [{"provider": "fargate_spot", "weight": 1}]

    def worker(self, name: str, manifest: Manifest, data: dict[str, Any], service: dict[str, Any]) -> None:
        """worker-service.en.md: Copilot creates the SNS subscriptions and the SQS queue itself."""
        self.report.add(manifest, ("subscribe",), "action",
                        "Copilot created this worker's SNS subscriptions and SQS queue: create the queue (and subscriptions) and pass "
                        f"`--queue {name}=<queue ARN>` to scale on its backlog; the task role gets the consume actions")
        queue = self.options.queues.get(name)
        count = data.get("count") if isinstance(data.get("count"), dict) else {}
        delay, scaling = count.get("queue_delay"), service.get("autoscaling")
        if queue is None:
            if delay and scaling is not None and len(scaling) == 2:
                self.report.add(manifest, ("count", "queue_delay"), "not-carried",
                                f"backlog scaling needs the queue: pass `--queue {name}=<queue ARN>`; until then it scales on CPU at 70%")
                scaling["cpu"] = 70
            return
        if delay and scaling is not None:
            try:
                scaling["queue"] = {"arn": queue, "backlog_per_task": backlog_per_task(delay)}
            except ValueError as error:
                raise ManifestError(f"{manifest.where('count', 'queue_delay')}: {error}") from None
            return
        # A fixed count (or a range on CPU/memory): Copilot scales a worker on its queue only
        # with count.queue_delay. The count stays; the task role may still consume the queue.
        from components.iam import SQS_CONSUME_ACTIONS

        service.setdefault("permissions", []).append({"actions": list(SQS_CONSUME_ACTIONS), "resources": [queue]})
        self.report.add(manifest, ("count",), "changed",
                        "no count.queue_delay, so the worker does not scale on its queue; its task role may consume the queue "
                        "(add autoscaling.queue to scale on the backlog)")

    def deployment(self, manifest: Manifest, deployment: dict[str, Any], service: dict[str, Any]) -> None:
        """deployment.en.md: rolling (default | recreate), rollback_alarms."""
        if deployment.get("rolling") == "recreate":
            self.report.add(manifest, ("deployment", "rolling"), "changed",
                            "recreate (stop all, then start) is not kept: deploys are rolling with 100% healthy and the circuit breaker")
        alarms = deployment.get("rollback_alarms")
        if isinstance(alarms, dict):
            mapped = {}
            if alarms.get("cpu_utilization"):
                mapped["cpu"] = int(alarms["cpu_utilization"])
            if alarms.get("memory_utilization"):
                mapped["memory"] = int(alarms["memory_utilization"])
            if alarms.get("messages_delayed"):
                self.report.add(manifest, ("deployment", "rollback_alarms", "messages_delayed"), "not-carried", "a queue-delay alarm")
            if mapped:
                service["alarms"] = mapped
                service.setdefault("deployment", {})["rollback_alarms"] = True
        elif alarms:
            self.report.add(manifest, ("deployment", "rollback_alarms"), "not-carried",
                            "alarms named by ARN or name belong to another stack: recreate them under `alarms`")

    # ---- jobs ----

    def job(self, name: str, manifest: Manifest, data: dict[str, Any]) -> dict[str, Any]:
        """scheduled-job.en.md: on.schedule, retries, timeout."""
        job = self.task(name, manifest, data)
        schedule = (data.get("on") or {}).get("schedule")
        if schedule and schedule != "none":
            try:
                job["schedule"] = schedule_expression(str(schedule))
            except ValueError as error:
                raise ManifestError(f"{manifest.where('on', 'schedule')}: on.schedule: {error}") from None
            job["timezone"] = "UTC"  # Copilot's schedules are in UTC
        if data.get("retries") is not None:
            job["retries"] = int(data["retries"])
        if data.get("timeout") is not None:
            job["timeout_minutes"] = max(1, math.ceil((seconds(data["timeout"]) or 60) / 60))
        for key in ("count", "http", "network"):
            if data.get(key) and key != "network":
                self.report.add(manifest, (key,), "not-carried", "not a job setting")
        return job


# How a person reads a workload: what runs, how big, where it listens, then the rest.
READING_ORDER = ("image", "cpu", "memory", "architecture", "user", "command", "port", "expose", "health_check", "schedule",
                 "timezone", "timeout_minutes", "retries", "desired_count", "autoscaling", "capacity", "environment", "secrets",
                 "volumes", "ephemeral_storage", "sidecars", "alarms", "deployment")


def in_reading_order(workload: dict[str, Any]) -> dict[str, Any]:
    ranked = {key: index for index, key in enumerate(READING_ORDER)}
    return dict(sorted(workload.items(), key=lambda item: ranked.get(item[0], len(ranked))))


def import_workspace(workspace: Workspace, options: ImportOptions) -> tuple[dict[str, dict], Report]:
    report = Report()
    for environment in options.tiers:
        if environment not in workspace.environments:
            raise ManifestError(f"--tier {environment}=...: the workspace has no environment {environment!r} "
                                f"(it has {', '.join(sorted(workspace.environments))})")
    configs = {env: Converter(workspace, env, options, report).config() for env in sorted(workspace.environments)}
    return configs, report
