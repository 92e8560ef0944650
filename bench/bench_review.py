"""The review commands as a user runs them, at 40 services (a script: it prints figures, asserts nothing).

    .venv/bin/python bench/bench_review.py [--runs 3] [--services 40] [--against GIT_REF]

Measures whole command lines in fresh processes, interpreter start-up and imports included:
- `python -m review plan bench` with the policy verdict (the pack's subprocess counted);
- `python -m review diff --files OLD NEW` (two programs, two verdicts): NEW adds a service;
- the same plan with --no-policy, as the floor the pack's share is judged against.

Wall time from process start to exit, and CPU seconds (user + sys of the command and the
pack's process, from wait4), which a shared machine hardly disturbs: compare changes by CPU
seconds and peak MB measured in the same run. Memory is the peak, over the run, of the summed resident
set sizes of the whole process tree (the command and the pack's process), sampled from /proc
every 5 ms: what the machine must have free, which ru_maxrss (the largest single process)
does not say. The environment is bench/bench_plan.py's generated one (EC2 and Fargate
providers, every section in use), written to configs/bench.yaml for the run and removed after.
With --against, the same commands also run in that commit (exported with git archive, this
tree's virtualenv), interleaved with this tree's runs: a baseline from the same run.
The commands run with Python's bytecode cache, as on a user's machine from the second run on:
each tree's modules are compiled once before the first measurement, and PYTHONDONTWRITEBYTECODE
(which some shells and CI images set) is removed from the commands' environment; with it, every
run recompiled the project's ~100 modules (about 0.35 s of CPU in the command, and the pack's
modules again in its process).
Targets (issue 16): plan <= 4.7 s and <= 220 MB; diff <= 9.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_plan import ENVIRONMENT, environment_data  # noqa: E402

TARGETS = {"plan": (4.7, 220.0), "diff": (9.5, None)}


def tree_rss_kib(root_pid: int) -> int:
    """Summed VmRSS of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            ppid = int(fields[1])
            with open(f"/proc/{entry}/status") as status:
                kib = next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = kib
    total, pending = 0, [root_pid]
    while pending:
        pid = pending.pop()
        total += rss.get(pid, 0)
        pending += children.get(pid, [])
    return total


@dataclass(frozen=True)
class Run:
    seconds: float  # wall clock, start to exit
    cpu: float  # user + sys of the command and every descendant it waited for (the pack)
    megabytes: float  # peak summed RSS of the process tree
    status: int


def measure(command: list[str], tree: Path = ROOT) -> Run:
    """One run of a command line in a fresh process tree.

    CPU seconds come from wait4's rusage, which includes the children the command reaped (the
    policy pack is always waited for): unlike wall time, they hardly change when other work
    shares the machine."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("PYTHONUNBUFFERED", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's Python keeps its bytecode cache
    begin = time.monotonic()
    process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while True:
        pid, wait_status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, tree_rss_kib(process.pid))
        time.sleep(0.005)
    process.returncode = os.waitstatus_to_exitcode(wait_status)
    return Run(time.monotonic() - begin, usage.ru_utime + usage.ru_stime, peak / 1024, process.returncode)


def compile_tree(tree: Path) -> None:
    """Writes the bytecode cache of the tree's own modules (site-packages already have theirs),
    so the first measured run does not pay for compiling them and the runs are alike."""
    folders = [str(path) for path in sorted(tree.iterdir()) if path.is_dir() and path.name != "tests" and (path / "__init__.py").exists()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True, stdout=subprocess.DEVNULL)


def write_environment(path: Path, services: int, extra: bool = False) -> None:
    data = environment_data(services + (1 if extra else 0))
    data.pop("extends", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def export_tree(ref: str, into: Path) -> Path:
    """The repository as of `ref` (git archive) under `into`, using this tree's virtualenv."""
    into.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    (into / ".venv").symlink_to(ROOT / ".venv")
    return into


def commands_in(tree: Path, old: Path, new: Path) -> dict[str, list[str]]:
    python = str(tree / ".venv" / "bin" / "python")
    return {
        "plan": [python, "-m", "review", "plan", ENVIRONMENT, "--quiet", "--policy", "report-only"],
        "plan --no-policy": [python, "-m", "review", "plan", ENVIRONMENT, "--quiet", "--no-policy"],
        "diff": [python, "-m", "review", "diff", "--files", str(old), str(new), "--quiet", "--policy", "report-only"],
    }


def report(label: str, results: dict[str, list[Run]]) -> None:
    print(label)
    for name, runs in results.items():
        seconds = [r.seconds for r in runs]
        cpu = [r.cpu for r in runs]
        megabytes = [r.megabytes for r in runs]
        status = sorted({r.status for r in runs})
        goal = TARGETS.get(name)
        against = ""
        if goal:
            against = f"   target <= {goal[0]} s" + (f", <= {goal[1]:.0f} MB" if goal[1] else "")
        print(f"  {name:<18} {statistics.median(seconds):5.2f} s ({min(seconds):.2f}-{max(seconds):.2f})"
              f"   cpu {statistics.median(cpu):5.2f} s ({min(cpu):.2f}-{max(cpu):.2f})"
              f"   peak {statistics.median(megabytes):6.1f} MB tree ({min(megabytes):.0f}-{max(megabytes):.0f})"
              f"   exit {status}{against}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--against", metavar="GIT_REF", help="also run the same commands in this commit, interleaved: the baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        trees = {"working tree": ROOT}
        if args.against:
            trees[args.against] = export_tree(args.against, Path(folder) / "baseline")
        targets = [tree / "configs" / f"{ENVIRONMENT}.yaml" for tree in trees.values()]
        if targets[0].exists():
            print(f"{targets[0]} exists; remove it first", file=sys.stderr)
            return 2
        old, new = Path(folder) / "old.yaml", Path(folder) / "new.yaml"
        write_environment(old, args.services)
        write_environment(new, args.services, extra=True)
        results: dict[str, dict[str, list[Run]]] = {label: {} for label in trees}
        for tree in trees.values():
            compile_tree(tree)
        try:
            for target in targets:
                target.write_text(old.read_text())
            for _ in range(args.runs):  # interleaved, so background load hits every command alike
                for label, tree in trees.items():
                    for name, command in commands_in(tree, old, new).items():
                        results[label].setdefault(name, []).append(measure(command, tree))
        finally:
            for target in targets:
                target.unlink(missing_ok=True)
    print(f"{args.services} services, {args.runs} interleaved runs each (median; min-max)")
    for label, by_command in results.items():
        report(label, by_command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
