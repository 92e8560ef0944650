"""policies/governance.yaml: which tier judges each environment, required tags, waivers.

The security team owns that file (.github/CODEOWNERS); an environment file has no say in it.
The loader asks this module for the tier (its defaults, and the settings it refuses because
they would weaken a mandatory rule) and for the environment's waivers; the pack's config is
generated from it (policies/config_gen.py). Code that needs "is this production" asks here.
"""

from __future__ import annotations

import contextlib
import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Iterator, Literal, Optional

import pydantic
from pydantic import Field, StringConstraints, model_validator

from configs.errors import ConfigError, ConfigIssue, excerpt
from configs.model import Bool, EnvironmentName, Int, NonEmptyText, PolicyName, Strict, TagKey
from configs.yaml_source import YamlPath, format_path, read_yaml

GOVERNANCE_FILE = Path(__file__).resolve().parent.parent / "policies" / "governance.yaml"
GOVERNANCE_NAME = "policies/governance.yaml"

TierName = Literal["production", "staging", "development"]
Level = Literal["mandatory", "advisory"]

# `<kind>/<key>` for what has a key in the environment file; a kind alone for what is shared.
# The pack matches them by URN ancestry (policies/framework.py WAIVER_KINDS says which
# component each kind is; a test keeps the two lists equal).
KEYED_KINDS = ("service", "job", "repository", "provider")
SHARED_KINDS = ("alb", "network", "cluster", "registry", "environment")
SCOPE_PATTERN = rf"^(({'|'.join(KEYED_KINDS)})/[a-z][a-z0-9-]{{0,62}}|{'|'.join(SHARED_KINDS)})$"
WaiverScope = Annotated[str, StringConstraints(pattern=SCOPE_PATTERN)]


class Levels(Strict):
    """The enforcement level of each rule category (policies/README.md names every rule's)."""

    security: Level
    governance: Level
    reliability: Level
    cost: Level
    hygiene: Level


class Requirements(Strict):
    """What every environment of a tier gets, and may not turn off in its own file."""

    protect: Bool = Field(default=False, description="Stateful resources and the load balancer are protected from deletion.")
    logs_kms: Bool = Field(default=False, description="Log groups are encrypted with the environment's KMS key.")


class Tier(Strict):
    levels: Levels
    requires: Requirements = Field(default_factory=Requirements)


class Placement(Strict):
    tier: TierName


class Waiver(Strict):
    environment: EnvironmentName
    policy: PolicyName = Field(description="The policy's kebab-case name.")
    resource: WaiverScope = Field(description="`<kind>/<key>` or a shared kind: what the waiver covers.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10)]
    expires: datetime.date = Field(description="The last day the waiver applies; at most max_waiver_days away.")
    approved_by: Optional[NonEmptyText] = Field(default=None, description="Who approved it; required for security rules.")


class Governance(Strict):
    default_tier: TierName = "production"
    tiers: dict[TierName, Tier]
    environments: dict[EnvironmentName, Placement] = Field(default_factory=dict)
    required_tags: list[TagKey] = Field(default_factory=list)
    max_waiver_days: Int = Field(default=180, ge=1, le=365)
    waivers: list[Waiver] = Field(default_factory=list)

    @model_validator(mode="after")
    def _every_tier_defined(self) -> "Governance":
        missing = [t for t in ("production", "staging", "development") if t not in self.tiers]
        if missing:
            raise ValueError(f"tiers must define {', '.join(missing)}")
        return self

    def tier_name(self, environment: str) -> str:
        placement = self.environments.get(environment)
        return placement.tier if placement is not None else self.default_tier

    def tier(self, environment: str) -> Tier:
        return self.tiers[self.tier_name(environment)]  # type: ignore[index]

    def waivers_of(self, environment: str) -> list[tuple[int, Waiver]]:
        """(index in waivers, waiver) of one environment."""
        return [(i, w) for i, w in enumerate(self.waivers) if w.environment == environment]


# ---- reading the file ---------------------------------------------------------------------


_current = GOVERNANCE_FILE


def governance_file() -> Path:
    return _current


@contextlib.contextmanager
def using(path: Path) -> Iterator[None]:
    """For tests: judge with another governance file inside the block."""
    global _current
    before, _current = _current, Path(path).resolve()
    try:
        yield
    finally:
        _current = before


def display_name(path: Path) -> str:
    return GOVERNANCE_NAME if path == GOVERNANCE_FILE else str(path)


def load_governance(path: Optional[Path] = None) -> Governance:
    """The validated governance file, or ConfigError with its file:line problems."""
    path = Path(path or _current).resolve()
    return _load(path, _mtime(path))


def _mtime(path: Path) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=8)
def _load(path: Path, _mtime: float) -> Governance:
    name = display_name(path)
    source, issues = read_yaml(path, name)
    if issues:
        raise ConfigError(issues)
    try:
        return Governance.model_validate(source.data)
    except pydantic.ValidationError as error:
        raise ConfigError(_issues(error, source, name)) from None


def _issues(error: pydantic.ValidationError, source, name: str) -> list[ConfigIssue]:
    issues = []
    for detail in error.errors(include_url=False):
        path = _existing(detail["loc"], source.data)
        file, line = source.location(path)
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "string_pattern_mismatch" and detail["loc"][-1] == "resource":
            message = (f"{excerpt(detail['input'])} is not a waiver scope; use <kind>/<key> "
                       f"({', '.join(KEYED_KINDS)}) or one of {', '.join(SHARED_KINDS)}")
        elif "input" in detail and detail["type"] != "missing":
            message += f" (got {excerpt(detail['input'])})"
        issues.append(ConfigIssue(file or name, line, format_path(path), message))
    return issues


def _existing(loc: tuple, data: Any) -> YamlPath:
    path, node = [], data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            if isinstance(node, dict) and part == loc[-1]:
                path.append(part)
            break
        path.append(part)
    return tuple(path)


# ---- what the loader asks -----------------------------------------------------------------


def tier_name(environment: str) -> str:
    return load_governance().tier_name(environment)


def tier_of(environment: str) -> Tier:
    return load_governance().tier(environment)


def is_production(environment: str) -> bool:
    return tier_name(environment) == "production"


MOVED = "it moved to policies/governance.yaml, which the security team owns; ask them to {what} there"
MOVED_KEYS = {
    "waivers": "add the waiver (environment, policy, resource as <kind>/<key>, reason, expires, approved_by)",
    "required_tags": "change required_tags",
}


def moved_keys(data: Any) -> Iterator[tuple[YamlPath, str]]:
    """The old `policy:` section of an environment file: refused, with where it lives now."""
    if not isinstance(data, dict) or "policy" not in data:
        return
    section = data["policy"]
    if not isinstance(section, dict) or not section:
        yield ("policy",), "an environment file no longer sets policy; " + MOVED.format(what="change waivers or required_tags")
        return
    for key in section:
        what = MOVED_KEYS.get(key, f"change {key}")
        yield ("policy", key), f"an environment file no longer sets policy.{key}; " + MOVED.format(what=what)


# (setting in the environment file, what the tier requires, the rule it would weaken)
WEAKENING = (
    (("logs", "kms"), "logs_kms", "aws-cloudwatch-log-group-kms"),
    (("protect",), "protect", "aws-lb-deletion-protection"),
    (("load_balancer", "deletion_protection"), "protect", "aws-lb-deletion-protection"),
)


def weakened_requirements(data: Any, environment: str) -> Iterator[tuple[YamlPath, str]]:
    """Settings explicitly turned off that the environment's tier requires."""
    governance = load_governance()
    tier = governance.tier(environment)
    for path, requirement, rule in WEAKENING:
        if getattr(tier.requires, requirement) and _explicit(data, path) is False:
            yield path, (
                f"false is not allowed in the {governance.tier_name(environment)} tier ({GOVERNANCE_NAME}): "
                f"{rule} is mandatory there; remove the setting (the tier turns it on)"
            )


# Log groups whose retention a file may set: the pack's aws-cloudwatch-log-group-retention
# requires at least PRODUCTION_MIN_RETENTION_DAYS of each in the production tier.
RETENTION_SETTINGS = (("logs", "retention_days"), ("cluster", "exec", "log_retention_days"), ("network", "flow_logs", "retention_days"))


def production_floor(data: Any, environment: str) -> Iterator[tuple[YamlPath, str]]:
    """What the production tier's mandatory rules would reject, refused at load: a log retention
    below the floor (aws-cloudwatch-log-group-retention) and a load balancer without access
    logs (aws-lb-access-logs). Without this a production file would load and then fail the pack."""
    from policies.config_defaults import PRODUCTION_MIN_RETENTION_DAYS

    if not isinstance(data, dict) or not is_production(environment):
        return
    tier = f"the {load_governance().tier_name(environment)} tier ({GOVERNANCE_NAME})"
    paths = list(RETENTION_SETTINGS) + [
        (section, key, "log_retention_days")
        for section in ("services", "jobs")
        for key in (data.get(section) or {} if isinstance(data.get(section), dict) else {})
    ]
    for path in paths:
        days = _explicit(data, path)
        if isinstance(days, int) and not isinstance(days, bool) and days < PRODUCTION_MIN_RETENTION_DAYS:
            yield path, (f"{days} days is below the {PRODUCTION_MIN_RETENTION_DAYS} that aws-cloudwatch-log-group-retention "
                         f"requires in {tier}; keep logs at least {PRODUCTION_MIN_RETENTION_DAYS} days")
    services = data.get("services") if isinstance(data.get("services"), dict) else {}
    exposed = sorted(key for key, service in services.items() if isinstance(service, dict) and service.get("expose"))
    if exposed and not _explicit(data, ("load_balancer", "access_logs")):
        yield ("load_balancer",), (f"the load balancer of {', '.join(exposed)} has no access_logs; aws-lb-access-logs is "
                                   f"mandatory in {tier}: set load_balancer.access_logs.bucket (a bucket with the ELB log-delivery policy)")


def _explicit(data: Any, path: YamlPath) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def tier_defaults(data: dict) -> dict:
    """The environment file's data with what its tier requires filled in where the file is
    silent (protect, logs.kms), so each default is decided once: by the tier."""
    environment = data.get("environment")
    if not isinstance(environment, str):
        return data
    try:
        requires = tier_of(environment).requires
    except (ConfigError, KeyError):
        return data  # the governance problem is reported by the loader
    result = dict(data)
    if result.get("protect") is None:
        result["protect"] = requires.protect
    logs = result.get("logs")
    if logs is None or (isinstance(logs, dict) and logs.get("kms") is None):
        result["logs"] = logs = {**(logs or {}), "kms": requires.logs_kms}
    if isinstance(logs, dict) and logs.get("retention_days") is None and is_production(environment):
        from policies.config_defaults import PRODUCTION_MIN_RETENTION_DAYS

        # The production floor of aws-cloudwatch-log-group-retention is the tier's default.
        result["logs"] = {**logs, "retention_days": PRODUCTION_MIN_RETENTION_DAYS}
    return result


def waiver_problems(environment: str, today: datetime.date) -> list[ConfigIssue]:
    """The environment's waivers: expired, further away than max_waiver_days, or twice; at
    their line in governance.yaml."""
    governance = load_governance()
    name = display_name(_current)
    source, _ = read_yaml(_current, name)
    issues: list[ConfigIssue] = []

    def at(path: YamlPath, message: str) -> None:
        file, line = source.location(path)
        issues.append(ConfigIssue(file or name, line, format_path(path), message))

    seen: dict[tuple[str, str], int] = {}
    for index, waiver in governance.waivers_of(environment):
        path = ("waivers", index)
        first = seen.setdefault((waiver.policy, waiver.resource), index)
        if first != index:
            at(path, f"{waiver.policy} is already waived for {waiver.resource} in waivers[{first}]; keep one")
        if waiver.expires < today:
            at((*path, "expires"), f"the waiver of {waiver.policy} for {waiver.resource} in {environment} expired on "
               f"{waiver.expires}; fix the resource or renew the waiver with a new reason")
        elif (waiver.expires - today).days > governance.max_waiver_days:
            at((*path, "expires"), f"{waiver.expires} is {(waiver.expires - today).days} days away, more than "
               f"max_waiver_days ({governance.max_waiver_days}); choose an expiry by {today + datetime.timedelta(days=governance.max_waiver_days)}")
    return issues


def waiver_keys(config) -> dict[str, set[str]]:
    """The keys a waiver's `<kind>/<key>` can name in an environment (EnvironmentConfig)."""
    return {
        "service": set(config.services),
        "job": set(getattr(config, "jobs", None) or ()),
        "repository": set(config.registry.repositories),
        "provider": set(config.cluster.capacity.ec2),
    }


def missing_tags(tags: dict[str, str]) -> list[str]:
    return [tag for tag in load_governance().required_tags if tag not in tags]
