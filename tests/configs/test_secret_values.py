"""The loader refuses credentials in plain values with the pack's own judgement
(policies/secret_values.py, detect-secrets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_iam_refusals import HEADER, SERVICE, problems, workdir  # noqa: F401 (fixture)

CASES = [
    pytest.param("    environment: {UPSTREAM_ID: AKIAIOSFODNN7EXAMPLE}\n", [
        "env.yaml:10: services.api.environment.UPSTREAM_ID: UPSTREAM_ID holds a credential (AWS Access Key); plain values show in the console and the task definition, so move it to secrets",
    ], id="aws-key"),
    pytest.param('    environment: {DATABASE_URL: "postgres://app:s3cr3t-pw@db.internal:5432/orders"}\n', [
        "env.yaml:10: services.api.environment.DATABASE_URL: DATABASE_URL holds a credential (Basic Auth Credentials); plain values show in the console and the task definition, so move it to secrets",
    ], id="url-with-password"),
    pytest.param("    environment: {SESSION_SALT: q8Zr2Lx9Vb4Nw7Ty1Ks5Gm3Hp6Jd0Fc}\n", [
        "env.yaml:10: services.api.environment.SESSION_SALT: SESSION_SALT holds a high-entropy value under a secret-like name; plain values show in the console and the task definition, so move it to secrets",
    ], id="entropy-under-secret-like-name"),
    pytest.param('    command: ["/app", "--token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"]\n', [
        "env.yaml:10: services.api.command[2]: the command holds a credential (GitHub Token); pass it through secrets instead",
    ], id="token-in-command"),
    pytest.param("    environment: {DB_PASS: x}\n", [
        "env.yaml:10: services.api.environment.DB_PASS: DB_PASS looks like a credential; plain environment values show in the console and task definition, so move it to secrets",
    ], id="pass-is-a-secret-name"),
    pytest.param('    environment: {DATABASE_URL: "postgres://db.internal:5432/orders", LOG_LEVEL: info}\n', [], id="plain-config"),
]


@pytest.mark.parametrize(("snippet", "expected"), CASES)
def test_the_loader_refuses_credentials_in_values(workdir: Path, snippet: str, expected: list[str]) -> None:  # noqa: F811
    (workdir / "env.yaml").write_text(HEADER + SERVICE + snippet)
    assert problems(Path("env.yaml")) == expected
