"""The checked-in table of EC2 instance types: vCPU, memory, GPUs and architecture.

One table for validation (does a task fit an instance type of its provider, does a GPU count
exist), the cluster (the GPU-optimised AMI) and the cost estimate (prices per region live in
review/prices/). A type outside the table is accepted with a warning: fit, GPU and price are
then unchecked.
"""

from __future__ import annotations

import json
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
