"""Import an AWS Copilot application.

    python3 run.py import copilot COPILOT_DIR --account ID --region REGION
        [--tag TAG] [--tier ENV=TIER ...] [--queue WORKER=ARN ...] [--force]

Writes, per Copilot environment, configs/<env>.yaml and Pulumi.<env>.yaml, and its tier in
policies/governance.yaml (default production), then prints the report: what was not carried
over and why, the guesses, and what to do before the first `pulumi up`. Every file is
validated by the environment loader before anything is written. Exit status: 0 written,
2 a manifest that cannot be imported, a file that would be overwritten without --force, or a
result the loader refuses.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

import yaml

from importer.copilot import TIERS, ImportOptions, import_workspace, read_workspace
from importer.manifest import ManifestError

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def _pairs(values: list[str], what: str, parser: argparse.ArgumentParser) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key or not item:
            parser.error(f"{what} takes NAME=VALUE, got {value!r}")
        pairs[key] = item
    return pairs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run.py import", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sources = parser.add_subparsers(dest="source", required=True)
    copilot = sources.add_parser("copilot", help="a Copilot workspace (the folder holding copilot/)")
    copilot.add_argument("directory", type=Path)
    copilot.add_argument("--account", required=True, help="the AWS account id the environments deploy to (Copilot manifests carry none)")
    copilot.add_argument("--region", required=True, help="the region, e.g. eu-west-1")
    copilot.add_argument("--tag", default="initial", help="the image tag of images Copilot built (pushed by your pipeline)")
    copilot.add_argument("--tier", action="append", default=[], metavar="ENV=TIER", help=f"tier of an environment: {', '.join(TIERS)}")
    copilot.add_argument("--queue", action="append", default=[], metavar="WORKER=ARN", help="the SQS queue a Worker Service consumes")
    copilot.add_argument("--force", action="store_true", help="overwrite existing files and governance entries")
    copilot.add_argument("--into", type=Path, default=ROOT, help=argparse.SUPPRESS)  # the project root (tests)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not ACCOUNT.match(args.account):
        parser.error(f"--account {args.account!r} is not a 12-digit account id")
    if not REGION.match(args.region):
        parser.error(f"--region {args.region!r} is not a region such as eu-west-1")
    tiers = _pairs(args.tier, "--tier", parser)
    bad = {env: tier for env, tier in tiers.items() if tier not in TIERS}
    if bad:
        parser.error(f"--tier: {', '.join(f'{e}={t}' for e, t in bad.items())}: a tier is one of {', '.join(TIERS)}")
    options = ImportOptions(args.account, args.region, args.tag, tiers, _pairs(args.queue, "--queue", parser),
                            required_tags(args.into))
    try:
        workspace = read_workspace(args.directory.resolve())
        configs, report = import_workspace(workspace, options)
    except ManifestError as error:
        print(f"import: {error}", file=sys.stderr)
        return 2
    root: Path = args.into
    files = {root / "configs" / f"{env}.yaml": environment_file(env, config, workspace.application) for env, config in configs.items()}
    files.update({root / f"Pulumi.{env}.yaml": stack_file(config) for env, config in configs.items()})
    governance = root / "policies" / "governance.yaml"
    existing = sorted(str(path.relative_to(root)) for path in files if path.exists())
    conflicts = existing + governance_conflicts(governance, {env: tiers.get(env, "production") for env in configs})
    if conflicts and not args.force:
        print("import: these exist already (pass --force to overwrite):\n" + "\n".join(f"  {c}" for c in conflicts), file=sys.stderr)
        return 2
    wanted_tiers = {env: tiers.get(env, "production") for env in configs}
    problems = validation_problems({env: files[root / "configs" / f"{env}.yaml"] for env in configs}, governance, wanted_tiers)
    if problems:
        print("import: the result does not validate (nothing was written):\n" + problems, file=sys.stderr)
        return 2
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    set_tiers(governance, wanted_tiers)
    written = sorted(str(path.relative_to(root)) for path in files) + [str(governance.relative_to(root))]
    stale = sorted(f"configs/usage/{env}.yaml" for env in configs if (root / "configs" / "usage" / f"{env}.yaml").exists())
    print(report.render(written, stale_usage=stale))
    return 0


def required_tags(root: Path) -> tuple[str, ...]:
    """The tags governance requires of every environment (the project's policies/governance.yaml)."""
    from configs.governance import load_governance

    governance = root / "policies" / "governance.yaml"
    return tuple(load_governance(governance).required_tags) if governance.exists() else ()


def environment_file(environment: str, config: dict[str, Any], application: str) -> str:
    header = (
        "# yaml-language-server: $schema=environment.schema.json\n"
        f"# Imported from the AWS Copilot application '{application}', environment '{environment}', by\n"
        "# `run.py import copilot`. The import report lists what was not carried over and every guess.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False, default_flow_style=False, width=120)


def stack_file(config: dict[str, Any]) -> str:
    return yaml.safe_dump({"config": {"aws:region": config["aws"]["region"]}}, sort_keys=False)


def validation_problems(texts: dict[str, str], governance: Path, tiers: dict[str, str]) -> str:
    """The loader's own report for each generated file (environment -> text), read exactly as
    it will be read from configs/, under the governance file as it will be (the new tiers):
    all in a temporary folder, so nothing is written before every file passes."""
    from configs import governance as rules
    from configs.errors import ConfigError
    from configs.loader import load_environment

    reports = []
    with tempfile.TemporaryDirectory(prefix="copilot-import-") as folder:
        future = Path(folder) / "governance.yaml"
        if governance.exists():
            shutil.copy2(governance, future)
        set_tiers(future, tiers)
        with rules.using(future):
            for environment, text in texts.items():
                path = Path(folder) / "configs" / f"{environment}.yaml"
                path.parent.mkdir(exist_ok=True)
                path.write_text(text)
                try:
                    load_environment(path, stack=environment)
                except ConfigError as error:
                    # Name the file as it will be written, not the temporary copy.
                    reports.append(re.sub(r"\S*?(configs/[^/\s:]+\.yaml)", r"\1", error.report()))
    return "\n".join(reports)


# ---- policies/governance.yaml: the environment's tier -----------------------------------------

TIER_LINE = re.compile(r"^(?P<indent>\s+)(?P<env>[A-Za-z0-9_-]+):\s*\{\s*tier:\s*(?P<tier>[a-z]+)\s*\}\s*$")


def governance_conflicts(path: Path, wanted: dict[str, str]) -> list[str]:
    if not path.exists():
        return []
    current = _tiers(path.read_text())
    return [f"{path.name}: environments.{env} (tier {current[env]}, import asks {tier})" for env, tier in wanted.items()
            if env in current and current[env] != tier]


def _tiers(text: str) -> dict[str, str]:
    data = yaml.safe_load(text) or {}
    return {str(env): str((entry or {}).get("tier")) for env, entry in (data.get("environments") or {}).items()}


def set_tiers(path: Path, wanted: dict[str, str]) -> None:
    """Adds or updates `environments.<env>: {tier: ...}` lines, keeping the file's comments
    (it belongs to the security team, who read its history)."""
    text = path.read_text() if path.exists() else "default_tier: production\nenvironments:\n"
    lines = text.splitlines()
    if not any(line.rstrip() == "environments:" for line in lines):
        lines += ["environments:"]
    start = next(i for i, line in enumerate(lines) if line.rstrip() == "environments:")
    for env, tier in wanted.items():
        for index, line in enumerate(lines):
            match = TIER_LINE.match(line)
            if match and match["env"] == env:
                lines[index] = f"{match['indent']}{env}: {{tier: {tier}}}"
                break
        else:
            lines.insert(start + 1, f"  {env}: {{tier: {tier}}}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
