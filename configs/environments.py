"""Which environments this project has: found, never listed.

An environment is a `configs/<name>.yaml` with a `Pulumi.<name>.yaml` beside the project (the
stack's own settings). Layers such as `base.yaml` have no stack file, so they are not
environments. Tools, tests and workflows ask here, so a user who adds `configs/qa.yaml` and
`Pulumi.qa.yaml` gets the same treatment as the shipped examples.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def environment_names(root: Path = ROOT) -> tuple[str, ...]:
    """The environments under `root`, sorted by name."""
    return tuple(
        sorted(path.stem for path in (root / "configs").glob("*.yaml") if (root / f"Pulumi.{path.stem}.yaml").is_file())
    )
