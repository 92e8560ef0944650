"""`python -m verify [ENV ...]`: checkov over the offline plans of environments (default: the
reference ones), judged against verify/checkov_allowlist.yaml. Exit 1 on an unexplained failure.

Needs .venv-checkov: `python3 run.py test` creates it, or run.py's ensure_checkov_virtualenv().
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

from configs.environments import environment_names
from configs.loader import config_path, load_environment
from review.offline import run_program
from verify.checkov_scan import Verdict, describe, environment_facts, judge, load_allowlist, run_checkov, write_plan

ROOT = Path(__file__).resolve().parents[1]


def scan(environments: tuple[str, ...], directory: Path) -> Verdict:
    files, facts = [], {}
    for environment in environments:
        config = load_environment(config_path(environment), stack=environment)
        files.append(write_plan(run_program(config), config, directory))
        facts[environment] = environment_facts(config)
    return judge(run_checkov(ROOT / ".venv-checkov" / "bin" / "checkov", files), load_allowlist(), facts)


def report(verdict: Verdict) -> str:
    allowed = Counter(f.check_id for f in verdict.allowlisted)
    lines = [
        f"checkov: {len(verdict.passed)} passed, {len(verdict.allowlisted)} failed and allowlisted, "
        f"{len(verdict.unexplained)} failed",
        *(f"  allowlisted {check}: {count}" for check, count in sorted(allowed.items())),
    ]
    if verdict.unexplained:
        lines += ["Failed checks not in verify/checkov_allowlist.yaml:", describe(verdict.unexplained)]
    if verdict.unused_allowances:
        lines += ["Allowlist entries that match nothing (remove them):"]
        lines += [f"  {a.check_id} {a.resource}" for a in verdict.unused_allowances]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as directory:
        verdict = scan(tuple(argv) or environment_names(), Path(directory))
    print(report(verdict))
    return 1 if verdict.unexplained or verdict.unused_allowances else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
