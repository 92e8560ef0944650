"""Benchmark of the offline plan at scale (a script, not a test: it prints figures, asserts nothing).

    .venv/bin/python bench/bench_plan.py [--profile]

Generates an environment of 50 services (Fargate, Fargate Spot with an on-demand share, and two
EC2 providers, x86_64 and arm64), 10 repositories and 3 AZs, valid per the model and checks, and
measures in one process:

- config load + validation: the real loader over the YAML written to a temporary file;
- the program under mocks: review.offline.run_program (the plan command's core);
- the floor: the same registrations (types, names, inputs and parents taken from the captured
  plan) made with plain pulumi.CustomResource / ComponentResource under the same mocks, with no
  project code, after importing the same pulumi_aws modules. This is the raw-registration
  floor; the typed pulumi-aws classes alone cost about 2.4x it (issue 8), so the 3x target
  leaves our own code about 25% on top;
- the policy pack: the real CrossGuard pack in its subprocess over the analyzer gRPC protocol,
  in parts: start-up (process start, imports, GetAnalyzerInfo; once per run, never per
  resource), Configure (once), and evaluation (Analyze per custom resource + AnalyzeStack) by
  a fresh client, so no answer comes from its cache (the report says how many did). The
  evaluation is timed as wall clock (client + pack), this process's CPU, and the pack
  process's own CPU read from /proc/<pid>/stat (utime + stime, all its threads) just before
  and just after the evaluation;
- the whole plan command: what `python -m review plan ENV` does after argument parsing (load,
  program, policy verdict, cost, rendering), in-process, so interpreter start-up and imports
  are not counted;
- growth: the program at 10, 25 and 50 services.

Memory is the peak resident set size from resource.getrusage (ru_maxrss), for this process and,
separately, for the policy pack's process; tracemalloc is not used because it slows the
program several times over and misses native allocations (protobuf, grpc).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402

from configs.loader import load_environment  # noqa: E402
from configs.model import EnvironmentConfig  # noqa: E402
from review.offline import CapturedResource, Plan, run_program  # noqa: E402

ENVIRONMENT = "bench"
REPOSITORIES = 10
PLACEMENTS = ("fargate", "fargate_spot", "general", "graviton")
SIZES = (10, 25, 50)


# ---- the generated environment ------------------------------------------------------------


def environment_data(services: int) -> dict[str, Any]:
    """A valid environment file as data: every section in use, services spread evenly."""
    return {
        "environment": ENVIRONMENT,
        "aws": {"region": "eu-west-1", "account_id": "123456789012"},
        "tags": {"team": "platform", "cost-center": "4711"},
        "deploys": "ci",
        "logs": {"retention_days": 90, "kms": True},
        "network": {"cidr": "10.40.0.0/16", "availability_zones": 3, "nat": "per_az", "endpoints": "auto"},
        "registry": {
            "scanning": "enhanced",
            "repositories": {f"repo-{r}": {} for r in range(REPOSITORIES)},
        },
        "cluster": {
            "container_insights": "enhanced",
            "capacity": {
                "fargate": True,
                "fargate_spot": True,
                "ec2": {
                    "general": _ec2_provider(["m6i.large", "m5.large"], "x86_64"),
                    "graviton": _ec2_provider(["m7g.large", "m6g.large"], "arm64"),
                },
            },
            "default_strategy": [{"provider": "fargate", "base": 1, "weight": 1}],
        },
        "load_balancer": {
            "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
            "ingress_cidrs": ["0.0.0.0/0"],
            "deletion_protection": True,
            "access_logs": {"bucket": "acme-bench-alb-logs"},
        },
        "services": {service_key(i): service_data(i, services) for i in range(services)},
    }


def _ec2_provider(instance_types: list[str], architecture: str) -> dict[str, Any]:
    return {
        "instance_types": instance_types,
        "architecture": architecture,
        "min_size": 1,
        "max_size": 20,
        "on_demand_base": 1,
        "on_demand_percent_above_base": 25,
        "target_capacity": 90,
    }


def service_key(i: int) -> str:
    return f"svc-{i:02d}"


def service_data(i: int, services: int) -> dict[str, Any]:
    placement = PLACEMENTS[i % len(PLACEMENTS)]
    exposed = i % 2 == 0
    data: dict[str, Any] = {
        "image": {"repository": f"repo-{i % REPOSITORIES}", "tag": f"v1.0.{i}"},
        "cpu": 512,
        "memory": 1024,
        "port": 8080,
        "user": "10001",
        "desired_count": 2,
        "capacity": STRATEGIES[placement],
        "autoscaling": {"min": 2, "max": 6, "cpu": 60, **({"requests_per_target": 1000} if exposed else {})},
        "environment": {"LOG_LEVEL": "info", "SERVICE": service_key(i)},
    }
    if exposed:
        data["expose"] = {"paths": [f"/{service_key(i)}/*"], "priority": 100 + i}
    else:
        data["health_check"] = {"command": ["CMD-SHELL", "wget -q -O /dev/null http://localhost:8080/health || exit 1"]}
    data.update(_grants(i))
    if i + 1 < services:
        data["connects_to"] = [{"service": service_key(i + 1), "port": 8080}]
    return data


# Every strategy keeps an on-demand share: Fargate Spot never falls back to on-demand.
STRATEGIES: dict[str, list[dict[str, Any]]] = {
    "fargate": [{"provider": "fargate", "base": 1, "weight": 1}],
    "fargate_spot": [{"provider": "fargate", "base": 1, "weight": 1}, {"provider": "fargate_spot", "weight": 3}],
    "general": [{"provider": "general", "weight": 1}],
    "graviton": [{"provider": "graviton", "weight": 1}],
}


def _grants(i: int) -> dict[str, Any]:
    """Secrets of both kinds and task-role permissions on a share of the services."""
    key, grants = service_key(i), {}
    if i % 3 == 0:
        grants["secrets"] = {
            "DB_PASSWORD": {"secret": f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench/{key}-AbCdEf", "key": "password"},
            "API_KEY": {"parameter": f"/bench/{key}/api-key"},
        }
    if i % 4 == 1:
        grants["permissions"] = [{"actions": ["s3:GetObject"], "resources": [f"arn:aws:s3:::acme-bench-config/{key}/*"]}]
    if i % 5 == 2:
        grants["access"] = {"write": [f"arn:aws:sqs:eu-west-1:123456789012:{key}-jobs"]}
    return grants


def write_environment(services: int, directory: Path) -> Path:
    path = directory / f"{ENVIRONMENT}-{services}.yaml"
    path.write_text(yaml.safe_dump(environment_data(services), sort_keys=False))
    return path


def load(path: Path) -> EnvironmentConfig:
    return load_environment(path, stack=ENVIRONMENT)


# ---- measurements -------------------------------------------------------------------------


@dataclass
class Timing:
    label: str
    seconds: float  # wall clock
    resources: int  # the unit of the ms-per-resource column; 0 when it does not apply
    cpu: float = 0.0  # this process's CPU seconds: robust when other work shares the 2 cores
    show_wall: bool = True  # False for a CPU-only row (another process's CPU)

    @property
    def wall(self) -> str:
        return f"{self.seconds:.2f}" if self.show_wall else "-"

    @property
    def ms_per_resource(self) -> str:
        return f"{1000 * self.seconds / self.resources:.2f}" if self.resources and self.show_wall else "-"

    @property
    def cpu_ms_per_resource(self) -> str:
        return f"{1000 * self.cpu / self.resources:.2f}" if self.resources and self.cpu else "-"


@dataclass
class Clock:
    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def timed() -> Iterator[Clock]:
    clock = Clock()
    wall, cpu = time.perf_counter(), time.process_time()
    yield clock
    clock.wall, clock.cpu = time.perf_counter() - wall, time.process_time() - cpu


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def floor_program(captured: list[CapturedResource]) -> Callable[[EnvironmentConfig], dict[str, Any]]:
    """A program with no project code: the captured registrations replayed as they were."""

    def replay(_config: EnvironmentConfig) -> dict[str, Any]:
        by_urn: dict[str, pulumi.Resource] = {}
        for item in captured:  # captured order: a parent always registered before its children
            opts = pulumi.ResourceOptions(
                parent=by_urn.get(item.parent),
                protect=item.protect,
                ignore_changes=list(item.ignore_changes) or None,
            )
            if item.custom:
                by_urn[item.urn] = pulumi.CustomResource(item.type, item.name, dict(item.props), opts)
            else:
                by_urn[item.urn] = pulumi.ComponentResource(item.type, item.name, None, opts)
        return {}

    return replay


def import_pulumi_aws_modules(plan: Plan) -> None:
    """The floor pays no import cost the program already paid: import the same modules."""
    import importlib

    for module in sorted({r.type.split(":")[1].split("/")[0] for r in plan.resources if r.type.startswith("aws:")}):
        importlib.import_module(f"pulumi_aws.{module}")


@dataclass
class PolicyTimings:
    """The policy step in parts: start-up and Configure once per run, then the evaluation."""

    startup: Timing  # wall; cpu = the pack process's CPU until it answered GetAnalyzerInfo
    configure: Timing  # wall; cpu = this process's CPU
    evaluation: Timing  # Analyze x N + AnalyzeStack: wall (client + pack); cpu = this process's
    pack_cpu: Timing  # the pack process's CPU during the evaluation only (no wall)
    headline: str
    analyze_calls: int  # Analyze RPCs the client sent
    cache_hits: int  # answers the client took from its cache instead (0: uncached evaluation)
    cpu_source: str


def policy_timings(config: EnvironmentConfig, plan: Plan) -> PolicyTimings:
    """Start-up, Configure and evaluation of every resource by a fresh pack and client.

    The pack's CPU is read from its own /proc/<pid>/stat around each part, so start-up (the
    imports of pulumi, grpc and the policies, ~0.35 s) is not charged to the evaluation."""
    from policies.config_gen import pack_config
    from review.policy_verdict import PolicyPackClient
    from review.verdict import findings_of

    custom = sum(1 for r in plan.resources if r.custom)
    with timed() as startup:
        pack = PolicyPackClient(stack=config.environment).start()  # a new client: an empty cache
    try:
        pid = pack._process.pid
        startup_cpu, source = process_cpu(pid)
        with timed() as configure:
            pack.configure(pack_config(config))
        before, _ = process_cpu(pid)
        with timed() as evaluation:
            verdict = pack.analyze(plan.resources)
        after, _ = process_cpu(pid)
        stats = pack.last_stats
    finally:
        pack.close()
    pack_cpu = (after - before) if after is not None and before is not None else 0.0
    return PolicyTimings(
        startup=Timing("policy pack: start-up, once (pack process CPU)", startup.wall, 0, startup_cpu or 0.0),
        configure=Timing("policy pack: Configure, once", configure.wall, 0, configure.cpu),
        evaluation=Timing("policy evaluation: Analyze x N + AnalyzeStack (this process's CPU)", evaluation.wall, custom, evaluation.cpu),
        pack_cpu=Timing("policy evaluation: the pack process's CPU", evaluation.wall, custom, pack_cpu, show_wall=False),
        headline=findings_of(verdict).headline(),
        analyze_calls=stats.analyze_calls,
        cache_hits=stats.cache_hits,
        cpu_source=source,
    )


_CLOCK_TICKS = None


def process_cpu(pid: int) -> tuple[float | None, str]:
    """(user + system CPU seconds of process `pid`, all threads, how it was read).

    Linux: /proc/<pid>/stat fields 14-15 (utime, stime) in clock ticks. Elsewhere psutil if it
    happens to be installed (it is not a dependency); otherwise unknown (None)."""
    global _CLOCK_TICKS
    import os

    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()  # the command name may hold spaces
        if _CLOCK_TICKS is None:
            _CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS, f"/proc/<pid>/stat, 1/{_CLOCK_TICKS} s ticks"
    except OSError:
        pass
    try:
        import psutil  # type: ignore[import-not-found]

        times = psutil.Process(pid).cpu_times()
        return times.user + times.system, "psutil"
    except Exception:  # noqa: BLE001 - not installed, or the process is gone
        return None, "unavailable"


def plan_command(path: Path) -> str:
    """`python -m review plan ENV` after argument parsing (review/__main__.py), for a file path."""
    from review.progress import Progress
    from review.render import render_plan
    from review.workflow import plan_report

    config = load(path)
    return render_plan(plan_report(config, policy=True, progress=Progress(enabled=False)), "text")


def measure(label: str, run: Callable[[], Plan]) -> tuple[Timing, Plan]:
    with timed() as clock:
        plan = run()
    return Timing(label, clock.wall, len(plan.resources), clock.cpu), plan


# ---- report -------------------------------------------------------------------------------


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "| " + " | ".join("-" * w for w in widths) + " |", *map(line, rows)])


def profile_program(config: EnvironmentConfig, top: int = 25) -> str:
    """Where the program's time goes: cumulative time per package, then the top functions."""
    profiler = cProfile.Profile()
    profiler.enable()
    run_program(config)
    profiler.disable()
    stats = pstats.Stats(profiler)
    by_package: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_package[_package(filename)] = by_package.get(_package(filename), 0.0) + own
    total = sum(by_package.values())
    lines = ["Own time by package (cProfile, program under mocks):"]
    lines += [f"  {name:<22} {seconds:7.2f} s  {100 * seconds / total:5.1f}%" for name, seconds in
              sorted(by_package.items(), key=lambda kv: -kv[1])[:12]]
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(top)
    return "\n".join(lines) + "\n\n" + buffer.getvalue()


def _package(filename: str) -> str:
    for marker in ("components/", "configs/", "review/", "pulumi_aws/", "pulumi/", "grpc/", "google/protobuf", "asyncio/", "pydantic", "policy_sentry"):
        if marker in filename:
            return marker.rstrip("/")
    return "other" if filename.startswith("/") else filename[:22]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", action="store_true", help="also profile the 50-service program (cProfile)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as directory:
        paths = {n: write_environment(n, Path(directory)) for n in SIZES}
        with timed() as clock:
            config = load(paths[50])
        load_timing = Timing("config load + validation", clock.wall, 0, clock.cpu)
        rss_after = {"config load": peak_rss_mb()}

        # Warm-up: the first run imports pulumi_aws modules and the SDK's lazy parts.
        run_program(load(paths[10]))
        growth: dict[int, tuple[Timing, Timing, PolicyTimings]] = {}
        for services in SIZES:
            sized = config if services == 50 else load(paths[services])
            program, plan = measure("program under mocks", lambda: run_program(sized))
            import_pulumi_aws_modules(plan)
            floor, _ = measure("floor: raw registrations", lambda: run_program(sized, program=floor_program(plan.resources)))
            policy = policy_timings(sized, plan)
            growth[services] = (program, floor, policy)
        rss_after["program, floor, policy"] = peak_rss_mb()

        with timed() as clock:
            plan_command(paths[50])
        command = Timing("whole plan command (in-process)", clock.wall, len(plan.resources), clock.cpu)
        rss_after["plan command"] = peak_rss_mb()

    program, floor, policy = growth[50]
    steps = [load_timing, program, floor, policy.startup, policy.configure, policy.evaluation, policy.pack_cpu, command]
    print(report(plan, steps, growth, rss_after, policy))
    if args.profile:
        print()
        print(profile_program(config))
    return 0


def report(plan: Plan, timings: list[Timing], growth: dict[int, tuple[Timing, Timing, PolicyTimings]], rss_after: dict[str, float], policy: PolicyTimings) -> str:
    program, floor = timings[1], timings[2]
    custom = sum(1 for r in plan.resources if r.custom)
    pack_rss = peak_rss_mb(resource.RUSAGE_CHILDREN)
    peak = max(max(rss_after.values()), pack_rss)
    evaluation_ms = 1000 * policy.evaluation.seconds / policy.evaluation.resources
    pack_cpu_ms = 1000 * policy.pack_cpu.cpu / policy.pack_cpu.resources
    cache = ", ".join(f"{n} services: {p.analyze_calls} Analyze sent, {p.cache_hits} cache hits" for n, (_, _, p) in sorted(growth.items()))
    uncached = all(p.cache_hits == 0 for _, _, p in growth.values())
    lines = [
        f"Environment: 50 services (Fargate, Fargate Spot, EC2 x86_64, EC2 arm64), {REPOSITORIES} repositories, 3 AZs",
        f"Registrations: {len(plan.resources)} ({custom} AWS resources + {len(plan.resources) - custom} components)",
        f"Policy verdict of the generated environment: {policy.headline}",
        f"Policy evaluation {'uncached' if uncached else 'PARTLY CACHED (figures understate the pack)'}: {cache}",
        f"Policy pack start-up, once per run (not per resource): {policy.startup.seconds:.2f} s wall, "
        f"{policy.startup.cpu:.2f} s pack CPU; Configure {1000 * policy.configure.seconds:.0f} ms",
        f"Pack CPU read from {policy.cpu_source}",
        "",
        table(
            [[t.label, t.wall, f"{t.cpu:.2f}" if t.cpu else "-", str(t.resources or "-"), t.ms_per_resource,
              t.cpu_ms_per_resource] for t in timings],
            ["step (50 services)", "wall s", "CPU s", "resources", "wall ms/res", "CPU ms/res"],
        ),
        "",
        table(
            [[str(n), str(p.resources), f"{p.seconds:.2f}", p.ms_per_resource, p.cpu_ms_per_resource,
              f"{f.seconds:.2f}", f.cpu_ms_per_resource, f"{p.cpu / f.cpu:.2f}x", str(c.evaluation.resources),
              c.evaluation.ms_per_resource, c.evaluation.cpu_ms_per_resource, c.pack_cpu.cpu_ms_per_resource]
             for n, (p, f, c) in sorted(growth.items())],
            ["services", "registrations", "program wall s", "wall ms/res", "CPU ms/res", "floor wall s", "floor CPU ms/res",
             "program/floor (CPU)", "policy resources", "policy eval wall ms/res", "client CPU ms/res", "pack CPU ms/res"],
        ),
        "",
        table(
            [[step, f"{mb:.0f}"] for step, mb in rss_after.items()] + [["policy pack process", f"{pack_rss:.0f}"]],
            ["peak RSS after step (ru_maxrss)", "MB"],
        ),
        "",
        table(
            [
                ["program / floor (CPU)", f"{program.cpu / floor.cpu:.2f}x", "< 3x", _verdict(program.cpu / floor.cpu < 3)],
                ["program / floor (wall)", f"{program.seconds / floor.seconds:.2f}x", "< 3x", _verdict(program.seconds / floor.seconds < 3)],
                ["policy evaluation ms per resource (wall, client + pack, start-up excluded)", f"{evaluation_ms:.2f}", "< 1 ms",
                 _verdict(evaluation_ms < 1.0)],
                ["policy evaluation ms per resource (pack process CPU, start-up excluded)", f"{pack_cpu_ms:.2f}", "< 1 ms",
                 _verdict(pack_cpu_ms < 1.0)],
                ["peak memory MB", f"{peak:.0f}", "< 500 MB", _verdict(peak < 500)],
            ],
            ["target", "measured", "goal", "met"],
        ),
    ]
    return "\n".join(lines)


def _verdict(met: bool) -> str:
    return "yes" if met else "NO"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
