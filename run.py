#!/usr/bin/env python3
"""Set-up and entry point on a machine that has only python3.

    python3 run.py plan dev     # the offline plan of configs/dev.yaml (no AWS account needed)
    python3 run.py test         # the whole test suite
    python3 run.py import copilot DIR --account ID --region REGION   # from AWS Copilot
    python3 run.py environments # the environments CI runs (JSON: environment, region, tier)
    python3 run.py policy-config ENV [-o FILE]   # the --policy-pack-config of any environment
    python3 run.py ci-role ENV  # the deploy role's ARN and app-deploy.yml's inputs
    python3 run.py prices refresh eu-west-1   # rebuild a price table from the AWS Price List API (needs credentials)

The first call creates .venv and installs requirements-dev.txt; later calls reuse it until a
requirements file changes (a hash of them is kept in .venv/requirements.sha256).
`test` also sets up .venv-checkov (verify/requirements-checkov.txt) the same way.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt", "policies/requirements.txt")

COMMANDS = {
    "plan": ["-m", "review", "plan"],
    "review": ["-m", "review"],
    "prices": ["-m", "review.prices"],  # prices refresh REGION: rebuild a price table from the AWS Price List API
    "test": ["-m", "pytest", "-q"],
    "environments": ["-m", "pipeline", "environments"],
    "policy-config": ["-m", "policies.config_gen"],
    "ci-role": ["-m", "pipeline", "ci-role"],
    "task": ["-m", "jobs"],  # task ENV JOB: the exact `aws ecs run-task` command for a job
    "import": ["-m", "importer"],
}


def requirements_hash(names: tuple[str, ...] = REQUIREMENTS) -> str:
    digest = hashlib.sha256()
    for name in names:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_virtualenv(
    target: Path = VENV, requirements: tuple[str, ...] = REQUIREMENTS, install: str = "requirements-dev.txt"
) -> None:
    """Creates `target` and installs `install` into it, unless its stamp matches `requirements`."""
    python, stamp = target / "bin" / "python", target / "requirements.sha256"
    wanted = requirements_hash(requirements)
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return
    print(f"Setting up {target.relative_to(ROOT)} (once; about a minute) ...", file=sys.stderr, flush=True)
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(target)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(ROOT / install)], check=True, cwd=ROOT)
    stamp.write_text(wanted + "\n")


# ---- checkov (verify/): an independent scan of the plan, run by the test suite ----------------
# checkov pins packaging<24, which the project's own tools do not accept, so it gets its own
# virtualenv. tests/verify/test_checkov.py calls this same function, so a fresh clone's first
# test run creates it (about 80 s once) and later runs reuse it until the requirements change.
CHECKOV_VENV = ROOT / ".venv-checkov"
CHECKOV_REQUIREMENTS = "verify/requirements-checkov.txt"


def ensure_checkov_virtualenv() -> Path:
    """.venv-checkov, created or refreshed when its requirements changed; returns checkov's path."""
    ensure_virtualenv(CHECKOV_VENV, (CHECKOV_REQUIREMENTS,), CHECKOV_REQUIREMENTS)
    return CHECKOV_VENV / "bin" / "checkov"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_virtualenv()
    if argv[0] == "test":
        ensure_checkov_virtualenv()
    command = [str(PYTHON), *COMMANDS[argv[0]], *argv[1:]]
    return subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
