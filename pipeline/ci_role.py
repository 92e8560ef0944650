"""`run.py ci-role ENV`: the deploy role's ARN and the inputs `app-deploy.yml` needs, per service.

Values the stack owns (the role ARN, the cluster name) are read from `pulumi stack output --json
--stack ENV`; values the environment file decides (region, families, containers, repositories,
the GitHub environment) come from configs/ENV.yaml. Without the Pulumi CLI or a deployed stack,
the stack's values are printed as clearly marked placeholders and the command says so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any, Optional

from configs.model import EnvironmentConfig
from components.ci_role import pipeline_jobs
from components.naming import family
from components.registry import repository_name

PLACEHOLDER = "<OFFLINE: {output} from `pulumi stack output --stack {env}` after `pulumi up`>"
WORKFLOW = "<owner>/<platform-repository>/.github/workflows/app-deploy.yml@main"


def stack_outputs(environment: str) -> Optional[dict[str, Any]]:
    """The stack's outputs, or None when the Pulumi CLI or the stack is not available."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None
    result = subprocess.run(
        [pulumi, "stack", "output", "--json", "--stack", environment], capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        return None
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return None


def deploy_inputs(config: EnvironmentConfig, outputs: Optional[dict[str, Any]]) -> dict[str, Any]:
    """{role_arn, offline, services: {key: the workflow's `with:` inputs}}."""
    env = config.environment

    def from_stack(name: str) -> str:
        value = (outputs or {}).get(name)
        return value if isinstance(value, str) and value else PLACEHOLDER.format(output=name, env=env)

    github = config.cicd.github
    services: dict[str, dict[str, Any]] = {}
    for key in sorted(config.services):
        image = config.services[key].image
        if image.repository is None:
            continue  # an image from another registry: this pipeline does not build it
        inputs: dict[str, Any] = {
            "role-to-assume": from_stack("ci_role_arn"),
            "aws-region": config.aws.region,
            "cluster": from_stack("cluster_name"),
            "service": key,
            "task-definition-family": family(env, key),
            "container-name": key,
            "ecr-repository": repository_name(env, image.repository),
        }
        if github is not None and github.environment is not None:
            inputs["github-environment"] = github.environment
        services[key] = inputs
    before = pipeline_jobs(config)
    for key, jobs in before.items():
        services[key].update(before_job_inputs(config, jobs[0], outputs))
    return {
        "role_arn": from_stack("ci_role_arn"),
        "offline": outputs is None,
        "services": services,
        # Service -> every one-off job built from its image; the inputs above name the first.
        "before_jobs": before,
    }


def before_job_inputs(config: EnvironmentConfig, job: str, outputs: Optional[dict[str, Any]]) -> dict[str, str]:
    """app-deploy.yml's `before-*` inputs: the one-off job run (rendered with the new image,
    waited for, failing on a non-zero exit) before the deploy, on the network and capacity
    `run.py task` uses (the stack output jobs.<job>)."""
    env = config.environment
    ids = ((outputs or {}).get("jobs") or {}).get(job)
    if not ids:
        placeholder = PLACEHOLDER.format(output=f"jobs.{job}", env=env)
        return {
            "before-task-definition-family": family(env, job),
            "before-container-name": job,
            "before-subnets": placeholder,
            "before-security-groups": placeholder,
            "before-capacity-provider-strategy": placeholder,
        }
    return {
        "before-task-definition-family": ids["task_family"],
        "before-container-name": job,
        "before-subnets": ",".join(ids["subnet_ids"]),
        "before-security-groups": ids["security_group_id"],
        # RunTask's capacityProviderStrategy, as the action takes it (JSON).
        "before-capacity-provider-strategy": json.dumps(
            [{"capacityProvider": c["capacityProvider"], "weight": int(c["weight"]), "base": int(c["base"])} for c in ids["capacity"]],
            separators=(",", ":"),
        ),
    }


def render_text(config: EnvironmentConfig, found: dict[str, Any]) -> str:
    env = config.environment
    lines = []
    if config.cicd.github is None:
        lines.append(f"configs/{env}.yaml sets no cicd.github: the stack creates no deploy role (add cicd.github, see README).")
    if found["offline"]:
        lines.append(f"OFFLINE: no `pulumi stack output --stack {env}` (Pulumi CLI or stack missing); values marked <OFFLINE: ...> are placeholders.")
    lines.append(f"deploy role: {found['role_arn']}")
    lines.append("")
    lines.append("# in the application repository, e.g. .github/workflows/deploy.yml:")
    lines.append("on: {push: {branches: [main]}}")
    lines.append("permissions: {contents: read, id-token: write}")
    lines.append("jobs:")
    for service, jobs in found.get("before_jobs", {}).items():
        lines.append(f"# deploy-{service} first runs the one-off job {jobs[0]} (before-* inputs) with the new image"
                     + (f"; other jobs built from it: {', '.join(jobs[1:])}" if jobs[1:] else ""))
    for key, inputs in found["services"].items():
        lines.append(f"  deploy-{key}:")
        lines.append(f"    uses: {WORKFLOW}")
        lines.append("    with:")
        lines.extend(f"      {name}: {json.dumps(value)}" for name, value in inputs.items())
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    from configs.loader import config_path, load_environment

    json_format = "--format" in argv and argv[argv.index("--format") + 1 :][:1] == ["json"]
    names = [a for i, a in enumerate(argv) if not a.startswith("--") and (i == 0 or argv[i - 1] != "--format")]
    if len(names) != 1:
        print("usage: run.py ci-role ENV [--format text|json]")
        return 2
    environment = names[0]
    config = load_environment(config_path(environment), stack=environment)
    found = deploy_inputs(config, stack_outputs(environment))
    print(json.dumps(found, indent=2) if json_format else render_text(config, found))
    return 0
