"""The JSON Schema of the environment file, generated from the pydantic model.

`python -m configs.schema` writes configs/environment.schema.json, which a complete environment
file names in its `# yaml-language-server: $schema=environment.schema.json` comment so editors
complete keys and flag wrong ones as you type, and configs/environment.layered.schema.json, the
same schema with nothing required, which a layered file (one that `extends` another, or is
extended) names instead: alone it is partial, and "'image' is a required property" would be a
false error there. `--check` exits 1 when a checked-in file is stale.
The schema covers field-level rules; cross-field rules (strategies, subnets, references) are
only in the loader, which stays the authority.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

from configs.model import EnvironmentConfig

SCHEMA_PATH = Path(__file__).resolve().parent / "environment.schema.json"
LAYERED_SCHEMA_PATH = SCHEMA_PATH.with_name("environment.layered.schema.json")
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def environment_schema() -> dict[str, Any]:
    """The schema of one environment file after `extends` is merged in."""
    schema = EnvironmentConfig.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": DIALECT,
        "title": "ECS platform environment (configs/<env>.yaml)",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def layered_schema() -> dict[str, Any]:
    """The schema of one layer: every key as in environment_schema(), none required, since the
    required ones may come from the file it extends (or the file that extends it)."""
    return {
        **_without_required(environment_schema()),
        "title": "ECS platform environment layer (a file that extends or is extended; nothing required)",
    }


def _without_required(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _without_required(value) for key, value in node.items() if key != "required"}
    if isinstance(node, list):
        return [_without_required(item) for item in node]
    return node


def render(document: Optional[dict[str, Any]] = None) -> str:
    return json.dumps(environment_schema() if document is None else document, indent=2, ensure_ascii=False) + "\n"


def rendered_files() -> dict[Path, str]:
    return {SCHEMA_PATH: render(), LAYERED_SCHEMA_PATH: render(layered_schema())}


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    files = rendered_files()
    if args == ["--check"]:
        stale = [path.name for path, text in files.items() if not path.exists() or path.read_text() != text]
        if stale:
            print(f"{', '.join(stale)} stale; run: python -m configs.schema", file=sys.stderr)
            return 1
        return 0
    if args:
        print("usage: python -m configs.schema [--check]", file=sys.stderr)
        return 2
    for path, text in files.items():
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
