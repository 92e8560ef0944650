"""Property tests: whatever YAML arrives, the loader returns a model or raises ConfigError,
and every issue it reports can be found (a file it read, a line >= 1, a YAML path unless the
problem is the whole file).

Derandomized so CI sees the same examples every run; sizes keep the suite near 15 s.
"""

from __future__ import annotations

import copy
import datetime
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from configs.errors import ConfigError
from configs.loader import CONFIG_DIR, load_environment
from configs.model import EnvironmentConfig
from tests.configs.cases import REFERENCE_FILES, TODAY

FUZZ = settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Problems about the file as a whole carry no YAML path.
FILE_LEVEL = ("not valid YAML", "the file must be a mapping", "nested far deeper", "expands to more than", "byte 0x")


def schema_keys(model: type[BaseModel] = EnvironmentConfig, seen: set | None = None) -> set[str]:
    """Every key the environment file knows, at any depth: fuzzed mappings use them so that
    values reach the validators instead of stopping at 'unknown key'."""
    seen = set() if seen is None else seen
    if model in seen:
        return set()
    seen.add(model)
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(field.alias or name)
        for nested in _models_in(field.annotation):
            keys |= schema_keys(nested, seen)
    return keys


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


KEYS = sorted(schema_keys() | {"api", "worker", "general", "fargate", "fargate_spot"})

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["latest", "auto", "none", "per_az", "10.0.0.0/16", "eu-west-1", "fargate", "x86_64", "arm64"]),
    st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2100, 1, 1)),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12), st.integers(-5, 5), st.booleans())
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=6),
    ),
    max_leaves=40,
)
headed_documents = st.fixed_dictionaries(
    {"environment": st.sampled_from(["dev", "prod", 7]), "aws": st.one_of(documents, st.just({"region": "eu-west-1"}))},
    optional={key: documents for key in ("network", "cluster", "services", "registry", "load_balancer", "policy", "tags")},
)


def assert_reports_only_config_errors(path: Path, files: set[str]) -> None:
    try:
        load_environment(path, today=TODAY)
    except ConfigError as error:
        assert error.issues, "a ConfigError without issues"
        for issue in error.issues:
            assert Path(issue.file).name in files, issue
            assert issue.line >= 1, issue
            assert issue.path or issue.message.startswith(FILE_LEVEL), issue


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("fuzz")
    for name in REFERENCE_FILES:
        (directory / name).write_text((CONFIG_DIR / name).read_text())
    return directory


# ---- (a) arbitrary structures --------------------------------------------------------------------


@FUZZ
@given(data=documents)
def test_arbitrary_yaml_raises_only_config_error(fuzz_dir: Path, data: Any) -> None:
    path = fuzz_dir / "arbitrary.yaml"
    path.write_text(dump(data))
    assert_reports_only_config_errors(path, {"arbitrary.yaml"})


@FUZZ
@given(data=headed_documents)
def test_schema_shaped_yaml_raises_only_config_error(fuzz_dir: Path, data: Any) -> None:
    path = fuzz_dir / "shaped.yaml"
    path.write_text(dump(data))
    assert_reports_only_config_errors(path, {"shaped.yaml"})


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#\n\t ,?%@`0.")), max_size=80))
def test_arbitrary_text_raises_only_config_error(fuzz_dir: Path, text: str) -> None:
    path = fuzz_dir / "text.yaml"
    path.write_text(text)
    assert_reports_only_config_errors(path, {"text.yaml"})


# ---- (b) mutations of the reference environments -------------------------------------------------


def paths_of(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a document, the root excluded."""
    found = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        found.append(prefix + (key,))
        found.extend(paths_of(value, prefix + (key,)))
    return found


def parent_and_key(data: Any, path: tuple) -> tuple[Any, Any]:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node, path[-1]


def drop(data: Any, path: tuple, _value: Any) -> None:
    parent, key = parent_and_key(data, path)
    del parent[key]


def replace(data: Any, path: tuple, value: Any) -> None:
    parent, key = parent_and_key(data, path)
    parent[key] = value


MUTATIONS = {"drop": drop, "replace": replace}
REFERENCE_DATA = {name: yaml.safe_load((CONFIG_DIR / name).read_text()) for name in REFERENCE_FILES}
small_documents = st.recursive(scalars, lambda children: st.one_of(st.lists(children, max_size=2), st.dictionaries(keys, children, max_size=2)), max_leaves=4)


@st.composite
def mutated_reference(draw: st.DrawFn) -> tuple[str, str, dict]:
    """(file name, environment to load, mutated document) for one of the reference files."""
    name = draw(st.sampled_from(REFERENCE_FILES))
    data = copy.deepcopy(REFERENCE_DATA[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = paths_of(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        mutation = draw(st.sampled_from(sorted(MUTATIONS)))
        value = draw(st.one_of(scalars, small_documents, st.sampled_from(paths).map(lambda p: copy.deepcopy(_value_at(data, p)))))
        MUTATIONS[mutation](data, path, value)
    target = "dev.yaml" if name == "base.yaml" else name
    return name, target, data


def _value_at(data: Any, path: tuple) -> Any:
    parent, key = parent_and_key(data, path)
    return parent[key]  # swapping in another value of the same file: types that exist, wrong places


@FUZZ
@given(case=mutated_reference())
def test_mutated_reference_files_raise_only_config_error(fuzz_dir: Path, case: tuple[str, str, dict]) -> None:
    name, target, data = case
    (fuzz_dir / name).write_text(dump(data))
    try:
        assert_reports_only_config_errors(fuzz_dir / target, set(REFERENCE_FILES))
    finally:
        (fuzz_dir / name).write_text((CONFIG_DIR / name).read_text())


@st.composite
def text_mutation(draw: st.DrawFn) -> tuple[str, str]:
    """A reference file with lines duplicated (duplicate keys), deleted or re-indented."""
    name = draw(st.sampled_from(("dev.yaml", "staging.yaml", "prod.yaml")))
    lines = (CONFIG_DIR / name).read_text().splitlines()
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["duplicate", "delete", "indent", "dedent"]))
        if action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "delete" and len(lines) > 1:
            del lines[index]
        elif action == "indent":
            lines[index] = "  " + lines[index]
        else:
            lines[index] = lines[index].lstrip()
    return name, "\n".join(lines) + "\n"


@FUZZ
@given(case=text_mutation())
def test_text_mutations_of_reference_files_raise_only_config_error(fuzz_dir: Path, case: tuple[str, str]) -> None:
    name, text = case
    (fuzz_dir / name).write_text(text)
    try:
        assert_reports_only_config_errors(fuzz_dir / name, {"base.yaml", name})
    finally:
        (fuzz_dir / name).write_text((CONFIG_DIR / name).read_text())


def test_duplicating_a_top_level_line_is_always_reported(fuzz_dir: Path) -> None:
    """A concrete instance of the text mutation, so the property above is known to bite."""
    text = (CONFIG_DIR / "dev.yaml").read_text().replace("deploys: pulumi\n", "deploys: pulumi\ndeploys: ci\n")
    (fuzz_dir / "duplicate.yaml").write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_environment(fuzz_dir / "duplicate.yaml", today=TODAY)
    line = text.splitlines().index("deploys: ci") + 1
    assert [(issue.line, issue.path, issue.message) for issue in raised.value.issues] == [
        (line, "deploys", f"duplicate key 'deploys' (first set on line {line - 1}); keep one")
    ]
