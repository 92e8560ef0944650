"""Benchmark of the environment loader (a script, not a test: it prints figures, asserts nothing).

    .venv/bin/python bench/bench_loader.py [--services N] [--rounds R]

Writes the 50-service environment of bench/bench_plan.py and times, in one process, the median
of R rounds of:

- the loader as shipped (configs.loader.load_environment: read, compose with libyaml's
  yaml.CSafeLoader, build values with file:line, refuse YAML 1.1 surprises, validate, checks);
- the same loader with PyYAML's pure-Python composer (yaml.SafeLoader), the baseline it replaced;
- the two composers alone, and, when ruamel.yaml is importable (it is not a dependency:
  `pip install --target /tmp/ruamel ruamel.yaml` and PYTHONPATH=/tmp/ruamel), ruamel.yaml's
  round-trip loader, the YAML 1.2 parser that keeps line numbers, parsing the same text.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_plan  # noqa: E402

from configs import yaml_source  # noqa: E402
from configs.loader import load_environment  # noqa: E402


def median_ms(run: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    directory = Path(tempfile.mkdtemp())
    path = bench_plan.write_environment(args.services, directory)
    text = path.read_text()

    def load() -> Any:
        return load_environment(path, stack=bench_plan.ENVIRONMENT)

    rows: list[tuple[str, float]] = []
    rows.append(("loader, libyaml composer (shipped)", median_ms(load, args.rounds)))
    yaml_source.COMPOSER = yaml.SafeLoader
    try:
        rows.append(("loader, pure-Python composer (baseline)", median_ms(load, args.rounds)))
    finally:
        yaml_source.COMPOSER = yaml.CSafeLoader
    rows.append(("compose only, yaml.CSafeLoader", median_ms(lambda: yaml.compose(text, Loader=yaml.CSafeLoader), args.rounds)))
    rows.append(("compose only, yaml.SafeLoader", median_ms(lambda: yaml.compose(text, Loader=yaml.SafeLoader), args.rounds)))
    try:
        from ruamel.yaml import YAML
    except ImportError:
        rows.append(("parse only, ruamel.yaml round-trip (not installed)", float("nan")))
    else:
        rows.append(("parse only, ruamel.yaml round-trip (YAML 1.2, line numbers)", median_ms(lambda: YAML(typ="rt").load(text), args.rounds)))
    print(f"{args.services} services, {len(text)} bytes, {text.count(chr(10))} lines, median of {args.rounds} rounds")
    width = max(len(name) for name, _ in rows)
    for name, ms in rows:
        print(f"  {name:<{width}}  {ms:8.1f} ms")
    shipped, baseline = rows[0][1], rows[1][1]
    print(f"  saved by the libyaml composer: {baseline - shipped:.1f} ms ({baseline / shipped:.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
