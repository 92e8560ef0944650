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
import threading
import types

NEVER_RUN = ("requests", "pulumi.automation", "pulumi.dynamic")


# Dunder names read before the module is loaded that load it: star-imports read __all__. Any
# other dunder read first is an introspection probe (inspect.getmodule reads every module's
# __file__, pytest's and copy's hooks probe others) and must not load a module nobody uses.
LOADING_DUNDERS = frozenset({"__all__", "__version__"})
_REAL = "_DeferredModule__real"
_loading = threading.RLock()  # the pack reads names from its gRPC server's threads


class DeferredModule(types.ModuleType):
    """Stands in sys.modules for a module until one of its names is first read; from then on
    a live view of the real module, which has taken its place in sys.modules: reads, writes
    (mock.patch through either) and deletions all go to it."""

    def __getattr__(self, name: str):  # called only for names the stand-in itself lacks
        real = self.__dict__.get(_REAL)
        if real is None:
            if name.startswith("__") and name not in LOADING_DUNDERS:
                raise AttributeError(name)
            real = self.load()
        return getattr(real, name)

    def __setattr__(self, name: str, value) -> None:
        real = self.__dict__.get(_REAL)
        setattr(real, name, value) if real is not None else super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        real = self.__dict__.get(_REAL)
        delattr(real, name) if real is not None else super().__delattr__(name)

    def load(self) -> types.ModuleType:
        """Imports the real module in place of this one (once)."""
        with _loading:
            real = self.__dict__.get(_REAL)
            if real is None:
                if sys.modules.get(self.__name__) is self:
                    del sys.modules[self.__name__]
                real = importlib.import_module(self.__name__)
                self.__dict__[_REAL] = real
                # Submodules imported while deferred were bound here: bind them on the real one.
                for name, value in list(self.__dict__.items()):
                    if isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}":
                        setattr(real, name, value)
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
