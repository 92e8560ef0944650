"""Generates the pack config files from the defaults table and the environment files.

    python -m policies.config_gen            # rewrite policies/config/<env>.json and taggable_types.txt
    python -m policies.config_gen --check    # exit 1 when a checked-in file is stale

The environment file is the single source of truth for waivers, required tags and log
settings; this module copies them into every policy's config entry, because CrossGuard
hands each policy only its own entry. The pack itself never imports the project's code.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from configs.checks import SECRET_LOOKING_NAME
from configs.endpoints import required_endpoints
from configs.loader import config_path, load_environment
from configs.model import EnvironmentConfig
from policies.config_defaults import PRODUCTION_MIN_RETENTION_DAYS, environment_kind, level_for
from policies.registry import RULES

PACK_DIR = Path(__file__).resolve().parent
CONFIG_DIR = PACK_DIR / "config"
TAGGABLE_FILE = PACK_DIR / "taggable_types.txt"
REFERENCE_ENVIRONMENTS = ("dev", "staging", "prod")


def environment_options(config: EnvironmentConfig) -> dict[str, Any]:
    """Rule options that follow from the environment file (each rule takes the ones it declares)."""
    return {
        "requiredTags": list(config.policy.required_tags),
        "minRetentionDays": PRODUCTION_MIN_RETENTION_DAYS,
        "requireKms": config.logs.kms,
        "requiredEndpoints": list(required_endpoints(config)),
        "accountId": config.aws.account_id or "",
        "secretNamePattern": SECRET_LOOKING_NAME.pattern,  # the environment file's own rule
        "allWaivers": [_waiver(w, with_policy=True) for w in config.policy.waivers],
        "policyNames": [rule.name for rule in RULES],
    }


def _waiver(waiver, *, with_policy: bool = False) -> dict[str, str]:
    entry = {"resource": waiver.resource, "reason": waiver.reason, "expires": waiver.expires.isoformat()}
    return {"policy": waiver.policy, **entry} if with_policy else entry


def pack_config(config: EnvironmentConfig) -> dict[str, dict[str, Any]]:
    kind = environment_kind(config.environment, config.is_production)
    options = environment_options(config)
    owner_keys = sorted(set(config.services) | set(config.registry.repositories))
    result = {}
    for rule in RULES:
        result[rule.name] = {
            "enforcementLevel": level_for(rule, kind),
            "environment": config.environment,
            "production": config.is_production,
            "ownerKeys": owner_keys,
            "waivers": [_waiver(w) for w in config.policy.waivers if w.policy == rule.name],
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


def outputs(environments=REFERENCE_ENVIRONMENTS) -> dict[Path, str]:
    files = {CONFIG_DIR / f"{env}.json": render(pack_config(load_environment(config_path(env), stack=env))) for env in environments}
    files[TAGGABLE_FILE] = "\n".join(taggable_types()) + "\n"
    return files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a generated file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'}: {path.relative_to(PACK_DIR.parent)}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
