"""Generates the pack config (`pulumi preview --policy-pack-config FILE`) from
policies/governance.yaml (the tier's levels, required tags, waivers) and the environment file
(its components and settings), for any environment.

    python3 run.py policy-config ENV          # print the config of configs/ENV.yaml (any environment)
    python3 run.py policy-config ENV -o FILE  # write it to FILE
    python -m policies.config_gen            # rewrite policies/config/<env>.json of every stack, and taggable_types.txt
    python -m policies.config_gen --check    # exit 1 when a committed file is stale or has no stack

CrossGuard hands each policy only its own config entry, so the pack-wide settings are copied
into every entry. The pack itself never imports the project's code.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Optional

from configs.checks import SECRET_LOOKING_NAME
from configs.endpoints import required_endpoints
from configs.errors import ConfigError, ConfigIssue
from configs.governance import GOVERNANCE_NAME, Governance, load_governance, waiver_keys
from configs.loader import config_path, load_environment
from configs.model import EnvironmentConfig
from policies.config_defaults import PRODUCTION_MIN_RETENTION_DAYS, level_for
from policies.registry import RULES, RULES_BY_NAME

PACK_DIR = Path(__file__).resolve().parent
ROOT = PACK_DIR.parent
CONFIG_DIR = PACK_DIR / "config"
TAGGABLE_FILE = PACK_DIR / "taggable_types.txt"


def stack_environments(root: Path = ROOT) -> list[str]:
    """Every environment with a stack: configs/<name>.yaml beside a Pulumi.<name>.yaml."""
    from pipeline.environments import stack_names

    return stack_names(root)


def environment_options(config: EnvironmentConfig, governance: Governance) -> dict[str, Any]:
    """Rule options that follow from governance.yaml and the environment file (each rule
    takes the ones it declares)."""
    tier = governance.tier(config.environment)
    waivers = [w for _, w in governance.waivers_of(config.environment)]
    return {
        "requiredTags": list(dict.fromkeys(["env", *governance.required_tags])),
        "minRetentionDays": PRODUCTION_MIN_RETENTION_DAYS,
        # The tier decides, not the file: production logs are encrypted whatever logs.kms says.
        "requireKms": config.logs.kms or tier.requires.logs_kms,
        "requiredEndpoints": list(required_endpoints(config)),
        "accountId": config.aws.account_id or "",
        "secretNamePattern": SECRET_LOOKING_NAME.pattern,  # the environment file's own rule
        "allWaivers": [_waiver(w, with_policy=True) for w in waivers],
        "policyNames": [rule.name for rule in RULES],
        "maxWaiverDays": governance.max_waiver_days,
    }


def _waiver(waiver, *, with_policy: bool = False) -> dict[str, str]:
    entry = {"resource": waiver.resource, "reason": waiver.reason, "expires": waiver.expires.isoformat()}
    if waiver.approved_by:
        entry["approvedBy"] = waiver.approved_by
    return {"policy": waiver.policy, **entry} if with_policy else entry


def unapproved_security_waivers(governance: Governance) -> list[ConfigIssue]:
    """Waivers of security rules need approved_by (the loader cannot tell a rule's category:
    it never imports the pack)."""
    issues = []
    for index, waiver in enumerate(governance.waivers):
        rule = RULES_BY_NAME.get(waiver.policy)
        if rule is not None and rule.category == "security" and not waiver.approved_by:
            issues.append(ConfigIssue(GOVERNANCE_NAME, 0, f"waivers[{index}]",
                                      f"{waiver.policy} is a security rule: its waiver needs approved_by"))
    return issues


def pack_config(config: EnvironmentConfig) -> dict[str, dict[str, Any]]:
    governance = load_governance()
    problems = unapproved_security_waivers(governance)
    if problems:
        raise ConfigError(problems)
    tier_name = governance.tier_name(config.environment)
    tier = governance.tier(config.environment)
    options = environment_options(config, governance)
    keys = {kind: sorted(found) for kind, found in waiver_keys(config).items()}
    waivers = [w for _, w in governance.waivers_of(config.environment)]
    result = {}
    for rule in RULES:
        result[rule.name] = {
            "enforcementLevel": level_for(rule, tier_name, tier.levels),
            "environment": config.environment,
            "production": tier_name == "production",
            "componentKeys": keys,
            "waivers": [_waiver(w) for w in waivers if w.policy == rule.name],
            **{key: options[key] for key in rule.options if key in options},
        }
    return result


def render(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


# ---- the taggable resource types of pulumi-aws -----------------------------------------------

_TOKEN = re.compile(r'^@pulumi\.type_token\("(aws:[^"]+)"\)', re.MULTILINE)
_TAGS_ARG = re.compile(r"^\s+tags: pulumi\.Input\[Optional\[", re.MULTILINE)


def taggable_types() -> list[str]:
    """Resource types whose args take `tags`, read from the installed provider SDK's sources."""
    import pulumi_aws

    found = set()
    for path in Path(pulumi_aws.__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        tokens = _TOKEN.findall(text)
        if tokens and _TAGS_ARG.search(text):
            found.update(token for token in tokens if not token.startswith("aws:index/provider"))
    return sorted(found)


def outputs(environments: Optional[list[str]] = None) -> dict[Path, str]:
    environments = stack_environments() if environments is None else environments
    files = {CONFIG_DIR / f"{env}.json": render(pack_config(load_environment(config_path(env), stack=env))) for env in environments}
    files[TAGGABLE_FILE] = "\n".join(taggable_types()) + "\n"
    return files


def stale_configs() -> list[Path]:
    """Committed config files of environments that no longer have a stack."""
    wanted = {f"{env}.json" for env in stack_environments()}
    return sorted(p for p in CONFIG_DIR.glob("*.json") if p.name not in wanted)


def write_one(environment: str, output: Optional[str]) -> int:
    """`run.py policy-config ENV`: the config of any environment, listed in governance.yaml or not."""
    try:
        text = render(pack_config(load_environment(config_path(environment), stack=environment)))
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return 2
    if output in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(text)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("environment", nargs="?", help="print (or -o write) the config of configs/ENV.yaml only")
    parser.add_argument("-o", "--output", help="with ENV: the file to write (default: stdout)")
    parser.add_argument("--check", action="store_true", help="fail when a generated file is stale")
    args = parser.parse_args(argv)
    if args.environment:
        return write_one(args.environment, args.output)
    stale = []
    for path, text in outputs().items():
        current = path.read_text() if path.exists() else None
        if current == text or (args.check and current is None and path != TAGGABLE_FILE):
            continue  # a stack need not commit its config: the workflows generate theirs
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'}: {path.relative_to(PACK_DIR.parent)}")
    for path in stale_configs():  # an environment whose stack is gone
        stale.append(path)
        if not args.check:
            path.unlink()
        print(f"{'stale' if args.check else 'removed'}: {path.relative_to(PACK_DIR.parent)} (no stack)")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
