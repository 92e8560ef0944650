"""ECR repositories: scanning, IMMUTABLE tags, KMS, lifecycle rules, an account-only policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from configs.model import Registry as RegistryConfig
from components.naming import type_token


@dataclass(frozen=True)
class RegistryArgs:
    registry: RegistryConfig
    environment: str
    account_id: str
    region: str
    partition: str
    tags: dict[str, str]
    protect: bool


class Registry(pulumi.ComponentResource):
    """Outputs: repository_urls and repository_arns (key -> value)."""

    def __init__(self, name: str, args: RegistryArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(type_token("registry", "Registry"), name, None, opts)
        raise NotImplementedError("components/registry.py: issue 3")
