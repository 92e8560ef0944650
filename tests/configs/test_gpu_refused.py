"""GPU instance types are refused with file:line until GPU capacity works end to end (the
GPU-optimised AMI, GPU reservations, prices): accepted today, they would start instances that
no task uses as a GPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.configs.cases import copy_reference_files, issue_lines, replace_once


@pytest.mark.parametrize("gpu_type", ["g5.xlarge", "p4d.24xlarge"])
def test_a_gpu_instance_type_is_refused_with_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gpu_type: str) -> None:
    monkeypatch.chdir(tmp_path)
    copy_reference_files(tmp_path)
    line = replace_once(Path("prod.yaml"), "instance_types: [m6i.large, m5.large]", f"instance_types: [m6i.large, {gpu_type}]")
    assert issue_lines(Path("prod.yaml"), stack="prod") == [
        f"prod.yaml:{line}: cluster.capacity.ec2.general.instance_types[1]: {gpu_type} is a GPU instance type, which "
        "this platform does not support yet (the standard ECS AMI has no GPU driver and tasks reserve no GPU); use a "
        "type without GPUs, such as m6i.large"
    ]
