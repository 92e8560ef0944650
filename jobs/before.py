"""`jobs.<j>.before: [service, ...]` under `deploys: pulumi`: the shell script the stack's
`command:local:Command` runs during `pulumi up` (components/job.py registers it).

It starts the job's task with exactly the `aws ecs run-task` command `run.py task` prints
(jobs/run_task.py), waits for the task to stop and exits non-zero unless the job's main
container (the essential one, named like the job) exited 0; then `pulumi up` fails before the
services named in `before` roll out. It runs on the machine that runs `pulumi up`, with the AWS
CLI v2 found there and the credentials `pulumi up` itself was started with (README: jobs).

Pure text: the ids come in resolved, so tests read the exact script.
"""

from __future__ import annotations

import shlex
from typing import Any

from jobs.run_task import run_task_command

POLL_SECONDS = 15
INTERPRETER = ["/bin/sh", "-c"]


def before_script(ids: dict[str, Any], *, region: str, job: str, environment: str, services: list[str],
                  timeout_minutes: int, log_group: str) -> str:
    """The script: start (run.py task's command), wait (at most timeout_minutes, then stop the
    task and fail), judge the main container's exit code."""
    run_task = shlex.join(run_task_command(ids, region))
    describe = shlex.join(["aws", "ecs", "describe-tasks", "--region", region, "--cluster", ids["cluster_name"]])
    what = f"jobs.{job} ({environment})"
    later, one = ", ".join(services), len(services) == 1
    exit_code = shlex.quote(f"tasks[0].containers[?name=='{job}'].exitCode | [0]")
    lines = [
        "set -eu",
        "command -v aws >/dev/null || { echo " + shlex.quote(
            f"{what}: the AWS CLI v2 is needed on the machine running pulumi up (README: jobs)") + " >&2; exit 1; }",
        # run-task answers either a task or a failure (no capacity, bad network): print which.
        f"task=$({run_task} --query 'tasks[0].taskArn || failures[0].reason' --output text)",
        'case "$task" in arn:*) ;; *) echo ' + shlex.quote(f"{what} did not start: ") + '"$task" >&2; exit 1 ;; esac',
        "echo " + shlex.quote(f"{what}: started ") + '"$task"' + shlex.quote(
            f"; waiting for it to stop (at most {timeout_minutes} min) before {later} {'rolls' if one else 'roll'} out"),
        f"deadline=$(( $(date +%s) + {timeout_minutes * 60} ))",
        f'while [ "$({describe} --tasks "$task" --query \'tasks[0].lastStatus\' --output text)" != STOPPED ]; do',
        '  if [ "$(date +%s)" -ge "$deadline" ]; then',
        "    " + shlex.join(["aws", "ecs", "stop-task", "--region", region, "--cluster", ids["cluster_name"]])
        + ' --task "$task" --reason ' + shlex.quote(f"timeout_minutes ({timeout_minutes}) passed") + " >/dev/null",
        "    echo " + shlex.quote(f"{what} ran longer than timeout_minutes ({timeout_minutes}); stopped it") + " >&2",
        "    exit 1",
        "  fi",
        f"  sleep {POLL_SECONDS}",
        "done",
        f'code=$({describe} --tasks "$task" --query {exit_code} --output text)',
        'if [ "$code" != 0 ]; then',
        f'  reason=$({describe} --tasks "$task" --query \'tasks[0].stoppedReason\' --output text)',
        "  echo " + shlex.quote(f"{what} exited ") + '"$code ($reason)"' + shlex.quote(
            f"; {later} {'does' if one else 'do'} not roll out; logs: {log_group}") + " >&2",
        "  exit 1",
        "fi",
        "echo " + shlex.quote(f"{what} exited 0; {later} {'rolls' if one else 'roll'} out now"),
    ]
    return "\n".join(lines) + "\n"
