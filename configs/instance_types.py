"""The checked-in table of EC2 instance types: vCPU, memory, GPUs and architecture.

One table for validation (does a task fit an instance type of its provider, does a GPU count
exist), the cluster (the GPU-optimised AMI) and the cost estimate (prices per region live in
review/prices/). A type outside the table is accepted with a warning: fit, GPU and price are
then unchecked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

TABLE = Path(__file__).resolve().parent / "instance_types.json"


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpu: int
    memory_mib: int
    gpus: int
    architecture: str  # x86_64 | arm64

    @property
    def cpu_units(self) -> int:
        """ECS CPU units: 1024 per vCPU."""
        return self.vcpu * 1024


@lru_cache(maxsize=1)
def instance_types() -> dict[str, InstanceType]:
    rows = json.loads(TABLE.read_text())["instance_types"]
    return {name: InstanceType(name=name, **row) for name, row in rows.items()}


def instance_type(name: str) -> Optional[InstanceType]:
    return instance_types().get(name)


# NVIDIA GPU families (g4dn, g5, g6, p4d, p5, ... and Graviton's g5g) for a type outside the
# table: its GPU count is unknown, but a GPU type needs the GPU-optimised AMI all the same.
GPU_FAMILY = re.compile(r"^(g\d|p\d)[a-z0-9-]*\.")


# ECS reserves NVIDIA GPUs only (its GPU AMI carries NVIDIA's driver and runtime); g4ad's GPUs
# are AMD Radeon. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-gpu.html
NON_NVIDIA_GPU_FAMILY = re.compile(r"^g4ad\.")


def has_gpus(name: str) -> bool:
    """Whether instances of the type carry GPUs: the table's count, else the family's name."""
    known = instance_type(name)
    return known.gpus > 0 if known is not None else bool(GPU_FAMILY.match(name))


def is_gpu_provider(instance_types: list[str]) -> bool:
    """A provider of GPU types (the loader refuses a provider that mixes both kinds)."""
    return any(has_gpus(name) for name in instance_types)


# The ECS-optimised Amazon Linux 2023 AMIs, published by AWS as public SSM parameters; the GPU
# variant carries the NVIDIA driver and container runtime and exists for x86_64 only (AWS builds
# no arm64 GPU AMI for Amazon Linux 2023, so Graviton GPU types such as g5g have none).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/retrieve-ecs-optimized_AMI.html
ECS_AMI_PARAMETERS = {
    "x86_64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
    "arm64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
}
ECS_GPU_AMI_PARAMETERS = {
    "x86_64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id",
}


def ecs_ami_parameter(architecture: str, gpu: bool) -> Optional[str]:
    """The SSM parameter of the AMI a provider's instances boot; None: AWS publishes none."""
    return (ECS_GPU_AMI_PARAMETERS if gpu else ECS_AMI_PARAMETERS).get(architecture)
