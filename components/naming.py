"""The one naming helper: logical names from the component name and mapping keys, and AWS
physical names that respect each service's length limit.

Renaming a logical name replaces the live resource, so names never contain list positions
and never change without an alias.
"""

from __future__ import annotations

import hashlib
import re

TYPE_PREFIX = "ecsplatform"


def type_token(module: str, cls: str) -> str:
    return f"{TYPE_PREFIX}:{module}:{cls}"


def child(parent_name: str, *parts: str) -> str:
    """`prod-api` + (`task`,) -> `prod-api-task`."""
    return "-".join((parent_name, *parts))


def name_part(value: str) -> str:
    """A value written in YAML (a CIDR such as 10.50.0.0/16) as a part of a logical name:
    `10-50-0-0-16`. Keys and AWS ids (pl-..., sg-...) pass unchanged."""
    return re.sub(r"[^A-Za-z0-9-]", "-", value)


def family(environment: str, key: str) -> str:
    """`prod` + `api` -> `prod-api`: a service's name within its environment (task definition
    family, security group Name tag, scaling policy and target group names)."""
    return f"{environment}-{key}"


def physical(name: str, max_length: int) -> str:
    """An AWS name within max_length; longer names keep a prefix and a stable hash suffix."""
    if len(name) <= max_length:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:7]
    return f"{name[: max_length - 8].rstrip('-')}-{digest}"


# Limits of the names we set explicitly.
TARGET_GROUP_NAME_MAX = 32
LOAD_BALANCER_NAME_MAX = 32
IAM_ROLE_NAME_MAX = 64
