"""The environments a change touches, for a workflow's matrix: `review affected BASE_REF`.

Compared with the merge base of BASE_REF and HEAD (what a pull request changes, not what
landed on the base branch since), working-tree edits and new files included:

- a change outside configs/ (components, policies, requirements, the project file) can change
  every environment's resources, so every environment is affected; a `Pulumi.<name>.yaml`
  touches only its own stack;
- a change of code or data in configs/ (the model, the loader, the instance table) likewise;
- a change of environment files affects the environments whose resolved configuration (after
  `extends`) differs from the base, so editing configs/base.yaml affects every environment
  that extends it and a comment-only edit affects none. An environment new since the base is
  affected.

Environments, regions and tiers are the pipeline's (pipeline/environments.py): a
`configs/<name>.yaml` with a `Pulumi.<name>.yaml`, its tier from policies/governance.yaml.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from configs.errors import ConfigError
from configs.loader import load_layered
from pipeline.environments import Target, targets
from review.sources import ROOT, check_ref, checkout_config, exists_at, git

STACK_FILE = re.compile(r"^Pulumi\.(?P<name>[^/]+)\.yaml$")


def merge_base(base_ref: str, cwd: Path = ROOT) -> str:
    commit = check_ref(base_ref, cwd)
    result = git("merge-base", commit, "HEAD", cwd=cwd)
    return result.stdout.strip() if result.returncode == 0 else commit  # unrelated histories: the ref itself


def changed_files(base: str, cwd: Path = ROOT) -> list[str]:
    """Paths changed between `base` and the working tree, plus untracked files."""
    tracked = git("diff", "--name-only", "--no-renames", base, cwd=cwd).stdout.split()
    untracked = git("ls-files", "--others", "--exclude-standard", cwd=cwd).stdout.split()
    return sorted(set(tracked) | set(untracked))


def touches_every_environment(path: str) -> bool:
    if STACK_FILE.match(path):
        return False
    return not (path.startswith("configs/") and path.endswith(".yaml"))


def resolved_at(base: str, environment: str, cwd: Path) -> Any:
    """The merged data of configs/<environment>.yaml at base; None when it did not exist."""
    if not exists_at(base, f"configs/{environment}.yaml", cwd):
        return None
    with tempfile.TemporaryDirectory(prefix=f"affected-{environment}-") as folder:
        try:
            return load_layered(checkout_config(base, environment, Path(folder), cwd)).data
        except ConfigError:
            return ConfigError  # unreadable at base: anything readable now differs


def affected(base_ref: str, root: Path = ROOT) -> list[Target]:
    base = merge_base(base_ref, root)
    files = changed_files(base, root)
    everything = targets(root)
    if any(touches_every_environment(path) for path in files):
        return everything
    stacks = {m.group("name") for path in files if (m := STACK_FILE.match(path))}
    if not any(path.startswith("configs/") for path in files):
        return [t for t in everything if t.environment in stacks]
    return [
        t for t in everything
        if t.environment in stacks
        or resolved_at(base, t.environment, root) != load_layered(root / "configs" / f"{t.environment}.yaml").data
    ]


def affected_targets(base_ref: str, root: Path = ROOT) -> list[dict[str, str]]:
    return [asdict(t) for t in affected(base_ref, root)]
