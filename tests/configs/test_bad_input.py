"""Bad input: every mistake the spec names (and more) is reported with file, line, YAML path,
the bad value and what would be valid; several at once; and the run ends without a traceback.

Each case asserts the exact report lines. Inline documents start with HEADER (3 lines), so a
snippet's first line is line 4 of env.yaml (API, a valid service, fills lines 4-8); a document that starts with `environment:` or
`aws:` is used whole.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from configs.loader import CONFIG_DIR, load_environment
from tests.configs.cases import TODAY, copy_reference_files, issue_lines, line_of, replace_once

HEADER = "environment: dev\naws: {region: eu-west-1}\ntags: {team: platform}\n"
# A valid service on lines 4-9 (image 6, user 7, cpu 8, memory 9); lines appended to it start at 10.
API = """\
services:
  api:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 512
"""
PROJECT_ROOT = CONFIG_DIR.parent


def document(snippet: str) -> str:
    return snippet if snippet.startswith(("environment:", "aws:")) else HEADER + snippet


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Reports name files relative to the working directory: env.yaml, base.yaml, ...
    monkeypatch.chdir(tmp_path)
    return tmp_path


INLINE_CASES = [
    pytest.param(
        """\
services:
  api:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memroy: 512
""",
        [
            "env.yaml:9: services.api.memroy: unknown key 'memroy'; did you mean 'memory'?",
        ],
        id="unknown_key_did_you_mean",
    ),
    pytest.param(
        """\
netwrok: {nat: single}
""",
        [
            "env.yaml:4: netwrok: unknown key 'netwrok'; did you mean 'network'?",
        ],
        id="unknown_section_did_you_mean",
    ),
    pytest.param(
        """\
cluster: {colour: blue}
""",
        [
            "env.yaml:4: cluster.colour: unknown key 'colour'; valid keys here: capacity, container_insights, default_strategy, exec, service_connect",
        ],
        id="unknown_key_lists_valid_keys",
    ),
    pytest.param(
        API
        + """\
    cpu: 512
""",
        [
            "env.yaml:10: services.api.cpu: duplicate key 'cpu' (first set on line 8); keep one",
        ],
        id="duplicate_key",
    ),
    pytest.param(
        """\
services:
  api:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 300
    memory: 512
""",
        [
            'env.yaml:8: services.api.cpu: 300 is not a Fargate CPU size; use one of 256, 512, 1024, 2048, 4096, 8192, 16384',
        ],
        id="cpu_300",
    ),
    pytest.param(
        """\
services:
  api:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 700
""",
        [
            'env.yaml:9: services.api.memory: 700 is not valid with cpu 256 on Fargate; use 512, 1024, 2048',
        ],
        id="memory_700_for_cpu_256",
    ),
    pytest.param(
        """\
services:
  api:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 4096
    memory: 8500
""",
        [
            'env.yaml:9: services.api.memory: 8500 is not valid with cpu 4096 on Fargate; use 8192-30720 in steps of 1024',
        ],
        id="memory_off_step_for_cpu_4096",
    ),
    pytest.param(
        """\
cluster:
  capacity:
    ec2:
      general: {instance_types: [m6i.large]}
  default_strategy:
    - {provider: general, weight: 1}
    - {provider: fargate, weight: 1}
""",
        [
            'env.yaml:8: cluster.default_strategy: mixes EC2 and Fargate providers (general, fargate); AWS rejects a strategy that holds both, so split the service or pick one kind',
        ],
        id="strategy_mixes_ec2_and_fargate",
    ),
    pytest.param(
        """\
cluster:
  default_strategy:
    - {provider: fargate, base: 1}
    - {provider: fargate_spot, base: 2}
""",
        [
            'env.yaml:7: cluster.default_strategy[1].base: only one entry of a strategy may have a base; remove the other bases',
        ],
        id="two_entries_with_base",
    ),
    pytest.param(
        """\
cluster:
  default_strategy: [{provider: spot, weight: 1}]
""",
        [
            "env.yaml:5: cluster.default_strategy[0].provider: 'spot' is not a declared capacity provider; declared: fargate, fargate_spot",
        ],
        id="undeclared_provider",
    ),
    pytest.param(
        """\
cluster:
  capacity: {fargate_spot: false}
  default_strategy: [{provider: fargate_spot, weight: 1}]
""",
        [
            "env.yaml:6: cluster.default_strategy[0].provider: 'fargate_spot' is not a declared capacity provider; declared: fargate",
        ],
        id="provider_disabled_but_used",
    ),
    pytest.param(
        """\
cluster:
  default_strategy: [{provider: fargate, base: 1, weight: 0}]
""",
        [
            'env.yaml:5: cluster.default_strategy: every weight is 0; at least one entry needs a weight above 0',
        ],
        id="all_weights_zero",
    ),
    pytest.param(
        """\
cluster:
  default_strategy: [{provider: fargate}, {provider: fargate, weight: 2}]
""",
        [
            "env.yaml:5: cluster.default_strategy[1].provider: 'fargate' appears twice in one strategy; merge the entries",
        ],
        id="provider_twice_in_strategy",
    ),
    pytest.param(
        """\
cluster:
  default_strategy: [{provider: fargate, weight: 1001}]
""",
        [
            'env.yaml:5: cluster.default_strategy[0].weight: input should be less than or equal to 1000 (got 1001)',
        ],
        id="weight_above_1000",
    ),
    pytest.param(
        """\
registry:
  repositories: {api: {}}
services:
  api:
    image: {repository: api, tag: latest}
    user: "10001"
    cpu: 256
    memory: 512
""",
        [
            'env.yaml:8: services.api.image.tag: `latest` is mutable and cannot be rolled back; use a version tag such as v1.4.2',
        ],
        id="image_tag_latest",
    ),
    pytest.param(
        """\
services:
  api:
    image: {uri: "nginx:latest"}
    user: "10001"
    cpu: 256
    memory: 512
""",
        [
            'env.yaml:6: services.api.image.uri: `latest` is mutable and cannot be rolled back; pin a version tag or an @sha256 digest',
        ],
        id="image_uri_latest",
    ),
    pytest.param(
        """\
services:
  api:
    image: {uri: "registry.example.com:5000/nginx"}
    user: "10001"
    cpu: 256
    memory: 512
""",
        [
            "env.yaml:6: services.api.image.uri: 'registry.example.com:5000/nginx' has no tag; pin a version tag or an @sha256 digest",
        ],
        id="image_uri_without_tag",
    ),
    pytest.param(
        """\
services:
  api:
    image: {repository: api, uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 512
""",
        [
            'env.yaml:6: services.api.image: set either repository (with tag) or uri, not both and not neither',
        ],
        id="image_repository_and_uri",
    ),
    pytest.param(
        """\
services:
  api:
    image: {repository: web, tag: v1}
    user: "10001"
    cpu: 256
    memory: 512
""",
        [
            "env.yaml:6: services.api.image.repository: 'web' is not in registry.repositories (none declared); declare it or use image.uri",
        ],
        id="image_repository_not_declared",
    ),
    pytest.param(
        API
        + """\
    expose: {paths: [/api/*], priority: 10}
network: {availability_zones: 2}
""",
        [
            'env.yaml:10: services.api.expose: an exposed service needs a port for the load balancer to reach',
        ],
        id="exposed_without_port",
    ),
    pytest.param(
        API
        + """\
    port: 8080
    expose: {priority: 10}
""",
        [
            'env.yaml:11: services.api.expose: expose needs at least one of paths or hosts',
        ],
        id="expose_without_routes",
    ),
    pytest.param(
        API
        + """\
    port: 8080
    expose: {paths: [/api/*], priority: 10}
  web:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 512
    port: 8080
    expose: {paths: [/*], priority: 10}
""",
        [
            'env.yaml:18: services.web.expose.priority: priority 10 is already used by api; listener rule priorities are unique',
        ],
        id="duplicate_priorities",
    ),
    pytest.param(
        API
        + """\
    port: 8080
    expose: {paths: [/*], priority: 1}
network: {availability_zones: 1, nat: single}
""",
        [
            'env.yaml:12: network.availability_zones: an Application Load Balancer needs subnets in at least 2 zones and api is exposed; use availability_zones: 2 or more',
        ],
        id="exposed_in_one_zone",
    ),
    pytest.param(
        API
        + """\
    port: 8080
    expose: {paths: [/api/*], priority: 10}
  web:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 512
    port: 8080
    expose: {paths: [/*], priority: 20}
network: {availability_zones: 1, nat: single}
""",
        [
            'env.yaml:19: network.availability_zones: an Application Load Balancer needs subnets in at least 2 zones and api, web is exposed; use availability_zones: 2 or more',
        ],
        id="two_exposed_in_one_zone",
    ),
    pytest.param(
        API
        + """\
    connects_to: [{service: db, port: 5432}]
""",
        [
            "env.yaml:10: services.api.connects_to[0].service: 'db' is not a service of this environment; services: api",
        ],
        id="connects_to_unknown_service",
    ),
    pytest.param(
        API
        + """\
    connects_to: [{service: worker, port: 9090}]
  worker:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 512
    port: 9000
""",
        [
            'env.yaml:10: services.api.connects_to[0].port: worker listens on 9000, not 9090',
        ],
        id="connects_to_wrong_port",
    ),
    pytest.param(
        API
        + """\
    connects_to: [{service: worker, port: 9000}]
  worker:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 512
""",
        [
            'env.yaml:10: services.api.connects_to[0].service: worker has no port, so nothing can connect to it; set services.worker.port or remove this entry',
        ],
        id="connects_to_service_without_port",
    ),
    pytest.param(
        API
        + """\
    connects_to: [{service: api, security_group: sg-0123456789abcdef0, port: 1}]
""",
        [
            'env.yaml:10: services.api.connects_to[0]: set exactly one of service, cidr or prefix_list',
        ],
        id="connects_to_both_targets",
    ),
    pytest.param(
        """\
network: {cidr: 10.0.0.0/16, subnet_prefix: {public: 17, private: 17}}
""",
        [
            'env.yaml:4: network.subnet_prefix: public subnet 10.0.128.0/17 overlaps private subnet 10.0.128.0/17 inside 10.0.0.0/16; use smaller subnets (longer prefixes) or a larger CIDR',
        ],
        id="subnets_overlap",
    ),
    pytest.param(
        """\
network:
  cidr: 10.0.0.0/22
  availability_zones: [eu-west-1a, eu-west-1f]
  subnet_prefix: {public: 26, private: 24}
""",
        [
            "env.yaml:6: network.availability_zones[1]: eu-west-1 has no zone eu-west-1f; its zones are eu-west-1a, eu-west-1b, eu-west-1c",
            "env.yaml:7: network.subnet_prefix: 10.0.0.0/22 holds 4 /24 private subnets, but zone letter 'f' needs slot 6; use a longer prefix or a larger CIDR",
        ],
        id="subnet_zone_out_of_range",
    ),
    pytest.param(
        """\
network: {cidr: 10.0.0.0/24, subnet_prefix: {public: 24}}
""",
        [
            'env.yaml:4: network.subnet_prefix: a /24 public subnet does not fit inside the /24 VPC; use a prefix longer than 24',
        ],
        id="subnet_prefix_not_inside_vpc",
    ),
    pytest.param(
        """\
network: {availability_zones: [eu-west-1a, us-east-1b]}
""",
        [
            "env.yaml:4: network.availability_zones[1]: 'us-east-1b' is not a zone of eu-west-1; use names such as eu-west-1a",
        ],
        id="zone_of_another_region",
    ),
    pytest.param(
        """\
network: {availability_zones: [eu-west-1a, eu-west-1-az2]}
""",
        [  # one problem: subnets are not allocated for a zone that is not a zone name
            "env.yaml:4: network.availability_zones[1]: 'eu-west-1-az2' is not a zone of eu-west-1; use names such as eu-west-1a",
        ],
        id="zone_id_instead_of_a_zone_name",
    ),
    pytest.param(
        """\
network: {availability_zones: [eu-west-1a, eu-west-1a]}
""",
        [
            'env.yaml:4: network.availability_zones: a zone is listed twice; list each zone once',
        ],
        id="zone_listed_twice",
    ),
    pytest.param(
        """\
network: {availability_zones: 1, nat: per_az}
""",
        [
            'env.yaml:4: network.nat: per_az with a single availability zone is one NAT gateway; write nat: single',
        ],
        id="per_az_with_one_zone",
    ),
    pytest.param(
        """\
network: {nat: two}
""",
        [
            "env.yaml:4: network.nat: input should be 'none', 'single' or 'per_az' (got 'two')",
        ],
        id="nat_not_an_option",
    ),
    pytest.param(
        """\
network: {cidr: 10.0.0/16}
""",
        [
            "env.yaml:4: network.cidr: '10.0.0/16' is not an IPv4 CIDR block such as 10.0.0.0/16",
        ],
        id="bad_cidr",
    ),
    pytest.param(
        """\
network: {cidr: 10.0.0.1/16}
""",
        [
            "env.yaml:4: network.cidr: '10.0.0.1/16' has host bits set; the network is 10.0.0.0/16",
        ],
        id="cidr_host_bits",
    ),
    pytest.param(
        """\
network: {cidr: 10.0.0.0/26}
""",
        [
            'env.yaml:4: network.cidr: a VPC CIDR must be /16 to /24 (AWS limit), got /26',
        ],
        id="cidr_too_small",
    ),
    pytest.param(
        """\
network: {cidr: 169.254.0.0/16}
""",
        [
            'env.yaml:4: network.cidr: 169.254.0.0/16 is a reserved range AWS refuses for a VPC; use a private range such as 10.0.0.0/16',
        ],
        id="cidr_reserved_range",
    ),
    pytest.param(
        """\
load_balancer: {ingress_cidrs: [203.0.113.7/24]}
""",
        [
            "env.yaml:4: load_balancer.ingress_cidrs[0]: '203.0.113.7/24' has host bits set; the network is 203.0.113.0/24",
        ],
        id="ingress_cidr_host_bits",
    ),
    pytest.param(
        """\
network: {endpoints: [s3, ecr]}
""",
        [
            "env.yaml:4: network.endpoints[1]: input should be 's3', 'dynamodb', 'ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', "
            "'ssm', 'ssmmessages', 'ec2messages', 'ecs', 'ecs-agent', 'ecs-telemetry', 'sts', 'kms', 'sqs', 'sns', 'events', "
            "'states', 'kinesis-streams', 'monitoring', 'xray' or 'lambda' (got 'ecr')",
        ],
        id="endpoints_unknown_name",
    ),
    pytest.param(
        """\
network: {nat: none, endpoints: [s3, ecr.api, ecr.dkr]}
""",
        [
            'env.yaml:4: network.endpoints: with nat: none, tasks reach AWS only through endpoints, and logs are missing; add them or write endpoints: auto',
        ],
        id="endpoints_missing_with_nat_none",
    ),
    pytest.param(
        """\
network: {endpoints: [s3, s3]}
""",
        [
            'env.yaml:4: network.endpoints[1]: s3 is listed twice; list each endpoint once',
        ],
        id="endpoints_listed_twice",
    ),
    pytest.param(
        """\
logs: {retention_days: 45}
""",
        [
            'env.yaml:4: logs.retention_days: 45 is not a retention CloudWatch Logs accepts; use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653',
        ],
        id="retention_not_allowed",
    ),
    pytest.param(
        """\
cluster:
  capacity:
    ec2:
      general: {instance_types: [m6i.large, m7g.large], architecture: x86_64}
""",
        [
            "env.yaml:7: cluster.capacity.ec2.general.instance_types[1]: m7g.large is arm64 but the provider's architecture is x86_64; use Intel/AMD (m6i, m7a, ...) types",
        ],
        id="arm64_instance_on_x86_provider",
    ),
    pytest.param(
        """\
cluster:
  capacity:
    ec2:
      graviton: {instance_types: [c6i.large], architecture: arm64}
""",
        [
            "env.yaml:7: cluster.capacity.ec2.graviton.instance_types[0]: c6i.large is x86_64 but the provider's architecture is arm64; use Graviton (m7g, c7g, ...) types",
        ],
        id="x86_instance_on_arm64_provider",
    ),
    pytest.param(
        """\
cluster:
  capacity:
    ec2:
      general: {instance_types: [m6i.large], min_size: 5, max_size: 2}
""",
        [
            'env.yaml:7: cluster.capacity.ec2.general.min_size: min_size 5 is above max_size 2',
        ],
        id="ec2_min_above_max",
    ),
    pytest.param(
        """\
cluster:
  capacity:
    ec2:
      general: {instance_types: [m6i.large], max_size: 2, on_demand_base: 3}
""",
        [
            "env.yaml:7: cluster.capacity.ec2.general.on_demand_base: on_demand_base 3 is above max_size 2",
        ],
        id="ec2_on_demand_base_above_max",
    ),
    pytest.param(
        API
        + """\
    architecture: arm64
    capacity: [{provider: general}]
cluster:
  capacity:
    ec2:
      general: {instance_types: [m6i.large]}
""",
        [
            "env.yaml:10: services.api.architecture: arm64 does not match its EC2 capacity (x86_64); remove architecture, it follows the provider",
        ],
        id="service_architecture_against_its_ec2_provider",
    ),
    pytest.param(
        """\
cluster:
  capacity:
    ec2:
      ecs-hosts: {instance_types: [m6i.large]}
""",
        [
            "env.yaml:7: cluster.capacity.ec2.ecs-hosts: 'ecs-hosts' is reserved (fargate, fargate_spot and names starting aws/ecs); rename the provider",
        ],
        id="ec2_reserved_provider_name",
    ),
    pytest.param(
        API
        + """\
    environment: {DB_PASSWORD: hunter2}
""",
        [
            'env.yaml:10: services.api.environment.DB_PASSWORD: DB_PASSWORD looks like a credential; plain environment values show in the console and task definition, so move it to secrets',
        ],
        id="secret_looking_env_var",
    ),
    pytest.param(
        API
        + """\
    environment: {API_URL: x}
    secrets: {API_URL: {parameter: /dev/api/url}}
""",
        [
            'env.yaml:10: services.api.environment.API_URL: API_URL is also in secrets; keep one',
        ],
        id="env_var_also_secret",
    ),
    pytest.param(
        API
        + """\
    secrets: {DB: {secret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"}}
""",
        [
            "env.yaml:10: services.api.secrets.DB.secret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf' is in us-east-1, not eu-west-1; ECS and the ALB read it from eu-west-1",
        ],
        id="secret_in_other_region",
    ),
    pytest.param(
        API
        + """\
    secrets: {DB: {secret: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf", parameter: /db}}
""",
        [
            'env.yaml:10: services.api.secrets.DB: set either secret (a Secrets Manager ARN) or parameter (an SSM name), not both',
        ],
        id="secret_both_sources",
    ),
    pytest.param(
        """\
services:
  - name: api
""",
        [
            'env.yaml:4: services: expected a mapping keyed by name (name: {...}), got a list; names are stable identities, so adding or reordering an entry leaves the others untouched',
        ],
        id="services_as_list",
    ),
    pytest.param(
        """\
services:
  Api_Server:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 512
""",
        [
            "env.yaml:5: services.Api_Server: 'Api_Server' is not valid: use 1-63 lowercase letters, digits and hyphens, starting with a letter",
        ],
        id="service_name_pattern",
    ),
    pytest.param(
        """\
services:
  api:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: "256"
    memory: 512
""",
        [
            "env.yaml:8: services.api.cpu: input should be a valid integer (got '256')",
        ],
        id="cpu_quoted",
    ),
    pytest.param(
        API
        + """\
    port: true
""",
        [
            'env.yaml:10: services.api.port: input should be a valid integer (got True)',
        ],
        id="port_true",
    ),
    pytest.param(
        API
        + """\
    port: 70000
""",
        [
            'env.yaml:10: services.api.port: input should be less than or equal to 65535 (got 70000)',
        ],
        id="port_out_of_range",
    ),
    pytest.param(
        """\
environment: dev
aws: {region: eu-west-1, account_id: 123456789012}
tags: {team: platform}
""",
        [
            'env.yaml:2: aws.account_id: expected text, got 123456789012 which YAML reads as a number; quote it: "123456789012"',
        ],
        id="account_id_unquoted",
    ),
    pytest.param(
        """\
environment: dev
aws: {region: eu-west-1}
tags: {team: platform, cost-center: 4711}
""",
        [
            'env.yaml:3: tags.cost-center: expected text, got 4711 which YAML reads as a number; quote it: "4711"',
        ],
        id="tag_value_number",
    ),
    pytest.param(
        """\
environment: dev
aws: {region: eu-west-1}
tags: {team: platform, env: production}
""",
        [
            "env.yaml:3: tags.env: env 'production' contradicts environment 'dev'; the env tag is set from environment, so remove it",
        ],
        id="env_tag_contradicts",
    ),
    pytest.param(
        """\
environment: dev
aws: {region: eu-west-1}
tags: {owner: platform}
""",
        [
            'env.yaml:3: tags: missing the required tags team; add them under tags (policies/governance.yaml requires them)',
        ],
        id="required_tag_missing",
    ),
    pytest.param(
        """\
environment: dev
aws: {region: eu-west-1}
tags: {team: platform, 'aws:owner': me}
""",
        [
            "env.yaml:3: tags.aws:owner: 'aws:owner': the aws: prefix is reserved for AWS's own tags",
        ],
        id="aws_prefixed_tag",
    ),
    pytest.param(
        API
        + """\
    autoscaling: {min: 5, max: 2, cpu: 60}
""",
        [
            'env.yaml:10: services.api.autoscaling.min: min 5 is above max 2',
        ],
        id="autoscaling_min_above_max",
    ),
    pytest.param(
        API
        + """\
  web:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 512
    autoscaling: {min: 3, max: 2, cpu: 60}
    deployment: {min_healthy_percent: 100, max_percent: 100}
""",
        [  # the service before it, without autoscaling, does not end the checks
            "env.yaml:15: services.web.autoscaling.min: min 3 is above max 2",
            "env.yaml:16: services.web.deployment: min_healthy_percent 100 with max_percent 100 leaves a rolling deploy "
            "no room to start or stop a task; use max_percent 200",
        ],
        id="second_service_autoscaling_and_a_stuck_rollout",
    ),
    pytest.param(
        """\
registry:
  repositories:
    api: {kms_key_arn: "arn:aws:kms:eu-west-1:123456789012:alias/ecr"}
""",
        [
            "env.yaml:6: registry.repositories.api.kms_key_arn: 'arn:aws:kms:eu-west-1:123456789012:alias/ecr' is not a KMS "
            "key ARN (arn:aws:kms:eu-west-1:<account>:key/...)",
        ],
        id="repository_kms_key_is_an_alias",
    ),
    pytest.param(
        """\
environment: dev
aws: {region: eu-west-1, account_id: "123456789012"}
tags: {team: platform}
services:
  api:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 512
    access:
      read: ["arn:aws:sqs:eu-west-1:123456789012:orders-*", "arn:aws:nosuchservice:eu-west-1:123456789012:x", "arn:aws:sqs:us-east-1:123456789012:orders"]
      write: ["arn:aws:sqs:eu-west-1:123456789012:orders-*"]
    secrets:
      API_KEY: {parameter: "arn:aws:ssm:eu-west-1:123456789012:document/api-key"}
""",
        [  # every access ARN is judged, past one that does not parse; the wildcard names both levels
            "env.yaml:11: services.api.access.read[0]: 'arn:aws:sqs:eu-west-1:123456789012:orders-*' has a wildcard: access "
            "levels would grant every Read, Write action on every match; name the resource, or write the exact actions in permissions",
            "env.yaml:11: services.api.access.read[1]: 'arn:aws:nosuchservice:eu-west-1:123456789012:x': 'nosuchservice' is not "
            "an AWS service in the IAM reference; check the ARN",
            "env.yaml:11: services.api.access.read[2]: 'arn:aws:sqs:us-east-1:123456789012:orders' is in us-east-1, not "
            "eu-west-1; ECS and the ALB read it from eu-west-1",
            "env.yaml:14: services.api.secrets.API_KEY.parameter: 'arn:aws:ssm:eu-west-1:123456789012:document/api-key' is not "
            "an SSM parameter ARN (arn:aws:ssm:eu-west-1:<account>:parameter/...)",
        ],
        id="access_arns_each_judged_and_a_parameter_of_another_kind",
    ),
    pytest.param(
        API
        + """\
    desired_count: 10
    autoscaling: {min: 1, max: 4, cpu: 60}
""",
        [
            'env.yaml:10: services.api.desired_count: 10 is outside autoscaling 1-4; pick a count in that range',
        ],
        id="desired_count_outside_autoscaling",
    ),
    pytest.param(
        API
        + """\
    autoscaling: {min: 1, max: 4}
""",
        [
            'env.yaml:10: services.api.autoscaling: autoscaling needs at least one target: cpu, memory, requests_per_target, queue or a schedule',
        ],
        id="autoscaling_without_target",
    ),
    pytest.param(
        API
        + """\
    autoscaling: {min: 1, max: 4, requests_per_target: 100}
""",
        [
            'env.yaml:10: services.api.autoscaling.requests_per_target: requests_per_target needs the service to be exposed on the load balancer; use cpu or memory',
        ],
        id="requests_per_target_not_exposed",
    ),
    pytest.param(
        API
        + """\
    deployment: {min_healthy_percent: 100, max_percent: 100}
""",
        [
            'env.yaml:10: services.api.deployment: min_healthy_percent 100 with max_percent 100 leaves a rolling deploy no room to start or stop a task; use max_percent 200',
        ],
        id="deployment_cannot_move",
    ),
    pytest.param(
        API.replace('"10001"', "root"),
        [
            'env.yaml:7: services.api.user: containers must not run as root; use a uid such as 1000',
        ],
        id="runs_as_root",
    ),
    pytest.param(
        API
        + """\
    permissions: [{actions: ["s3:*"], resources: ["*"]}]
""",
        [
            "env.yaml:10: services.api.permissions[0].actions: 's3:*' grants a whole service; list the actions, or use `access` levels",
        ],
        id="wildcard_action",
    ),
    pytest.param(
        API
        + """\
    health_check: {interval: 10, timeout: 10}
""",
        [
            'env.yaml:10: services.api.health_check: timeout 10 must be shorter than interval 10',
        ],
        id="health_timeout_not_below_interval",
    ),
    pytest.param(
        "environment: dev\naws: {region: eu-west-1}\ntags: {team: platform, service: shop}\n" + API,
        [
            "env.yaml:3: tags.service: service is set per service by the platform (its key); remove it",
        ],
        id="reserved_service_tag",
    ),
    pytest.param(
        """\
services:
  exec:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 256
    memory: 512
""",
        [
            "env.yaml:5: services.exec: 'exec' is reserved: its log group /ecs/dev/exec would be the cluster's "
            "ECS Exec session log group; rename the service",
        ],
        id="exec_is_a_reserved_service_key",
    ),
    pytest.param(
        "environment: dev\naws: {region: eu-west-1}\ntags: {team: platform, "
        + ", ".join(f"t{i}: x" for i in range(48))
        + "}\n"
        + API,
        [
            "env.yaml:3: tags: 51 tags with env and service; AWS allows at most 50 per resource, so remove 1",
        ],
        id="too_many_tags_with_the_service_tag",
    ),
    pytest.param(
        API
        + """\
    secrets: {API_KEY: {parameter: /dev/api/key, kms_key: "arn:aws:kms:eu-west-1:123456789012:alias/app"}}
""",
        [
            "env.yaml:10: services.api.secrets.API_KEY.kms_key: 'arn:aws:kms:eu-west-1:123456789012:alias/app' is not a KMS key ARN "
            "(arn:aws:kms:eu-west-1:<account>:key/...)",
        ],
        id="secret_kms_key_not_a_key_arn",
    ),
    pytest.param(
        API
        + """\
    health_check: {command: ["CMD", "true"], interval: 120, timeout: 90}
""",
        [
            "env.yaml:10: services.api.health_check: timeout 90 is above the 60 s ECS allows for a container health check (command); lower it",
        ],
        id="container_health_timeout_above_ecs_limit",
    ),
    pytest.param(
        API
        + """\
    health_check: {command: ["curl -f localhost"]}
""",
        [
            'env.yaml:10: services.api.health_check.command: [\'curl -f localhost\'] is not a health check command; start with CMD or CMD-SHELL, e.g. ["CMD-SHELL", "curl -f localhost:8080/health || exit 1"]',
        ],
        id="health_command_form",
    ),
    pytest.param(
        """\
policy:
  waivers:
    - {policy: aws-ecs-service-on-demand-share, resource: api, reason: "batch tolerates interruption", expires: 2027-01-01}
  required_tags: [team]
""",
        [
            "env.yaml:5: policy.waivers: an environment file no longer sets policy.waivers; it moved to policies/governance.yaml, "
            "which the security team owns; ask them to add the waiver (environment, policy, resource as <kind>/<key>, reason, "
            "expires, approved_by) there",
            "env.yaml:7: policy.required_tags: an environment file no longer sets policy.required_tags; it moved to "
            "policies/governance.yaml, which the security team owns; ask them to change required_tags there",
        ],
        id="policy_section_moved_to_governance",
    ),
    pytest.param(
        """\
protect: "yes"
""",
        [
            "env.yaml:4: protect: input should be a valid boolean (got 'yes')",
        ],
        id="protect_quoted",
    ),
    pytest.param(
        """\
load_balancer: {access_logs: {bucket: My_Bucket}}
""",
        [
            "env.yaml:4: load_balancer.access_logs.bucket: 'My_Bucket' is not valid: use an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens",
        ],
        id="access_logs_bucket_name",
    ),
    pytest.param(
        """\
load_balancer: {certificate_arn: "arn:aws:iam::123456789012:server-certificate/x"}
""",
        [
            "env.yaml:4: load_balancer.certificate_arn: 'arn:aws:iam::123456789012:server-certificate/x' is not an ACM certificate ARN (arn:aws:acm:eu-west-1:<account>:certificate/...)",
        ],
        id="certificate_not_acm",
    ),
    pytest.param(
        """\
network: &n {flow_logs: *n}
""",
        [
            'env.yaml:4: network.flow_logs: an alias refers to the anchor it is inside of (an endless value); write the value out',
        ],
        id="alias_cycle",
    ),
    pytest.param(
        """\
environment: dev
aws: {region: Ireland}
tags: {team: platform}
""",
        [
            "env.yaml:2: aws.region: 'Ireland' is not valid: use a region code such as eu-west-1",
        ],
        id="region_pattern",
    ),
    pytest.param(
        """\
aws: {region: eu-west-1}
tags: {team: platform}
""",
        [
            "env.yaml:1: environment: missing required key 'environment'",
        ],
        id="environment_missing",
    ),
    pytest.param(
        """\
services:
  api:
    image: {uri: "nginx:1.25"}
    user: "10001"
    cpu: 300
    memory: 512
    prot: 8080
    memory: 1024
network: {nat: per_az, availability_zones: 1}
""",
        [
            'env.yaml:8: services.api.cpu: 300 is not a Fargate CPU size; use one of 256, 512, 1024, 2048, 4096, 8192, 16384',
            "env.yaml:10: services.api.prot: unknown key 'prot'; did you mean 'port'?",
            "env.yaml:11: services.api.memory: duplicate key 'memory' (first set on line 9); keep one",
            'env.yaml:12: network.nat: per_az with a single availability zone is one NAT gateway; write nat: single',
        ],
        id="several_problems_at_once",
    ),
    pytest.param(
        API
        + """\
    port: true
network: {nat: two}
logs: {retention_days: 45}
""",
        [
            'env.yaml:10: services.api.port: input should be a valid integer (got True)',
            "env.yaml:11: network.nat: input should be 'none', 'single' or 'per_az' (got 'two')",
            'env.yaml:12: logs.retention_days: 45 is not a retention CloudWatch Logs accepts; use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653',
        ],
        id="several_schema_problems_at_once",
    ),
    pytest.param(
        API
        + """\
    port: 8080
    connects_to: [{service: api, port: 8080}]
    deployment: {min_healthy_percent: 0, max_percent: 100}
""",
        [
            "env.yaml:11: services.api.connects_to[0].service: a service reaches itself without a rule; remove this entry",
            "env.yaml:12: services.api.deployment: min_healthy_percent 0 with max_percent 100 stops every task before "
            "starting new ones; raise max_percent",
        ],
        id="service_reaches_itself_and_a_rollout_that_stops_every_task",
    ),
]


@pytest.mark.parametrize(("snippet", "expected"), INLINE_CASES)
def test_inline_document_is_reported(workdir: Path, snippet: str, expected: list[str]) -> None:
    (workdir / "env.yaml").write_text(document(snippet))
    assert issue_lines(Path("env.yaml")) == expected


def test_resources_outside_the_region_load_where_iam_allows_them(workdir: Path) -> None:
    """Only region-bound services (KMS, SQS, SSM, ...) are judged by region for access levels:
    a DynamoDB table in another region is reachable; explicit permissions are never judged by
    region (the pack judges their meaning)."""
    (workdir / "env.yaml").write_text(
        'environment: dev\naws: {region: eu-west-1, account_id: "123456789012"}\ntags: {team: platform}\n' + API
        + '    access: {read: ["arn:aws:dynamodb:us-east-1:123456789012:table/orders"]}\n'
        + '    permissions: [{actions: [sqs:SendMessage], resources: ["arn:aws:sqs:us-east-1:123456789012:orders"]}]\n'
    )
    api = load_environment(Path("env.yaml"), stack=None, today=TODAY).services["api"]
    assert api.access.read == ["arn:aws:dynamodb:us-east-1:123456789012:table/orders"]
    assert api.permissions[0].resources == ["arn:aws:sqs:us-east-1:123456789012:orders"]


def test_min_size_and_on_demand_base_may_equal_max_size(workdir: Path) -> None:
    """The boundary of ec2_min_above_max and ec2_on_demand_base_above_max: equal is allowed."""
    provider = "cluster:\n  capacity:\n    ec2:\n      general: {instance_types: [m6i.large], min_size: 2, max_size: 2, on_demand_base: 2}\n"
    (workdir / "env.yaml").write_text(HEADER + provider)
    general = load_environment(Path("env.yaml"), stack=None, today=TODAY).cluster.capacity.ec2["general"]
    assert (general.min_size, general.max_size, general.on_demand_base) == (2, 2, 2)


def test_fifty_tags_with_env_and_service_are_allowed(workdir: Path) -> None:
    """The boundary of too_many_tags_with_the_service_tag: AWS allows 50, so 50 load."""
    tags = ", ".join(f"t{i}: x" for i in range(47))
    (workdir / "env.yaml").write_text(f"environment: dev\naws: {{region: eu-west-1}}\ntags: {{team: platform, {tags}}}\n" + API)
    config = load_environment(Path("env.yaml"), stack=None, today=TODAY)
    assert len(config.service_tags("api")) == 50


# ---- whole files: syntax, encoding, shape ------------------------------------------------------

# Six lines that expand to a million values ("billion laughs").
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]\n" for previous, name in zip("abcde", "bcdef")
)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            b"environment: dev\naws: {region: eu-west-1\ntags: {team: platform}\n",
            ["env.yaml:3: not valid YAML: while parsing a flow mapping did not find expected ',' or '}'"],
            id="yaml_syntax_error",
        ),
        pytest.param(
            b"environment: dev\nservices:\n  api:\n\tcpu: 256\n",
            ["env.yaml:4: not valid YAML: while scanning for the next token found character that cannot start any token (a tab; YAML indents with spaces)"],
            id="tab_indentation",
        ),
        pytest.param(
            b"environment: dev\ntags: {team: caf\xe9}\n",
            ["env.yaml:2: byte 0xe9 is not UTF-8; save the file as UTF-8"],
            id="not_utf8",
        ),
        pytest.param(
            b"- environment: dev\n",
            ["env.yaml:1: the file must be a mapping of sections (environment, aws, ...)"],
            id="top_level_list",
        ),
        pytest.param(
            b"# nothing yet\n",
            [
                "env.yaml:1: aws: missing required key 'aws'",
                "env.yaml:1: environment: missing required key 'environment'",
            ],
            id="empty_file",
        ),
        pytest.param(
            b"environment: dev\n---\nenvironment: prod\n",
            ["env.yaml:2: not valid YAML: expected a single document in the stream but found another document"],
            id="two_documents",
        ),
        pytest.param(
            b"[" * 5000,
            ["env.yaml:1: nested far deeper than 50 levels; no key of the environment file is that deep"],
            id="nesting_bomb",
        ),
        pytest.param(
            ALIAS_BOMB.encode(),
            ["env.yaml:1: expands to more than 100000 values (through aliases?); write the values out"],
            id="alias_bomb",
        ),
    ],
)
def test_unreadable_file_is_reported(workdir: Path, content: bytes, expected: list[str]) -> None:
    (workdir / "env.yaml").write_bytes(content)
    assert issue_lines(Path("env.yaml")) == expected


# ---- layering: extends -------------------------------------------------------------------------


def test_extends_loop_is_reported_at_the_extends_line(workdir: Path) -> None:
    (workdir / "a.yaml").write_text("# a\nextends: b.yaml\nenvironment: dev\n")
    (workdir / "b.yaml").write_text("extends: a.yaml\n")
    assert issue_lines(Path("a.yaml")) == ["b.yaml:1: extends: extends loops: a.yaml -> b.yaml -> a.yaml; remove one link"]


def test_extends_itself_is_a_loop(workdir: Path) -> None:
    (workdir / "a.yaml").write_text("extends: a.yaml\n")
    assert issue_lines(Path("a.yaml")) == ["a.yaml:1: extends: extends loops: a.yaml -> a.yaml; remove one link"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("missing.yaml", "'missing.yaml' is not a file next to env.yaml; use e.g. extends: base.yaml"),
        ("sub.yaml", "'sub.yaml' is not a file next to env.yaml; use e.g. extends: base.yaml"),
        ("[base.yaml]", "a list is not a file name; use e.g. extends: base.yaml"),
        ("''", "'' is not a file name; use e.g. extends: base.yaml"),
    ],
    ids=["missing", "directory", "list", "empty"],
)
def test_extends_names_no_file(workdir: Path, value: str, message: str) -> None:
    (workdir / "sub.yaml").mkdir()
    (workdir / "env.yaml").write_text(HEADER + f"extends: {value}\n")
    assert issue_lines(Path("env.yaml")) == [f"env.yaml:4: extends: {message}"]


def test_errors_inside_the_base_file_name_the_base_file(workdir: Path) -> None:
    copy_reference_files(workdir)
    memory = replace_once(workdir / "base.yaml", "    memory: 1024\n", "    memory: 700\n")
    typo = replace_once(workdir / "base.yaml", "    health_check: {path: /health", "    helth_check: {path: /health")
    assert issue_lines(Path("dev.yaml"), stack="dev") == [
        f"base.yaml:{memory}: services.api.memory: 700 is not valid with cpu 512 on Fargate; use 1024, 2048, 3072, 4096",
        f"base.yaml:{typo}: services.api.helth_check: unknown key 'helth_check'; did you mean 'health_check'?",
    ]


def test_duplicate_key_in_the_base_file_is_reported_with_the_environments_problems(workdir: Path) -> None:
    copy_reference_files(workdir)
    first = replace_once(workdir / "base.yaml", "    port: 9000\n", "    port: 9000\n    port: 9001\n")
    duplicate = first + 1
    cpu = replace_once(
        workdir / "dev.yaml", "    environment: {LOG_LEVEL: debug}\n", "    environment: {LOG_LEVEL: debug}\n    cpu: 300\n"
    ) + 1
    assert issue_lines(Path("dev.yaml"), stack="dev") == [
        f"base.yaml:{duplicate}: services.worker.port: duplicate key 'port' (first set on line {first}); keep one",
        f"dev.yaml:{cpu}: services.api.cpu: 300 is not a Fargate CPU size; use one of 256, 512, 1024, 2048, 4096, 8192, 16384",
    ]


# ---- mutations of the reference environments ---------------------------------------------------


def test_stack_mismatch(workdir: Path) -> None:
    copy_reference_files(workdir)
    line = line_of(workdir / "dev.yaml", "environment: dev")
    assert issue_lines(Path("dev.yaml"), stack="staging") == [
        f"dev.yaml:{line}: environment: 'dev' does not match the stack 'staging'; "
        "stack staging reads configs/staging.yaml, whose environment must be 'staging'"
    ]


def test_prod_worker_strategy_mixing_ec2_and_fargate(workdir: Path) -> None:
    copy_reference_files(workdir)
    line = replace_once(
        workdir / "prod.yaml",
        "capacity: [{provider: general, weight: 1}]",
        "capacity: [{provider: general, weight: 1}, {provider: fargate_spot, weight: 1}]",
    )
    assert issue_lines(Path("prod.yaml"), stack="prod") == [
        f"prod.yaml:{line}: services.worker.capacity: mixes EC2 and Fargate providers (general, fargate_spot); "
        "AWS rejects a strategy that holds both, so split the service or pick one kind"
    ]


def test_prod_graviton_type_in_an_x86_provider(workdir: Path) -> None:
    copy_reference_files(workdir)
    line = replace_once(workdir / "prod.yaml", "[m6i.large, m5.large]", "[m6i.large, c7g.large]")
    assert issue_lines(Path("prod.yaml"), stack="prod") == [
        f"prod.yaml:{line}: cluster.capacity.ec2.general.instance_types[1]: c7g.large is arm64 but the provider's "
        "architecture is x86_64; use Intel/AMD (m6i, m7a, ...) types"
    ]


def test_dev_without_nat_needs_every_endpoint(workdir: Path) -> None:
    copy_reference_files(workdir)
    line = replace_once(workdir / "dev.yaml", "  endpoints: auto\n", "  endpoints: [s3, ecr.api, ecr.dkr, logs]\n")
    assert issue_lines(Path("dev.yaml"), stack="dev") == [
        f"dev.yaml:{line}: network.endpoints: with nat: none, tasks reach AWS only through endpoints, and "
        "kms, secretsmanager, ssm, ssmmessages are missing; add them or write endpoints: auto"
    ]


def test_staging_duplicate_key_in_text(workdir: Path) -> None:
    copy_reference_files(workdir)
    first = line_of(workdir / "staging.yaml", "nat: single")
    replace_once(workdir / "staging.yaml", "  nat: single\n", "  nat: single\n  nat: per_az\n")
    assert issue_lines(Path("staging.yaml"), stack="staging") == [
        f"staging.yaml:{first + 1}: network.nat: duplicate key 'nat' (first set on line {first}); keep one"
    ]


# ---- the run ends with the report, not a traceback ---------------------------------------------


def run_python(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_entry_point_prints_the_report_and_exits_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "env.yaml").write_text(HEADER + "logs: {retention_days: 45}\nnetwork: {nat: two}\n")
    result = run_python(tmp_path, "-c", "from configs.loader import load_or_exit; load_or_exit('env.yaml', stack='dev')")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "env.yaml: 2 problems in the environment file; nothing was created.\n"
        "  env.yaml:4: logs.retention_days: 45 is not a retention CloudWatch Logs accepts; use one of "
        "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653\n"
        "  env.yaml:5: network.nat: input should be 'none', 'single' or 'per_az' (got 'two')\n"
    )


def test_review_cli_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    copy_reference_files(tmp_path)
    (tmp_path / "bad.yaml").write_text((tmp_path / "dev.yaml").read_text())
    zones = replace_once(tmp_path / "bad.yaml", "  availability_zones: 2\n", "  availability_zones: 1\n")
    nat = replace_once(tmp_path / "bad.yaml", "  nat: none\n", "  nat: per_az\n")
    result = run_python(tmp_path, "-m", "review", "diff", "--files", "dev.yaml", "bad.yaml", "--no-policy", "--quiet")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "bad.yaml: 2 problems in the environment file; nothing was created.\n"
        f"  bad.yaml:{zones}: network.availability_zones: an Application Load Balancer needs subnets in at least "
        "2 zones and api is exposed; use availability_zones: 2 or more\n"
        f"  bad.yaml:{nat}: network.nat: per_az with a single availability zone is one NAT gateway; write nat: single\n"
    )
