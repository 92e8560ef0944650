"""GPU capacity at load time (issue #14 §6, #13 item 10): the spec's `ml` service on a `gpu`
provider of g5.xlarge loads; providers that mix GPU and non-GPU types, GPU types without a GPU
AMI for their architecture, and `gpu:` reservations that no instance can hold are refused with
file:line, each with its exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

from configs.instance_types import instance_type
from configs.limit_checks import registered_memory
from configs.loader import load_environment
from tests.configs.cases import TODAY, copy_reference_files, issue_lines, line_of, replace_once

GENERAL = "instance_types: [m6i.large, m5.large]"
# The spec's gpu provider and ml service, added to prod as the spec writes them.
GPU_PROVIDER = """
      gpu:
        instance_types: [g5.xlarge]   # GPU types: the GPU-optimised ECS AMI and GPU reservations
        min_size: 0
        max_size: 4"""
ML_SERVICE = """
  ml:
    image: {repository: ml, tag: v0.3.0}
    cpu: 4096
    memory: 14336
    user: "10001"
    gpu: 1
    capacity: [{provider: gpu, weight: 1}]
"""


@pytest.fixture
def prod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """prod.yaml with the spec's gpu provider, ml repository and ml service."""
    monkeypatch.chdir(tmp_path)
    copy_reference_files(tmp_path)
    path = Path("prod.yaml")
    replace_once(path, "        target_capacity: 90\n", "        target_capacity: 90" + GPU_PROVIDER + "\n")
    replace_once(path, "    reports: {lifecycle:", "    ml: {}\n    reports: {lifecycle:")
    # services end where prod's jobs (the nightly report batch) begin
    replace_once(path, "\njobs:\n", ML_SERVICE + "\njobs:\n")
    return path


def test_the_spec_ml_service_loads_on_its_gpu_provider(prod: Path) -> None:
    config = load_environment(prod, stack="prod", today=TODAY)
    ml = config.services["ml"]
    assert (ml.gpu, ml.cpu, ml.memory, config.strategy_for("ml")[0].provider) == (1, 4096, 14336, "gpu")
    assert config.cluster.capacity.ec2["gpu"].instance_types == ["g5.xlarge"]


def test_the_ml_task_fits_a_g5_xlarge_after_the_agents_reserve() -> None:
    g5 = instance_type("g5.xlarge")
    assert g5 is not None and (g5.cpu_units, g5.memory_mib, g5.gpus, g5.architecture) == (4096, 16384, 1, "x86_64")
    # 16384 MiB x 7985/8192 = 15970 MiB registered with ECS: 14336 fits, 1634 MiB to spare.
    assert registered_memory(g5.memory_mib) == 15970


def test_a_task_too_large_for_the_gpu_type_is_still_refused_by_the_fit_check(prod: Path) -> None:
    line = replace_once(prod, "    memory: 14336\n", "    memory: 16384\n")
    assert issue_lines(prod, stack="prod") == [
        f"prod.yaml:{line}: services.ml.memory: cpu 4096 / memory 16384 fits no instance type of provider gpu: the "
        "largest, g5.xlarge, registers 4096 CPU units and 15970 MiB with ECS (installed memory less the kernel's "
        "share); size the task down or add a larger type"
    ]


def test_a_provider_mixing_gpu_and_other_types_is_refused(prod: Path) -> None:
    line = replace_once(prod, "instance_types: [g5.xlarge]", "instance_types: [g5.xlarge, m5.xlarge]")
    assert issue_lines(prod, stack="prod") == [
        f"prod.yaml:{line}: cluster.capacity.ec2.gpu.instance_types[1]: m5.xlarge has no GPU but g5.xlarge in the "
        "same provider has: its instances boot one AMI (the GPU-optimised one), and managed scaling could launch "
        "m5.xlarge for a task that reserves a GPU; put GPU and non-GPU types in separate providers"
    ]


@pytest.mark.parametrize("gpu_type", ["g5.xlarge", "p4d.24xlarge"])
def test_a_gpu_type_among_general_types_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gpu_type: str) -> None:
    """p4d.24xlarge is outside the table: its family still makes it a GPU type."""
    monkeypatch.chdir(tmp_path)
    copy_reference_files(tmp_path)
    line = replace_once(Path("prod.yaml"), GENERAL, f"instance_types: [m6i.large, {gpu_type}]")
    problems = issue_lines(Path("prod.yaml"), stack="prod")
    assert problems == [
        f"prod.yaml:{line}: cluster.capacity.ec2.general.instance_types[0]: m6i.large has no GPU but {gpu_type} in "
        "the same provider has: its instances boot one AMI (the GPU-optimised one), and managed scaling could launch "
        "m6i.large for a task that reserves a GPU; put GPU and non-GPU types in separate providers"
    ]


def test_an_arm64_gpu_type_has_no_gpu_ami_and_is_refused(prod: Path) -> None:
    line = replace_once(prod, "instance_types: [g5.xlarge]", "instance_types: [g5g.xlarge]\n        architecture: arm64")
    replace_once(prod, "    gpu: 1\n", "")
    assert issue_lines(prod, stack="prod") == [
        f"prod.yaml:{line}: cluster.capacity.ec2.gpu.instance_types[0]: g5g.xlarge is an arm64 GPU type, and AWS "
        "publishes no GPU-optimised ECS AMI for arm64 on Amazon Linux 2023 (no NVIDIA driver would be installed); "
        "use x86_64 GPU types such as g5.xlarge"
    ]


def test_gpu_on_fargate_is_refused_whether_its_own_or_the_default_strategy(prod: Path) -> None:
    text = prod.read_text()
    prod.write_text(text.replace("    capacity: [{provider: gpu, weight: 1}]\n", "    capacity: [{provider: fargate, weight: 1}]\n"))
    own = line_of(prod, "    gpu: 1")
    first = issue_lines(prod, stack="prod")
    prod.write_text(text.replace("    capacity: [{provider: gpu, weight: 1}]\n", ""))
    default = issue_lines(prod, stack="prod")
    message = (
        "needs EC2 GPU capacity, but {source} places the task on {providers}, which has no GPUs; set capacity: "
        "[{{provider: gpu, weight: 1}}]"
    )
    # Fargate's sizes do not include 4096/14336 either: that refusal stays beside it.
    assert f"prod.yaml:{own}: services.ml.gpu: gpu 1 " + message.format(source="its capacity", providers="fargate") in first
    assert f"prod.yaml:{own}: services.ml.gpu: gpu 1 " + message.format(
        source="cluster.default_strategy", providers="fargate, fargate_spot"
    ) in default


def test_gpu_on_a_provider_without_gpu_types_is_refused(prod: Path) -> None:
    replace_once(prod, "    capacity: [{provider: gpu, weight: 1}]\n", "    capacity: [{provider: general, weight: 1}]\n")
    replace_once(prod, "    cpu: 4096\n    memory: 14336\n", "    cpu: 1024\n    memory: 2048\n")
    line = line_of(prod, "    gpu: 1")
    assert issue_lines(prod, stack="prod") == [
        f"prod.yaml:{line}: services.ml.gpu: provider general has no GPU instance types (m6i.large, m5.large); "
        "set capacity: [{provider: gpu, weight: 1}]"
    ]


def test_more_gpus_than_any_type_of_the_provider_has_is_refused(prod: Path) -> None:
    line = replace_once(prod, "    gpu: 1\n", "    gpu: 2\n")
    assert issue_lines(prod, stack="prod") == [
        f"prod.yaml:{line}: services.ml.gpu: 2 GPUs are more than any instance type of provider gpu has "
        "(g5.xlarge: 1); reserve at most 1 or add a type with more GPUs, such as g5.12xlarge (4)"
    ]


def test_a_larger_type_with_enough_gpus_makes_it_fit(prod: Path) -> None:
    replace_once(prod, "instance_types: [g5.xlarge]", "instance_types: [g5.xlarge, g5.12xlarge]")
    replace_once(prod, "    gpu: 1\n", "    gpu: 4\n")
    assert load_environment(prod, stack="prod", today=TODAY).services["ml"].gpu == 4


def test_jobs_reserve_gpus_under_the_same_rules(prod: Path) -> None:
    prod.write_text(prod.read_text() + "  train:\n    image: {repository: ml, tag: v0.3.0}\n    user: \"10001\"\n    gpu: 1\n")  # after jobs.reports
    line = len(prod.read_text().splitlines())  # the job's gpu: the file's last line
    problems = issue_lines(prod, stack="prod")
    assert problems == [
        f"prod.yaml:{line}: jobs.train.gpu: gpu 1 needs EC2 GPU capacity, but cluster.default_strategy places the task "
        "on fargate, fargate_spot, which has no GPUs; set capacity: [{provider: gpu, weight: 1}]"
    ]


def test_without_any_gpu_provider_the_fix_says_to_declare_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    copy_reference_files(tmp_path)
    path = Path("prod.yaml")
    line = replace_once(path, "    capacity: [{provider: general, weight: 1}]\n", "    capacity: [{provider: general, weight: 1}]\n    gpu: 1\n") + 1
    assert issue_lines(path, stack="prod") == [
        f"prod.yaml:{line}: services.worker.gpu: provider general has no GPU instance types (m6i.large, m5.large); "
        "declare an EC2 provider of GPU types (cluster.capacity.ec2.<name>.instance_types: [g5.xlarge]) and name it in capacity"
    ]


def test_gpu_zero_is_refused_by_the_model(prod: Path) -> None:
    line = replace_once(prod, "    gpu: 1\n", "    gpu: 0\n")
    assert issue_lines(prod, stack="prod") == [
        f"prod.yaml:{line}: services.ml.gpu: input should be greater than or equal to 1 (got 0)"
    ]


def test_a_gpu_job_too_large_for_its_instances_is_refused(prod: Path) -> None:
    prod.write_text(prod.read_text() + "  train:\n    image: {repository: ml, tag: v0.3.0}\n    user: \"10001\"\n"  # after jobs.reports
                    "    cpu: 8192\n    memory: 8192\n    gpu: 1\n    capacity: [{provider: gpu, weight: 1}]\n")
    line = line_of(prod, "    cpu: 8192")
    assert issue_lines(prod, stack="prod") == [
        f"prod.yaml:{line}: jobs.train.cpu: cpu 8192 / memory 8192 fits no instance type of provider gpu: the largest, "
        "g5.xlarge, registers 4096 CPU units and 15970 MiB with ECS (installed memory less the kernel's share); size the "
        "task down or add a larger type"
    ]


def test_an_amd_gpu_type_is_refused(prod: Path) -> None:
    line = replace_once(prod, "instance_types: [g5.xlarge]", "instance_types: [g5.xlarge, g4ad.xlarge]")
    assert issue_lines(prod, stack="prod") == [
        f"prod.yaml:{line}: cluster.capacity.ec2.gpu.instance_types[1]: g4ad.xlarge carries AMD GPUs, and ECS reserves "
        "NVIDIA GPUs only (its GPU-optimised AMI has NVIDIA's driver); use an NVIDIA type such as g5.xlarge or g4dn.xlarge",
    ]
