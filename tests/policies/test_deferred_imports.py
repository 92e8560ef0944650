"""Modules our libraries import but our processes never run are bound as stand-ins
(policies/deferred_imports.py): nothing is lost (a name read gets the real module), and the
review's own process never loads them (bench/bench_review.py measures what that saves)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

from policies.deferred_imports import NEVER_RUN, DeferredModule, defer
from policies.secret_values import CREDENTIAL_TYPES, detector_class

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A package `deferred_probe` that counts its executions, with a submodule."""
    package = tmp_path / "deferred_probe"
    package.mkdir()
    (package / "__init__.py").write_text("import builtins\nbuiltins.deferred_probe_runs = getattr(builtins, 'deferred_probe_runs', 0) + 1\nVALUE = 42\n")
    (package / "sub.py").write_text("NAME = 'sub'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "deferred_probe"
    for name in ("deferred_probe", "deferred_probe.sub"):
        sys.modules.pop(name, None)
    import builtins

    builtins.__dict__.pop("deferred_probe_runs", None)


def runs() -> int:
    import builtins

    return getattr(builtins, "deferred_probe_runs", 0)


def test_import_binds_the_stand_in_without_running_the_module(probe):
    defer(probe)
    import deferred_probe

    assert isinstance(deferred_probe, DeferredModule)
    assert runs() == 0


def test_the_first_name_read_runs_the_module_once_and_the_real_module_takes_its_place(probe):
    defer(probe)
    import deferred_probe as stand_in

    assert stand_in.VALUE == 42
    assert runs() == 1
    real = sys.modules[probe]
    assert not isinstance(real, DeferredModule)
    assert real.VALUE == 42 and stand_in.VALUE == 42
    import deferred_probe as again

    assert again is real and runs() == 1


def test_a_submodule_imports_while_its_package_is_deferred(probe):
    defer(probe)
    import deferred_probe.sub

    assert sys.modules[f"{probe}.sub"].NAME == "sub"
    assert runs() == 0
    from deferred_probe import VALUE  # a name read: the package runs

    assert VALUE == 42 and runs() == 1


def test_a_submodule_is_deferred_without_importing_its_package(probe):
    defer(f"{probe}.sub")
    assert probe not in sys.modules
    assert isinstance(sys.modules[f"{probe}.sub"], DeferredModule)


def test_an_imported_or_missing_module_is_left_alone(probe):
    import deferred_probe

    defer(probe)
    assert sys.modules[probe] is deferred_probe
    defer("no_such_module_anywhere")
    assert "no_such_module_anywhere" not in sys.modules


def test_dunder_lookups_do_not_load(probe):
    defer(probe)
    stand_in = sys.modules[probe]
    assert not hasattr(stand_in, "__file__")
    assert stand_in.__spec__.name == probe
    assert runs() == 0


def test_each_credential_detector_is_the_class_detect_secrets_maps_its_type_to():
    mapping = get_mapping_from_secret_type_to_class()
    assert [detector_class(kind) for kind in CREDENTIAL_TYPES] == [mapping[kind] for kind in CREDENTIAL_TYPES]


def test_a_plan_with_its_verdict_never_loads_the_deferred_modules():
    """The review's process, from `import review` to the verdict of a reference environment
    (the pack's process defers the same modules in policies/__main__.py)."""
    script = textwrap.dedent(
        """
        import sys
        import review
        from review.__main__ import main
        status = main(["plan", "dev", "--quiet", "--format", "json"])
        from policies.deferred_imports import NEVER_RUN, DeferredModule
        loaded = [name for name in NEVER_RUN if not isinstance(sys.modules.get(name), DeferredModule)]
        print("LOADED", loaded, "STATUS", status, file=sys.stderr)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.stderr.strip().splitlines()[-1] == "LOADED [] STATUS 0"
    assert NEVER_RUN == ("requests", "pulumi.automation", "pulumi.dynamic")
