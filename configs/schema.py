"""The JSON Schema of the environment file, generated from the pydantic model.

`python -m configs.schema` writes configs/environment.schema.json, which the YAML files name in
their `# yaml-language-server: $schema=environment.schema.json` comment so editors complete
keys and flag wrong ones as you type. `--check` exits 1 when the checked-in file is stale.
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
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def environment_schema() -> dict[str, Any]:
    """The schema of one environment file after `extends` is merged in."""
    schema = EnvironmentConfig.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": DIALECT,
        "title": "ECS platform environment (configs/<env>.yaml)",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def render() -> str:
    return json.dumps(environment_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args == ["--check"]:
        current = SCHEMA_PATH.read_text() if SCHEMA_PATH.exists() else ""
        if current != text:
            print(f"{SCHEMA_PATH.name} is stale; run: python -m configs.schema", file=sys.stderr)
            return 1
        return 0
    if args:
        print("usage: python -m configs.schema [--check]", file=sys.stderr)
        return 2
    SCHEMA_PATH.write_text(text)
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
