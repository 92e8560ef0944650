"""Edges of the task definition rules: volumes without a name or with another driver, and the
whole messages of the host-mount rule."""

from __future__ import annotations

import json

import pytest

from .verdicts import problems
from .stack import SECRET, edited, set_

TASK, MOUNTS = "prod-api-task", "aws-ecs-task-definition-no-host-mounts"


DECLARED = "aws-ecs-task-definition-mounts-declared-volumes"


@pytest.mark.parametrize("volumes, expected", [
    pytest.param([{"hostPath": "/proc"}], [(DECLARED, TASK, "volume 'None' mounts the host's /proc; use task storage (no hostPath) or EFS"),
                                           (MOUNTS, TASK, "volume '?' mounts the host's /proc")], id="host-path-without-a-name"),
    pytest.param([{"name": "sock", "hostPath": "/var/run/docker.sock"}],
                 [(DECLARED, TASK, "volume 'sock' mounts the host's /var/run/docker.sock; use task storage (no hostPath) or EFS"),
                  (MOUNTS, TASK, "volume 'sock' mounts the host's /var/run/docker.sock")], id="runtime-socket"),
])
def test_host_paths(pack, volumes, expected):
    assert problems(pack.verdict(edited(set_(TASK, "volumes", volumes)))) == expected


@pytest.mark.parametrize("volumes, problem", [
    pytest.param([{"name": "etc", "dockerVolumeConfiguration": {"driverOpts": {"o": "bind", "device": "/etc"}}}],
                 "volume 'etc' binds the host's /etc through the local driver", id="bind-driver-unset-is-local"),
    pytest.param([{"name": "etc", "dockerVolumeConfiguration": {"driver": "rexray/ebs", "driverOpts": {"O": "rbind", "Device": "/etc"}}}],
                 "volume 'etc' binds the host's /etc through the rexray/ebs driver", id="bind-through-another-driver"),
])
def test_bind_mounts_through_a_driver(pack, volumes, problem):
    assert problems(pack.verdict(edited(set_(TASK, "volumes", volumes)))) == [(MOUNTS, TASK, problem)]


def test_a_private_registry_credential_is_a_referenced_secret(pack):
    """The execution role reads repositoryCredentials.credentialsParameter to pull the image, so
    a grant on it is a grant on a referenced secret."""
    def pull_with_the_db_secret(stack):
        containers = json.loads(stack[TASK]["props"]["containerDefinitions"])
        containers[0]["secrets"] = [s for s in containers[0]["secrets"] if s["name"] != "DB_PASSWORD"]
        containers[0]["repositoryCredentials"] = {"credentialsParameter": SECRET}
        stack[TASK]["props"]["containerDefinitions"] = json.dumps(containers)
    assert problems(pack.verdict(edited(pull_with_the_db_secret))) == []
