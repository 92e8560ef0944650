"""`connects_to` targets outside the stack: a CIDR or a prefix list is accepted; a security
group id is refused with file:line and the fix, because every group the stack creates is
reached by `service:` and any other group is in another VPC, where AWS rejects the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from configs.loader import load_environment
from tests.configs.cases import TODAY, copy_reference_files, issue_lines, replace_once

DATABASE = "      - {cidr: 10.130.0.0/24, port: 5432}"


@pytest.fixture
def prod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    copy_reference_files(tmp_path)
    return Path("prod.yaml")


def test_the_reference_database_connection_is_a_cidr(prod: Path) -> None:
    config = load_environment(prod, stack="prod", today=TODAY)
    targets = [(c.service, str(c.cidr) if c.cidr else None, c.prefix_list, c.port) for c in config.services["api"].connects_to]
    assert targets == [("worker", None, None, 9000), (None, "10.130.0.0/24", None, 5432)]


def test_a_prefix_list_target_is_accepted(prod: Path) -> None:
    replace_once(prod, DATABASE, "      - {prefix_list: pl-0123456789abcdef0, port: 443}")
    config = load_environment(prod, stack="prod", today=TODAY)
    assert config.services["api"].connects_to[1].prefix_list == "pl-0123456789abcdef0"


def test_a_security_group_the_stack_does_not_create_is_refused_with_its_line(prod: Path) -> None:
    line = replace_once(prod, DATABASE, "      - {security_group: sg-0123456789abcdef0, port: 5432}")
    assert issue_lines(prod, stack="prod") == [
        f"prod.yaml:{line}: services.api.connects_to[1].security_group: sg-0123456789abcdef0 is not a security "
        "group this stack creates: a group outside the stack is in another VPC, and AWS rejects rules that "
        "reference it; reach it by its network ({cidr: <its subnet CIDR>, port: 5432}) or a managed prefix list "
        "({prefix_list: pl-..., port: 5432}), or use service: for a service of this environment"
    ]


@pytest.mark.parametrize(
    "entry, path, message",
    [
        (
            "{cidr: 10.30.4.0/24, port: 5432}",
            "services.api.connects_to[1].cidr",
            "10.30.4.0/24 overlaps this environment's VPC (10.30.0.0/16); only this stack's services live there, "
            "so connect with service: <key>, or name the outside network",
        ),
        ("{cidr: 10.130.0.1/24, port: 5432}", "services.api.connects_to[1].cidr", "'10.130.0.1/24' has host bits set; the network is 10.130.0.0/24"),
        ("{prefix_list: pl-xyz, port: 443}", "services.api.connects_to[1].prefix_list", None),
        ("{cidr: 10.130.0.0/24, prefix_list: pl-0123456789abcdef0, port: 443}", "services.api.connects_to[1]",
         "set exactly one of service, cidr or prefix_list"),
    ],
)
def test_bad_outside_targets_are_refused(prod: Path, entry: str, path: str, message: str | None) -> None:
    line = replace_once(prod, DATABASE, f"      - {entry}")
    lines = issue_lines(prod, stack="prod")
    assert len(lines) == 1 and lines[0].startswith(f"prod.yaml:{line}: {path}: "), lines
    if message is not None:
        assert lines[0] == f"prod.yaml:{line}: {path}: {message}"
