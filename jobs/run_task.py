"""`python3 run.py task ENV JOB`: the exact `aws ecs run-task` command for one job.

The ids come from the stack's outputs (`pulumi stack output --json --stack ENV`: cluster_name
and jobs.<JOB>: task_family, subnet_ids, security_group_id, capacity). Without the Pulumi CLI or
a deployed stack, the command is printed with placeholders in <ANGLE BRACKETS> and a note.
Exit status: 0 printed, 2 bad input (unknown environment file or job).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from typing import Any, Optional

from configs.errors import ConfigError
from configs.loader import config_path, load_environment
from configs.model import EnvironmentConfig

FARGATE_PROVIDERS = {"fargate": "FARGATE", "fargate_spot": "FARGATE_SPOT"}
BAD_INPUT = 2


def stack_outputs(environment: str) -> Optional[dict[str, Any]]:
    """The stack's outputs, or None when the Pulumi CLI or the stack is not available."""
    try:
        done = subprocess.run(
            ["pulumi", "stack", "output", "--json", "--stack", environment], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        return None


def offline_ids(config: EnvironmentConfig, job: str) -> dict[str, Any]:
    """What the outputs would hold, with placeholders for ids only AWS knows."""
    return {
        "cluster_name": "<CLUSTER NAME: pulumi stack output cluster_name>",
        "task_family": f"{config.environment}-{job}",
        "subnet_ids": ["<PRIVATE SUBNET IDS: pulumi stack output jobs>"],
        "security_group_id": f"<SECURITY GROUP OF {config.environment}-{job}>",
        "capacity": [
            {
                "capacityProvider": FARGATE_PROVIDERS.get(entry.provider, f"<CAPACITY PROVIDER {entry.provider}>"),
                "base": entry.base,
                "weight": entry.weight,
            }
            for entry in config.strategy_for(job)
        ],
    }


def run_task_command(ids: dict[str, Any], region: str) -> list[str]:
    strategy = [
        f"capacityProvider={entry['capacityProvider']},weight={int(entry['weight'])},base={int(entry['base'])}"
        for entry in ids["capacity"]
    ]
    network = (
        "awsvpcConfiguration={subnets=[" + ",".join(ids["subnet_ids"]) + "],securityGroups=["
        + ids["security_group_id"] + "],assignPublicIp=DISABLED}"
    )
    return [
        "aws", "ecs", "run-task",
        "--region", region,
        "--cluster", ids["cluster_name"],
        "--task-definition", ids["task_family"],  # the family's latest ACTIVE revision
        "--capacity-provider-strategy", *strategy,
        "--network-configuration", network,
        "--propagate-tags", "TASK_DEFINITION",
        "--started-by", "run.py-task",
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="run.py task", description=__doc__.splitlines()[0])
    parser.add_argument("environment")
    parser.add_argument("job")
    parser.add_argument("--offline", action="store_true", help="do not ask Pulumi for the stack outputs")
    args = parser.parse_args(argv)
    try:
        config = load_environment(config_path(args.environment), stack=args.environment)
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return BAD_INPUT
    except FileNotFoundError:
        print(f"task: there is no configs/{args.environment}.yaml", file=sys.stderr)
        return BAD_INPUT
    if args.job not in config.jobs:
        print(
            f"task: {args.job!r} is not a job of {args.environment}; jobs: {', '.join(sorted(config.jobs)) or 'none'}",
            file=sys.stderr,
        )
        return BAD_INPUT
    outputs = None if args.offline else stack_outputs(args.environment)
    job_outputs = (outputs or {}).get("jobs", {}).get(args.job)
    if outputs and job_outputs:
        ids = {"cluster_name": outputs["cluster_name"], **job_outputs}
    else:
        ids = offline_ids(config, args.job)
        print(
            "# offline: no stack outputs (Pulumi CLI, stack or deployed job missing); replace the <PLACEHOLDERS>",
            file=sys.stderr,
        )
    print(shlex.join(run_task_command(ids, config.aws.region)))
    return 0
