"""Modules our libraries import at their top but this project's processes never run, bound
as stand-ins that import the real module the first time one of its names is read.

- `requests`: detect-secrets' plugin modules import it for their verify() methods, which call
  the vendors' APIs; nothing here verifies a secret (policies/secret_values.py).
- `pulumi.automation` and `pulumi.dynamic`: `import pulumi` imports both, the Automation API
  (a driver of the CLI and its workspaces) and dynamic providers (with dill). Neither the
  policy pack nor the offline review's program under mocks uses them.

Each costs its process memory for nothing: about 6 MB (requests, with urllib3, ssl, email and
charset detection), 4 MB and 1.5 MB, in the program's process and again in the pack's
(bench/bench_review.py). Nothing is removed: whoever reads a name gets the real module, which
then takes the stand-in's place in sys.modules (tests/policies/test_deferred_imports.py).

importlib.util.LazyLoader cannot do this on Python 3.11: the `import` statement reads the
module's __spec__, and any attribute read makes a lazy module run.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types

NEVER_RUN = ("requests", "pulumi.automation", "pulumi.dynamic")


class DeferredModule(types.ModuleType):
    """Stands in sys.modules for a module until one of its names is first read."""

    def __getattr__(self, name: str):  # called only for names not bound yet
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.load(), name)

    def load(self) -> types.ModuleType:
        """Imports the real module in place of this one; the modules that bound this stand-in
        see the real module's names through it from then on."""
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)
        return real


def defer(name: str) -> None:
    """Binds a stand-in for `name` unless the module is imported already (or not installed).
    A submodule's package is not imported here: its location comes from the package's spec."""
    if name in sys.modules:
        return
    package, _, _ = name.rpartition(".")
    if package:
        package_spec = importlib.util.find_spec(package) if package not in sys.modules else sys.modules[package].__spec__
        if package_spec is None or package_spec.submodule_search_locations is None:
            return
        spec = importlib.machinery.PathFinder.find_spec(name, list(package_spec.submodule_search_locations))
    else:
        spec = importlib.machinery.PathFinder.find_spec(name)
    if spec is None:
        return
    stand_in = DeferredModule(name)
    stand_in.__spec__ = spec
    if spec.submodule_search_locations is not None:  # a package: its submodules stay importable
        stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules[name] = stand_in


def defer_never_run() -> None:
    for name in NEVER_RUN:
        defer(name)
