"""Defaults and resolved values of the environment model, endpoint derivation, subnet
allocation and the `extends` deep merge."""

from __future__ import annotations

import datetime
import ipaddress
import logging
from pathlib import Path
from typing import Any

import pytest

from configs.checks import check_endpoints
from configs.endpoints import required_endpoints, resolve_endpoints
from configs.loader import CONFIG_DIR, load_environment, load_layered
from configs.model import EnvironmentConfig
from configs.subnets import allocate_subnets
from tests.configs.cases import TODAY

REGION = "eu-west-1"
SERVICE = {"image": {"uri": "nginx:1.25"}, "user": "10001", "cpu": 256, "memory": 512}


def minimal(**sections: Any) -> EnvironmentConfig:
    return EnvironmentConfig.model_validate({"environment": "dev", "aws": {"region": REGION}, **sections})


def reference(environment: str) -> EnvironmentConfig:
    return load_environment(CONFIG_DIR / f"{environment}.yaml", stack=environment, today=TODAY)


# ---- defaults ------------------------------------------------------------------------------------


def test_secure_defaults_of_a_minimal_file() -> None:
    config = minimal(services={"api": SERVICE})
    api = config.services["api"]
    assert {
        "nat": config.network.nat,
        "cidr": str(config.network.cidr),
        "zones": config.network.availability_zones,
        "prefixes": (config.network.subnet_prefix.public, config.network.subnet_prefix.private),
        "flow_logs": (config.network.flow_logs.enabled, config.network.flow_logs.retention_days),
        "endpoints": config.network.endpoints,
        "insights": config.cluster.container_insights,
        "exec": config.cluster.exec.enabled,
        "strategy": [(e.provider, e.base, e.weight) for e in config.cluster.default_strategy],
        "scanning": config.registry.scanning,
        "read_only_root": api.read_only_root_filesystem,
        "deployment": (api.deployment.min_healthy_percent, api.deployment.max_percent, api.deployment.circuit_breaker),
        "log_retention": config.log_retention_for("api"),
        "exec_log_retention": config.exec_log_retention,
        "ingress": [str(c) for c in config.load_balancer.ingress_cidrs],
        "ssl_policy": config.load_balancer.ssl_policy,
        "deploys": config.deploys,
    } == {
        "nat": "per_az",
        "cidr": "10.0.0.0/16",
        "zones": 2,
        "prefixes": (24, 20),
        "flow_logs": (True, 90),
        "endpoints": "auto",
        "insights": "enabled",
        "exec": False,
        "strategy": [("fargate", 0, 1)],
        "scanning": "basic",
        "read_only_root": True,
        "deployment": (100, 200, True),
        "log_retention": 30,
        "exec_log_retention": 30,
        "ingress": ["0.0.0.0/0"],
        "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "deploys": "pulumi",
    }


def test_repository_lifecycle_defaults() -> None:
    lifecycle = minimal(registry={"repositories": {"api": {}}}).registry.repositories["api"].lifecycle
    assert (lifecycle.keep_tagged, lifecycle.tag_prefixes, lifecycle.expire_untagged_days) == (30, ["v"], 14)


@pytest.mark.parametrize(
    ("environment", "protect", "expected"),
    [
        ("dev", None, False),  # development tier (policies/governance.yaml)
        ("staging", None, False),
        ("prod", None, True),  # production tier
        ("prod-eu", None, True),  # not listed: production, fail closed
        ("preprod", None, True),  # the tier decides, not the name
        ("unlisted", None, True),
        ("dev", True, True),
    ],
)
def test_protect_defaults_to_what_the_tier_requires(environment: str, protect: bool | None, expected: bool) -> None:
    config = EnvironmentConfig.model_validate({"environment": environment, "aws": {"region": REGION}, "protect": protect})
    assert (config.protect_resources, config.load_balancer_deletion_protection) == (expected, expected)


def test_load_balancer_deletion_protection_can_differ_from_protect() -> None:
    config = minimal(protect=True, load_balancer={"deletion_protection": False})
    assert (config.protect_resources, config.load_balancer_deletion_protection) == (True, False)


def test_all_tags_add_env_to_the_merged_tags() -> None:
    assert reference("prod").all_tags == {"team": "platform", "cost-center": "4712", "env": "prod"}


def test_retention_falls_back_to_the_environment_default() -> None:
    config = minimal(logs={"retention_days": 7}, services={"api": SERVICE, "web": {**SERVICE, "log_retention_days": 90}})
    assert (config.log_retention_for("api"), config.log_retention_for("web"), config.exec_log_retention) == (7, 90, 7)


# ---- strategies and architecture -----------------------------------------------------------------


def test_strategy_for_uses_the_service_or_the_cluster_default() -> None:
    prod = reference("prod")
    assert {name: [(e.provider, e.base, e.weight) for e in prod.strategy_for(name)] for name in prod.services} == {
        "api": [("fargate", 2, 1), ("fargate_spot", 0, 1)],
        "worker": [("general", 0, 1)],
    }
    # a job's strategy, as a service's (prod's nightly report batch)
    assert [(e.provider, e.base, e.weight) for e in prod.strategy_for("reports")] == [("fargate_spot", 0, 1)]
    dev = reference("dev")
    assert [(e.provider, e.base, e.weight) for e in dev.strategy_for("worker")] == [("fargate_spot", 0, 4), ("fargate", 0, 1)]


def test_architecture_follows_the_ec2_provider_else_the_service() -> None:
    config = minimal(
        cluster={"capacity": {"ec2": {"graviton": {"instance_types": ["m7g.large"], "architecture": "arm64"}}}},
        services={
            "batch": {**SERVICE, "capacity": [{"provider": "graviton"}]},
            "api": SERVICE,
            "arm": {**SERVICE, "architecture": "arm64", "capacity": [{"provider": "fargate"}]},
        },
    )
    assert {name: (config.architecture_for(name), config.uses_ec2(name)) for name in config.services} == {
        "batch": ("arm64", True),
        "api": ("x86_64", False),
        "arm": ("arm64", False),
    }


# ---- endpoints -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        # secrets of both kinds, ECS Exec on (ssmmessages, kms), no EC2; never sts unless listed
        ("dev", ("ecr.api", "ecr.dkr", "kms", "logs", "s3", "secretsmanager", "ssm", "ssmmessages")),
        # a Secrets Manager secret; task roles need no sts (credentials come from the ECS agent);
        # the worker is queue-scaled, so its tasks reach SQS through sqs
        ("staging", ("ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager", "sqs")),
        # EC2 capacity brings the agent endpoints (Session Manager goes through the NAT)
        ("prod", ("ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry", "logs", "s3", "secretsmanager", "sqs", "ssm")),
    ],
)
def test_required_endpoints_of_the_reference_environments(environment: str, expected: tuple[str, ...]) -> None:
    config = reference(environment)
    assert (required_endpoints(config), resolve_endpoints(config)) == (expected, expected)


BASELINE = ("ecr.api", "ecr.dkr", "logs", "s3")


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ({"services": {"api": SERVICE}}, BASELINE),
        ({}, BASELINE),
        ({"cluster": {"exec": {"enabled": True}}}, ("ecr.api", "ecr.dkr", "kms", "logs", "s3", "ssmmessages")),
        (
            {"cluster": {"capacity": {"ec2": {"general": {"instance_types": ["m6i.large"]}}}}},
            ("ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry", "logs", "s3"),
        ),
        ({"services": {"api": {**SERVICE, "secrets": {"KEY": {"parameter": "/k"}}}}}, ("ecr.api", "ecr.dkr", "logs", "s3", "ssm")),
        (
            {"services": {"api": {**SERVICE, "access": {"read": ["arn:aws:sqs:eu-west-1:123456789012:q"]}}}},
            BASELINE,
        ),
        (
            {"network": {"nat": "none"}, "cluster": {"capacity": {"ec2": {"general": {"instance_types": ["m6i.large"]}}}}},
            ("ec2messages", "ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry", "logs", "s3", "ssm", "ssmmessages"),
        ),
        # Without NAT, the APIs the task roles grant: access ARNs' services and permissions'
        # action prefixes, through the endpoint each offers (DynamoDB's is a gateway).
        (
            {"network": {"nat": "none"}, "services": {"api": {**SERVICE, "access": {
                "read": ["arn:aws:sqs:eu-west-1:123456789012:q"], "write": ["arn:aws:dynamodb:eu-west-1:123456789012:table/t"]}}}},
            ("dynamodb", "ecr.api", "ecr.dkr", "logs", "s3", "sqs"),
        ),
        (
            {"network": {"nat": "none"}, "jobs": {"report": {**SERVICE, "permissions": [
                {"actions": ["sts:AssumeRole", "events:PutEvents"], "resources": ["arn:aws:iam::123456789012:role/r"]}]}}},
            ("ecr.api", "ecr.dkr", "events", "logs", "s3", "sts"),
        ),
        # EFS mounts are NFS to the mount targets, and EC2 is not an API the platform offers an
        # endpoint for: nothing is added.
        (
            {"network": {"nat": "none"}, "services": {"api": {**SERVICE, "permissions": [
                {"actions": ["elasticfilesystem:ClientMount", "ec2:DescribeInstances"], "resources": ["*"]}]}}},
            BASELINE,
        ),
    ],
    ids=["no-secrets", "no-services", "exec-on", "ec2-on", "ssm-parameter", "task-role-no-sts", "ec2-without-nat",
         "access-without-nat", "permissions-without-nat", "no-endpoint-to-add"],
)
def test_required_endpoints_edge_cases(sections: dict, expected: tuple[str, ...]) -> None:
    assert required_endpoints(minimal(**sections)) == expected


def test_explicit_endpoints_resolve_sorted_as_written() -> None:
    config = minimal(network={"nat": "single", "endpoints": ["logs", "s3"]})
    assert resolve_endpoints(config) == ("logs", "s3")


# ---- subnets -------------------------------------------------------------------------------------

VPC = ipaddress.IPv4Network("10.0.0.0/16")


def cidrs(zones: list[str]) -> dict[tuple[str, str], str]:
    return {key: str(net) for key, net in allocate_subnets(VPC, zones, 24, 20).items()}


@pytest.mark.parametrize(
    ("letters", "expected"),
    [
        ("a", {("private", "a"): "10.0.0.0/20", ("public", "a"): "10.0.255.0/24"}),
        (
            "ab",
            {
                ("private", "a"): "10.0.0.0/20", ("public", "a"): "10.0.255.0/24",
                ("private", "b"): "10.0.16.0/20", ("public", "b"): "10.0.254.0/24",
            },
        ),
        (
            "abc",
            {
                ("private", "a"): "10.0.0.0/20", ("public", "a"): "10.0.255.0/24",
                ("private", "b"): "10.0.16.0/20", ("public", "b"): "10.0.254.0/24",
                ("private", "c"): "10.0.32.0/20", ("public", "c"): "10.0.253.0/24",
            },
        ),
    ],
)
def test_allocate_subnets_exact_cidrs(letters: str, expected: dict[tuple[str, str], str]) -> None:
    allocated = cidrs([REGION + letter for letter in letters])
    assert {(tier, zone[-1]): cidr for (tier, zone), cidr in allocated.items()} == expected


def test_adding_or_removing_a_zone_moves_no_other_subnet() -> None:
    three = cidrs([f"{REGION}a", f"{REGION}b", f"{REGION}c"])
    without_b = cidrs([f"{REGION}a", f"{REGION}c"])
    assert without_b == {key: cidr for key, cidr in three.items() if key[1] != f"{REGION}b"}


def test_subnets_do_not_overlap_and_stay_inside_the_vpc() -> None:
    nets = list(allocate_subnets(VPC, [f"{REGION}{letter}" for letter in "abcdef"], 24, 20).values())
    assert all(net.subnet_of(VPC) for net in nets)
    assert [(a, b) for i, a in enumerate(nets) for b in nets[i + 1:] if a.overlaps(b)] == []


# ---- extends: deep merge -------------------------------------------------------------------------


def test_deep_merge_mappings_merge_lists_and_scalars_replace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.yaml").write_text(
        "tags: {team: platform, owner: ops}\n"          # 1
        "network:\n"                                   # 2
        "  nat: single\n"                              # 3
        "  endpoints: [s3, logs, ecr.api]\n"           # 4
        "cluster:\n"                                   # 5
        "  default_strategy: [{provider: fargate}, {provider: fargate_spot}]\n"  # 6
    )
    (tmp_path / "env.yaml").write_text(
        "extends: base.yaml\n"                         # 1
        "environment: dev\n"                           # 2
        "aws: {region: eu-west-1}\n"                   # 3
        "tags: {owner: dev-team}\n"                    # 4
        "network:\n"                                   # 5
        "  endpoints: [s3]\n"                          # 6
        "cluster:\n"                                   # 7
        "  default_strategy: [{provider: fargate_spot, weight: 2}]\n"  # 8
    )
    source = load_layered(Path("env.yaml"))
    assert source.data == {
        "tags": {"team": "platform", "owner": "dev-team"},
        "network": {"nat": "single", "endpoints": ["s3"]},
        "cluster": {"default_strategy": [{"provider": "fargate_spot", "weight": 2}]},
        "extends": "base.yaml",
        "environment": "dev",
        "aws": {"region": "eu-west-1"},
    }
    assert {
        path: source.location(path)
        for path in [
            ("tags", "team"), ("tags", "owner"), ("network", "nat"), ("network", "endpoints"),
            ("network", "endpoints", 0), ("cluster", "default_strategy", 0, "weight"), ("environment",),
        ]
    } == {
        ("tags", "team"): ("base.yaml", 1),
        ("tags", "owner"): ("env.yaml", 4),
        ("network", "nat"): ("base.yaml", 3),
        ("network", "endpoints"): ("env.yaml", 6),
        ("network", "endpoints", 0): ("env.yaml", 6),
        ("cluster", "default_strategy", 0, "weight"): ("env.yaml", 8),
        ("environment",): ("env.yaml", 2),
    }
    # A replaced list keeps none of the base's locations.
    assert ("network", "endpoints", 2) not in source.locations


def test_reference_prod_merges_base_services() -> None:
    prod = reference("prod")
    api = prod.services["api"]
    assert (api.image.repository, api.image.tag, api.cpu, api.memory, api.port, api.user, api.desired_count) == (
        "api", "v1.4.2", 512, 1024, 8080, "10001", 3
    )
    assert sorted(prod.registry.repositories) == ["api", "reports", "worker"]


def test_an_explicit_list_without_nat_names_the_endpoints_of_the_called_apis() -> None:
    """Every endpoint `auto` derives can also be written by hand: before, `sqs` was derived for a
    queue worker but refused in a list, so `nat: none` with a list could not be fixed."""
    access = {"write": ["arn:aws:sqs:eu-west-1:123456789012:q", "arn:aws:sns:eu-west-1:123456789012:t"]}
    listed = ["ecr.api", "ecr.dkr", "logs", "s3"]

    def problems(endpoints: list[str]) -> list:
        config = minimal(network={"nat": "none", "endpoints": endpoints}, services={"api": {**SERVICE, "access": access}})
        return list(check_endpoints(config, datetime.date(2026, 11, 27)))

    assert problems(listed) == [(("network", "endpoints"), (
        "with nat: none, tasks reach AWS only through endpoints, and sns, sqs are missing; "
        "add them or write endpoints: auto"))]
    assert problems([*listed, "sqs", "sns"]) == []


def test_without_nat_an_api_with_no_endpoint_is_accepted_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("env.yaml").write_text(
        "environment: dev\naws: {region: eu-west-1, account_id: '123456789012'}\ntags: {team: platform}\n"
        "network: {nat: none}\n"
        "services:\n  api:\n    image: {uri: \"nginx:1.25\"}\n    user: \"10001\"\n    cpu: 256\n    memory: 512\n"
        "    permissions:\n      - actions: [ec2:DescribeInstances]\n        resources: [\"*\"]\n"
        "      - actions: [sqs:SendMessage]\n        resources: [\"arn:aws:sqs:eu-west-1:123456789012:q\"]\n"
    )
    with caplog.at_level(logging.WARNING, logger="configs"):
        config = load_environment(Path("env.yaml"), today=TODAY)
    assert caplog.messages == [
        "warning: env.yaml:12: services.api.permissions[0].actions[0]: with nat: none, tasks reach AWS only through VPC "
        "endpoints, and the platform creates none for ec2: its API calls will time out. Use nat: single, or drop the grant"
    ]
    assert "sqs" in required_endpoints(config)
