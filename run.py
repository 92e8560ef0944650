#!/usr/bin/env python3
"""Set-up and entry point on a machine that has only python3.

    python3 run.py plan dev     # the offline plan of configs/dev.yaml (no AWS account needed)
    python3 run.py test         # the whole test suite

The first call creates .venv and installs requirements-dev.txt; later calls reuse it until a
requirements file changes (a hash of them is kept in .venv/requirements.sha256).
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
STAMP = VENV / "requirements.sha256"
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt", "policies/requirements.txt")

COMMANDS = {
    "plan": ["-m", "review", "plan"],
    "review": ["-m", "review"],
    "test": ["-m", "pytest", "-q"],
}


def requirements_hash() -> str:
    digest = hashlib.sha256()
    for name in REQUIREMENTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_virtualenv() -> None:
    wanted = requirements_hash()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    print(f"Setting up {VENV.relative_to(ROOT)} (once; about a minute) ...", file=sys.stderr, flush=True)
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(ROOT / "requirements-dev.txt")], check=True, cwd=ROOT)
    STAMP.write_text(wanted + "\n")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_virtualenv()
    command = [str(PYTHON), *COMMANDS[argv[0]], *argv[1:]]
    return subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
