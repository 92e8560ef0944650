"""Modules our libraries import but our processes never run are bound as stand-ins
(policies/deferred_imports.py): nothing is lost (a name read gets the real module), and the
review's own process never loads them (bench/bench_review.py measures what that saves)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
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
    (package / "__init__.py").write_text("import builtins\nbuiltins.deferred_probe_runs = getattr(builtins, 'deferred_probe_runs', 0) + 1\nVALUE = 42\n__all__ = ['VALUE']\n")
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
    import deferred_probe as again

    assert again is real and runs() == 1


def test_the_loaded_stand_in_is_a_live_view_of_the_real_module(probe):
    """Modules that bound the stand-in early (detect-secrets' plugins) see what is written to
    the real module, and writes through the stand-in (mock.patch) reach the real one."""
    defer(probe)
    import deferred_probe as stand_in

    assert stand_in.VALUE == 42
    real = sys.modules[probe]
    real.VALUE = 1
    assert stand_in.VALUE == 1
    stand_in.VALUE = 2
    assert real.VALUE == 2
    stand_in.ADDED = "x"
    assert real.ADDED == "x"
    del stand_in.ADDED
    assert not hasattr(real, "ADDED")


def test_concurrent_first_reads_run_the_module_once(probe):
    defer(probe)
    stand_in = sys.modules[probe]
    start = threading.Barrier(8)
    values, errors = [], []

    def read() -> None:
        start.wait()
        try:
            values.append(stand_in.VALUE)
        except Exception as error:  # noqa: BLE001 (the test reports any)
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (values, errors, runs()) == ([42] * 8, [], 1)


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


def test_introspection_probes_do_not_load_but_a_star_import_does(probe):
    defer(probe)
    stand_in = sys.modules[probe]
    assert not hasattr(stand_in, "__file__")  # inspect.getmodule reads it from every module
    assert stand_in.__spec__.name == probe
    assert runs() == 0
    namespace: dict = {}
    exec(f"from {probe} import *", namespace)
    assert namespace["VALUE"] == 42 and runs() == 1
    assert stand_in.__file__.endswith("__init__.py")  # loaded: every name comes from the module


def test_each_credential_detector_is_the_class_detect_secrets_maps_its_type_to():
    mapping = get_mapping_from_secret_type_to_class()
    assert [detector_class(kind) for kind in CREDENTIAL_TYPES] == [mapping[kind] for kind in CREDENTIAL_TYPES]


STATE_REPORT = """
import os, runpy, sys, threading, time
sys.argv = [argument for argument in sys.argv[1:] if argument != "-u"]  # -u PACK_MAIN ARGS

def report():
    from importlib import import_module
    while True:
        deferred = import_module("ecs_platform_policies.deferred_imports") if "ecs_platform_policies.deferred_imports" in sys.modules else None
        if deferred is not None:
            state = [name for name in deferred.NEVER_RUN if not isinstance(sys.modules.get(name), deferred.DeferredModule)]
            with open(os.environ["PACK_STATE"], "w") as out:
                out.write(repr(state))
        time.sleep(0.1)

threading.Thread(target=report, daemon=True).start()
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_a_plan_with_its_verdict_never_loads_the_deferred_modules(tmp_path, monkeypatch):
    """The review's process, from `import review` to the verdict of a reference environment."""
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


def test_the_pack_judges_a_stack_without_loading_the_deferred_modules(tmp_path, monkeypatch):
    """The pack's process (policies/__main__.py), started through a wrapper interpreter that
    reports which of them are loaded while it serves Configure, Analyze and AnalyzeStack."""
    from policies.config_gen import pack_config
    from review.offline import run_program
    from review.policy_verdict import PolicyPackClient
    from tests.harness import reference_config

    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(STATE_REPORT)
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{wrapper}" "$@"\n')
    python.chmod(0o755)
    state = tmp_path / "state"
    monkeypatch.setenv("PACK_STATE", str(state))
    config = reference_config("prod")
    with PolicyPackClient(python=str(python), stack="prod") as client:
        client.configure(pack_config(config))
        verdict = client.analyze(run_program(config).resources)
        time.sleep(0.3)  # one more report after the answers
        loaded = state.read_text()
    assert verdict.mandatory == ()
    assert loaded == "[]"
