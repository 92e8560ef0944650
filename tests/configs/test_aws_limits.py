"""What AWS would reject (or accept and never serve) is refused at load time with file:line:
tag characters, ALB patterns, unreachable and too many rules, repeated
ingress CIDRs, container-definition size, tasks that fit no instance type, zones the region
lacks and subnets too small. Exact messages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from configs.limit_checks import registered_memory
from configs.loader import load_environment
from tests.configs.cases import TODAY, issue_lines

HEADER = "environment: dev\naws: {region: eu-west-1}\ntags: {team: platform}\n"


def service(name: str, extra: str = "") -> str:
    return f'  {name}:\n    image: {{uri: "nginx:1.25"}}\n    cpu: 256\n    memory: 512\n    user: "10001"\n{extra}'


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def report(workdir: Path, text: str) -> list[str]:
    (workdir / "env.yaml").write_text(text)
    return issue_lines(Path("env.yaml"))


def test_tag_characters_aws_refuses(workdir: Path) -> None:
    assert report(workdir, "environment: dev\naws: {region: eu-west-1}\ntags: {team: platform, owner: \"<ops>\"}\n") == [
        "env.yaml:3: tags.owner: '<ops>' contains '<', which AWS does not allow in tags; use letters, digits, spaces and _ . : / = + - @"
    ]


def test_a_key_whose_autonamed_role_would_pass_64_characters_loads(workdir: Path) -> None:
    """Derived names are shortened (components/naming.py, tests/components/test_naming.py), not refused."""
    key = "a" * 40
    text = "environment: development-eu-west1\naws: {region: eu-west-1}\ntags: {team: platform}\nservices:\n" + service(key)
    (workdir / "env.yaml").write_text(text)
    config = load_environment(Path("env.yaml"), stack=None, today=TODAY)
    assert list(config.services) == [key]


def test_an_ingress_cidr_listed_twice(workdir: Path) -> None:
    assert report(workdir, HEADER + "load_balancer: {ingress_cidrs: [10.0.0.0/8, 192.168.0.0/16, 10.0.0.0/8]}\n") == [
        "env.yaml:4: load_balancer.ingress_cidrs[2]: 10.0.0.0/8 is already listed at ingress_cidrs[0]; list each CIDR once"
    ]


EXPOSE = "    port: 80\n    expose: {{paths: [{paths}], hosts: [{hosts}], priority: 10}}\n"


@pytest.mark.parametrize(
    ("paths", "hosts", "expected"),
    [
        (
            "/" + "a" * 128, "",
            f"services.api.expose.paths[0]: '/{'a' * 79}'... (129 characters) has 129 characters; an ALB path pattern has at most 128",
        ),
        (
            '"/api/<x>"', "",
            "services.api.expose.paths[0]: '/api/<x>' contains '<'; an ALB path pattern may hold letters, digits and _ - . $ / ~ \" ' @ : + & * ?",
        ),
        ("api/*", "", "services.api.expose.paths[0]: 'api/*' never matches: request paths start with /; write /api/*"),
        ("", "app_1.example.com", "services.api.expose.hosts[0]: 'app_1.example.com' contains '_'; an ALB host pattern may hold letters, digits and - . * ?"),
    ],
    ids=["path_too_long", "path_character", "path_without_slash", "host_character"],
)
def test_route_patterns_the_alb_refuses(workdir: Path, paths: str, hosts: str, expected: str) -> None:
    text = HEADER + "network: {availability_zones: 2}\nservices:\n" + service("api", EXPOSE.format(paths=paths, hosts=hosts))
    assert report(workdir, text) == [f"env.yaml:12: {expected}"]


def test_a_rule_shadowed_by_an_earlier_one_never_matches(workdir: Path) -> None:
    text = HEADER + "services:\n" + service("api", EXPOSE.format(paths="/api/*", hosts="")) + service(
        "web", "    port: 80\n    expose: {paths: [/api/*], priority: 20}\n"
    ) + service("docs", "    port: 80\n    expose: {paths: [/api/*], hosts: [docs.example.com], priority: 30}\n")
    assert report(workdir, text) == [
        "env.yaml:18: services.web.expose: paths /api/* are already routed to api at priority 10, so this rule "
        "(priority 20) never matches; route a different path or host"
    ]


def test_more_than_100_rules_on_one_load_balancer(workdir: Path) -> None:
    services = "".join(
        service(f"s{index:03d}", f"    port: 80\n    expose: {{paths: [/s{index:03d}/*], priority: {index + 1}}}\n") for index in range(101)
    )
    assert report(workdir, HEADER + "services:\n" + services) == [
        "env.yaml:4: services: the exposed services need 101 listener rules on the shared load balancer (blue/green, "
        "canary and linear services count twice), over the 100 an ALB allows; expose fewer services or use rolling",
        "env.yaml:4: services: the exposed services need 101 target groups on the shared load balancer (blue/green, "
        "canary and linear services count twice), over the 100 an ALB allows; expose fewer services or use rolling",
    ]


def test_a_container_definition_over_64_kib(workdir: Path) -> None:
    text = HEADER + "services:\n" + service("api", f"    environment: {{BIG: {'x' * 66000}}}\n")
    assert report(workdir, text) == [
        "env.yaml:10: services.api.environment: the container definitions would hold 66405 bytes, over the 65536 "
        "(64 KiB) ECS accepts for a task; move large environment values to a file in S3 or to secrets"
    ]


EC2 = "cluster:\n  capacity: {{ec2: {{general: {{instance_types: [{types}]}}}}}}\n  default_strategy: [{{provider: general}}]\n"


def test_registered_memory_follows_awss_m4_large_example() -> None:
    assert registered_memory(8192) == 7985


def test_a_task_that_fits_no_instance_type_after_the_agents_share(workdir: Path) -> None:
    text = HEADER + EC2.format(types="m6i.large, c6i.large") + "services:\n" + service("api").replace(
        "cpu: 256\n    memory: 512", "cpu: 2048\n    memory: 8192"
    )
    assert report(workdir, text) == [
        "env.yaml:11: services.api.memory: cpu 2048 / memory 8192 fits no instance type of provider general: the largest, "
        "m6i.large, registers 2048 CPU units and 7985 MiB with ECS (installed memory less the kernel's share); size the "
        "task down or add a larger type"
    ]


def test_an_instance_type_outside_the_table_is_accepted_with_a_warning(workdir: Path, caplog: pytest.LogCaptureFixture) -> None:
    (workdir / "env.yaml").write_text(HEADER + EC2.format(types="m6i.large, x9z.huge") + "services:\n" + service("api"))
    with caplog.at_level(logging.WARNING, logger="configs"):
        load_environment(Path("env.yaml"), today=TODAY)
    assert caplog.messages == [
        "warning: env.yaml:5: cluster.capacity.ec2.general.instance_types[1]: x9z.huge is not in "
        "configs/instance_types.json: whether tasks fit it, its GPUs and its price are unchecked; add a row for it"
    ]


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        ("{availability_zones: 4}", "env.yaml:4: network.availability_zones: eu-west-1 has 3 availability zones "
         "(eu-west-1a, eu-west-1b, eu-west-1c); use availability_zones: 3 or fewer"),
        ("{availability_zones: [eu-west-1a, eu-west-1d]}", "env.yaml:4: network.availability_zones[1]: eu-west-1 has no "
         "zone eu-west-1d; its zones are eu-west-1a, eu-west-1b, eu-west-1c"),
    ],
    ids=["more_zones_than_the_region", "a_zone_the_region_lacks"],
)
def test_zones_the_region_does_not_have(workdir: Path, network: str, expected: str) -> None:
    assert report(workdir, HEADER + f"network: {network}\n") == [expected]


def test_private_subnets_too_small_for_endpoints_and_tasks(workdir: Path) -> None:
    text = HEADER + "network: {nat: none, subnet_prefix: {private: 28}}\nservices:\n" + service(
        "api", "    autoscaling: {min: 1, max: 10, cpu: 60}\n"
    )
    assert report(workdir, text) == [
        "env.yaml:4: network.subnet_prefix.private: a /28 private subnet has 11 usable addresses, but each zone needs 13 "
        "(3 endpoint interfaces and 10 tasks at maximum scale during a deploy); use a shorter prefix"
    ]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ('{uri: "nginx:1.25 latest"}', "services.api.image.uri: 'nginx:1.25 latest' is not an image reference; remove the white space"),
        ('{uri: "ghcr.io/Acme/app:v1"}', "services.api.image.uri: 'ghcr.io/Acme/app:v1' is not an image reference; repository names are lowercase"),
        ('{uri: "nginx@sha256:abc"}', "services.api.image.uri: 'nginx@sha256:abc' is not an image reference; a digest is @sha256: and 64 lowercase hex digits"),
        ('{uri: "nginx:-rc1"}', "services.api.image.uri: 'nginx:-rc1' is not an image reference; the tag '-rc1' breaks the tag rules: use 1-128 letters, digits, _ . and -, not starting with . or -"),
        ('{uri: "nginx"}', "services.api.image.uri: 'nginx' has no tag; pin a version tag or an @sha256 digest"),
        ("{repository: api, tag: 'v1 .2'}", "services.api.image.tag: 'v1 .2' is not an image tag; use 1-128 letters, digits, _ . and -, not starting with . or -"),
    ],
    ids=["space", "uppercase", "short_digest", "tag_rules", "no_tag", "repository_tag"],
)
def test_image_references_follow_the_reference_grammar(workdir: Path, image: str, expected: str) -> None:
    text = HEADER + "registry: {repositories: {api: {}}}\nservices:\n" + service("api").replace('{uri: "nginx:1.25"}', image)
    assert report(workdir, text) == [f"env.yaml:7: {expected}"]


@pytest.mark.parametrize(
    "uri",
    ["public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0", "localhost:5000/team/app:1.0",
     "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:" + "a" * 64],
)
def test_valid_image_references_are_accepted(workdir: Path, uri: str) -> None:
    (workdir / "env.yaml").write_text(HEADER + "services:\n" + service("api").replace("nginx:1.25", uri))
    assert load_environment(Path("env.yaml"), today=TODAY).services["api"].image.uri == uri


def test_a_service_without_user_is_refused(workdir: Path) -> None:
    """Images often default to root: the platform never leaves the user to the image."""
    text = HEADER + "services:\n" + service("api").replace('    user: "10001"\n', "")
    assert report(workdir, text) == ["env.yaml:5: services.api.user: missing required key 'user'"]
