"""Rules about EFS: `storage.efs` file systems and the `volumes.<v>.efs` that mount them.

Each check yields (YAML path, message) like configs/checks.py; `unused_file_systems` yields
warnings the loader logs without refusing the file.
"""

from __future__ import annotations

import datetime
from typing import Iterator

from configs.errors import excerpt
from configs.model import EnvironmentConfig

Problem = tuple[tuple, str]

# EFS's PosixUser.Uid/Gid and CreationInfo.OwnerUid/OwnerGid (botocore's efs model: 0-4294967295).
POSIX_ID_MAX = 4_294_967_295


def check_efs_volumes(config: EnvironmentConfig, _today: datetime.date) -> Iterator[Problem]:
    """Every EFS volume names a declared file system, and its task's `user` is a numeric
    uid[:gid]: the access point enforces those ids for every file operation, and a user name
    means nothing to EFS."""
    declared = sorted(config.storage.efs)
    for section, tasks in (("services", config.services), ("jobs", config.jobs)):
        for key, task in tasks.items():
            efs_volumes = task.efs_volumes
            for name, efs in efs_volumes.items():
                if efs.file_system not in config.storage.efs:
                    yield (section, key, "volumes", name, "efs", "file_system"), (
                        f"{efs.file_system!r} is not declared under storage.efs ({', '.join(declared) or 'none declared'}); "
                        f"declare it, e.g. storage: {{efs: {{{efs.file_system}: {{}}}}}}"
                    )
            if efs_volumes:
                yield from _posix_user_problems((section, key, "user"), task.user, task.posix_user)


def _posix_user_problems(path: tuple, user: str, posix: tuple[int, int] | None) -> Iterator[Problem]:
    if posix is None:
        yield path, (
            f"{excerpt(user)} is not a numeric uid[:gid], and the task's EFS access points run every file operation "
            "as a numeric uid and gid; write e.g. 10001 or 10001:10001"
        )
    elif max(posix) > POSIX_ID_MAX:
        yield path, f"{excerpt(user)} is above EFS's largest uid/gid {POSIX_ID_MAX}; use a smaller id such as 10001"


def unused_file_systems(config: EnvironmentConfig) -> Iterator[Problem]:
    """Warnings, not errors: a file system no volume mounts still costs its storage, but it may
    hold data. Refusing it would force the user to delete the entry (and so the file system and
    its data) in the same change that removes its last volume, or forbid creating storage
    before the workloads that will mount it."""
    used = {volume.efs.file_system for _key, _name, volume in config.efs_mounts if volume.efs is not None}
    for name in sorted(set(config.storage.efs) - used):
        yield ("storage", "efs", name), (
            f"no volume mounts the file system {name!r}; it is still created, backed up and billed for what it stores. "
            "Mount it with volumes.<v>.efs.file_system, or remove it once its data is no longer needed"
        )


STORAGE_CHECKS = (check_efs_volumes,)
