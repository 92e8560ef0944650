"""Environment files as of a git ref: `git show REF:configs/ENV.yaml` plus its extends chain,
laid out in a temporary configs/ folder so the loader validates them exactly as checked out."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Optional

import yaml

from configs.loader import CONFIG_DIR, load_environment
from configs.model import EnvironmentConfig

ROOT = CONFIG_DIR.parent


class RefError(Exception):
    pass


def git(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)


def check_ref(ref: str, cwd: Path = ROOT) -> str:
    """The commit a ref names, or RefError (exit 3) when git does not know it."""
    result = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=cwd)
    if result.returncode != 0:
        raise RefError(f"{ref} is not a commit git knows here (fetch it first, e.g. git fetch origin main)")
    return result.stdout.strip()


def exists_at(ref: str, path: str, cwd: Path = ROOT) -> bool:
    return git("cat-file", "-e", f"{ref}:{path}", cwd=cwd).returncode == 0


def environment_at(ref: str, environment: str, *, today=None, cwd: Path = ROOT) -> Optional[EnvironmentConfig]:
    """configs/<environment>.yaml as of ref, validated; None when the file does not exist at
    ref (a change that adds the environment: everything is new)."""
    check_ref(ref, cwd)
    if not exists_at(ref, f"configs/{environment}.yaml", cwd):
        return None
    return config_at_ref(ref, environment, today=today, cwd=cwd)


def git_show(ref: str, path: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RefError(f"{path} does not exist at {ref}: {result.stderr.strip()}")
    return result.stdout


def _extends(text: str) -> Optional[str]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None  # the loader reports the YAML error with its line
    value = data.get("extends") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def checkout_config(ref: str, environment: str, into: Path, cwd: Path = ROOT) -> Path:
    """Writes configs/<environment>.yaml and every file it extends, as of ref, under `into`."""
    relative = Path("configs") / f"{environment}.yaml"
    first = into / relative
    pending, seen = [relative], set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue  # a loop: the loader reports it
        seen.add(path)
        text = git_show(ref, path.as_posix(), cwd)
        target = into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        base = _extends(text)
        if base:
            pending.append(Path(*(path.parent / base).parts))
    return first


def config_at_ref(ref: str, environment: str, *, today=None, cwd: Path = ROOT) -> EnvironmentConfig:
    with tempfile.TemporaryDirectory(prefix=f"review-{environment}-") as folder:
        path = checkout_config(ref, environment, Path(folder), cwd)
        return load_environment(path, stack=environment, today=today)
