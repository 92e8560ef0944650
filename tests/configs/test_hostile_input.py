"""The file is data, not a program: `extends` stays in its folder, YAML 1.1's surprises are
errors with the fix, only standard tags, no invisible characters, a size cap, and no report
echoes more than a short excerpt of a value. Each case asserts the exact report lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from configs.model import Service
from configs.yaml_source import MAX_FILE_BYTES
from tests.configs.cases import issue_lines

HEADER = "environment: dev\naws: {region: eu-west-1}\ntags: {team: platform}\n"
# A valid service on lines 4-9; lines appended to it start at 10.
API = 'services:\n  api:\n    image: {uri: "nginx:1.25"}\n    user: "10001"\n    cpu: 256\n    memory: 512\n'
DATA = "an environment file is data (text, decimal numbers, true/false, lists and mappings); remove the tag"
HIDDEN = "which editors and reviews do not show"
SERVICE_KEYS = ", ".join(sorted((field.alias or name) for name, field in Service.model_fields.items()))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    return project


# ---- extends stays inside the folder of the file that names it ----------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/etc/passwd", "'/etc/passwd' is an absolute path; extends names a file in the folder of env.yaml, e.g. extends: base.yaml"),
        ("/etc/hosts.yaml", "'/etc/hosts.yaml' is an absolute path; extends names a file in the folder of env.yaml, e.g. extends: base.yaml"),
        ("'C:\\base.yaml'", "'C:\\\\base.yaml' is an absolute path; extends names a file in the folder of env.yaml, e.g. extends: base.yaml"),
        ("../outside.yaml", "'../outside.yaml' leaves the folder of env.yaml (..); extends names a file in that folder, e.g. extends: base.yaml"),
        ("../../../..", "'../../../..' leaves the folder of env.yaml (..); extends names a file in that folder, e.g. extends: base.yaml"),
        ("sub/../../outside.yaml", "'sub/../../outside.yaml' leaves the folder of env.yaml (..); extends names a file in that folder, e.g. extends: base.yaml"),
        ("'..\\outside.yaml'", "'..\\\\outside.yaml' leaves the folder of env.yaml (..); extends names a file in that folder, e.g. extends: base.yaml"),
        (".env", "'.env' is not a YAML file; extends names a .yaml file in the folder of env.yaml, e.g. extends: base.yaml"),
    ],
    ids=["absolute", "absolute_yaml", "windows_drive", "parent", "parents", "parent_inside", "backslash_parent", "not_yaml"],
)
def test_extends_outside_the_folder_is_refused(workdir: Path, value: str, message: str) -> None:
    (workdir.parent / "outside.yaml").write_text("environment: dev\n")
    (workdir / "env.yaml").write_text(HEADER + f"extends: {value}\n")
    assert issue_lines(Path("env.yaml")) == [f"env.yaml:4: extends: {message}"]


def test_extends_through_a_symlink_out_of_the_folder_is_refused_and_its_content_never_shown(workdir: Path) -> None:
    secret = workdir.parent / "secret.yaml"
    secret.write_text("ghp_TOKENTOKENTOKEN: [unclosed\n")
    (workdir / "base.yaml").symlink_to(secret)
    (workdir / "env.yaml").write_text(HEADER + "extends: base.yaml\n")
    lines = issue_lines(Path("env.yaml"))
    assert lines == [
        "env.yaml:4: extends: 'base.yaml' is a symbolic link to a file outside the folder of env.yaml; copy the file into the folder"
    ]
    assert "TOKEN" not in "".join(lines)


def test_extends_into_a_subfolder_is_read(workdir: Path) -> None:
    (workdir / "shared").mkdir()
    (workdir / "shared" / "base.yaml").write_text("services: {api: {cpu: 300}}\n")
    (workdir / "env.yaml").write_text(HEADER + "extends: shared/base.yaml\n" + API.replace("    cpu: 256\n", ""))
    assert issue_lines(Path("env.yaml")) == [
        "shared/base.yaml:1: services.api.cpu: 300 is not a Fargate CPU size; use one of 256, 512, 1024, 2048, 4096, 8192, 16384"
    ]


# ---- YAML 1.1 surprises ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    port: 05432", "services.api.port: '05432' has a leading zero (YAML 1.1 reads it as octal 2842); numbers are decimal: write 5432 (or quote it, \"05432\", for text)"),
        ("    port: 08080", "services.api.port: '08080' has a leading zero (YAML 1.1 reads it as text); numbers are decimal: write 8080 (or quote it, \"08080\", for text)"),
        ("    port: 0x1F90", "services.api.port: '0x1F90' is not a decimal number; write 8080"),
        ("    port: 0b1010", "services.api.port: '0b1010' is not a decimal number; write 10"),
        ("    port: 8_080", "services.api.port: '8_080' is not a decimal number; write 8080"),
        ("    port: 22:22", "services.api.port: '22:22' is a base-60 number in YAML 1.1; quote it (\"22:22\") for text, or write the number in decimal"),
        ("    port: .inf", "services.api.port: '.inf' is not a decimal number (YAML 1.1 reads it as one); write digits, or quote it for text"),
        ("    read_only_root_filesystem: no", "services.api.read_only_root_filesystem: 'no' is a boolean only in YAML 1.1; write false (or quote it, \"no\", for text)"),
        ("    read_only_root_filesystem: on", "services.api.read_only_root_filesystem: 'on' is a boolean only in YAML 1.1; write true (or quote it, \"on\", for text)"),
        ("    read_only_root_filesystem: Yes", "services.api.read_only_root_filesystem: 'Yes' is a boolean only in YAML 1.1; write true (or quote it, \"Yes\", for text)"),
        ("    read_only_root_filesystem: OFF", "services.api.read_only_root_filesystem: 'OFF' is a boolean only in YAML 1.1; write false (or quote it, \"OFF\", for text)"),
        ("    read_only_root_filesystem: !!bool yes", "services.api.read_only_root_filesystem: 'yes' is a boolean only in YAML 1.1; write true (or quote it, \"yes\", for text)"),
        ("    port: !!int 017", "services.api.port: '017' has a leading zero (YAML 1.1 reads it as octal 15); numbers are decimal: write 17 (or quote it, \"017\", for text)"),
    ],
    ids=["octal", "leading_zero_not_octal", "hex", "binary", "underscores", "base_60", "infinity",
         "no", "on", "Yes", "OFF", "tagged_yes", "tagged_octal"],
)
def test_yaml_1_1_readings_are_refused_with_the_fix(workdir: Path, line: str, expected: str) -> None:
    (workdir / "env.yaml").write_text(HEADER + API + line + "\n")
    assert issue_lines(Path("env.yaml")) == [f"env.yaml:10: {expected}"]


def test_a_leading_zero_tag_value_is_refused_and_keys_read_as_text(workdir: Path) -> None:
    """`cost-center: 0042` is the number 34 to YAML 1.1; a key such as `on` is the name "on"."""
    (workdir / "env.yaml").write_text("environment: dev\naws: {region: eu-west-1}\ntags:\n  team: platform\n  cost-center: 0042\n  on: call\n")
    assert issue_lines(Path("env.yaml")) == [
        "env.yaml:5: tags.cost-center: '0042' has a leading zero (YAML 1.1 reads it as octal 34); numbers are decimal: "
        "write 42 (or quote it, \"0042\", for text)"
    ]


def test_quoted_values_are_text(workdir: Path) -> None:
    (workdir / "env.yaml").write_text("environment: dev\naws: {region: eu-west-1}\ntags: {team: platform, cost-center: \"0042\", on-call: \"yes\"}\n")
    assert issue_lines(Path("env.yaml"), stack="prod") == [
        "env.yaml:1: environment: 'dev' does not match the stack 'prod'; stack prod reads configs/prod.yaml, whose environment must be 'prod'"
    ]


# ---- tags --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "tag"),
    [
        ("    command: !!binary aGVsbG8=", "!!binary"),
        ("    command: !!python/object/apply:os.system [echo pwned]", "!!python/object/apply:os.system"),
        ("    command: !!python/name:os.system", "!!python/name:os.system"),
        ("    stop_timeout: !custom 30", "!custom"),
        ("    stop_timeout: !<tag:example.com,2000:app/timeout> 30", "tag:example.com,2000:app/timeout"),
        ("    environment: !!set {A, B}", "!!set"),
        ("    command: !!omap [{a: 1}]", "!!omap"),
        ("    environment: !!map {A: !env HOME}", "!env"),
    ],
    ids=["binary", "python_apply", "python_name", "custom", "verbatim", "set", "omap", "nested_custom"],
)
def test_non_standard_tags_are_refused(workdir: Path, line: str, tag: str) -> None:
    (workdir / "env.yaml").write_text(HEADER + API + line + "\n")
    path = "services.api." + line.split(":")[0].strip()
    if tag == "!env":
        path += ".A"
    assert issue_lines(Path("env.yaml")) == [f"env.yaml:10: {path}: the tag '{tag}' is not allowed: {DATA}"]


# ---- invisible and control characters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            API.replace('"nginx:1.25"', '"nginx:1.25\\u200b"'),
            f"env.yaml:6: services.api.image.uri: contains U+200B (ZERO WIDTH SPACE) at character 11, {HIDDEN}; retype the value without it",
        ),
        (
            API.replace("  api:", '  "ap\\u202ei":'),
            f'env.yaml:5: services["ap\\u202ei"]: contains U+202E (RIGHT-TO-LEFT OVERRIDE) at character 3, {HIDDEN}; retype the key without it',
        ),
        (
            'registry: {repositories: {"api\\u2066": {}}}\n',
            f'env.yaml:4: registry.repositories["api\\u2066"]: contains U+2066 (LEFT-TO-RIGHT ISOLATE) at character 4, {HIDDEN}; retype the key without it',
        ),
        (
            API + '    environment: {MODE: "fast\\x07"}\n',
            f"env.yaml:10: services.api.environment.MODE: contains U+0007 (a control character) at character 5, {HIDDEN}; retype the value without it",
        ),
        (
            API + '    health_check: {path: "/health\\ufeff"}\n',
            f"env.yaml:10: services.api.health_check.path: contains U+FEFF (ZERO WIDTH NO-BREAK SPACE) at character 8, {HIDDEN}; retype the value without it",
        ),
        (
            API + '    expose: {paths: ["/api\\u200d/*"], priority: 10}\n    port: 80\n',
            f"env.yaml:10: services.api.expose.paths[0]: contains U+200D (ZERO WIDTH JOINER) at character 5, {HIDDEN}; retype the value without it",
        ),
    ],
    ids=["zero_width_in_image", "bidi_in_service_key", "isolate_in_repository_key", "bell_in_value", "bom_in_path", "joiner_in_route"],
)
def test_invisible_characters_are_refused(workdir: Path, snippet: str, expected: str) -> None:
    (workdir / "env.yaml").write_text(HEADER + snippet)
    assert issue_lines(Path("env.yaml")) == [expected]


def test_tag_key_with_a_zero_width_space_is_refused(workdir: Path) -> None:
    (workdir / "env.yaml").write_text('environment: dev\naws: {region: eu-west-1}\ntags: {team: platform, "te\\u200bam": x}\n')
    assert issue_lines(Path("env.yaml")) == [
        f'env.yaml:3: tags["te\\u200bam"]: contains U+200B (ZERO WIDTH SPACE) at character 3, {HIDDEN}; retype the key without it'
    ]


# ---- size and excerpts ---------------------------------------------------------------------------


def test_a_file_over_1_mib_is_refused_before_parsing(workdir: Path) -> None:
    text = HEADER + "#" * MAX_FILE_BYTES + "\n"
    (workdir / "env.yaml").write_text(text)
    assert issue_lines(Path("env.yaml")) == [
        f"env.yaml:1: the file has {len(text)} bytes, more than the 1048576 (1 MiB) an environment file may have; "
        "it should be a few kilobytes: is it the right file?"
    ]


def test_a_report_shows_only_an_excerpt_of_a_long_value(workdir: Path) -> None:
    long = "x" * 5000
    without_user = API.replace('    user: "10001"\n', "")
    (workdir / "env.yaml").write_text(HEADER + without_user + f"    user: '{long} '\n    ? {long}\n    : 1\n")
    lines = issue_lines(Path("env.yaml"))
    excerpt = "'" + "x" * 80 + "'... (5000 characters)"
    assert lines == [
        f"env.yaml:9: services.api.user: {excerpt.replace('5000', '5001')} is not valid: use a user or uid, optionally with a group: 10001 or 10001:10001",
        f"env.yaml:10: services.api[\"{'x' * 80}\"...]: unknown key {excerpt}; valid keys here: "
        + ", ".join(sorted((field.alias or name) for name, field in Service.model_fields.items())),  # the model grows
    ]
    assert max(len(line) for line in lines) < 600
