"""pulumi-aws's service packages loaded one module at a time, for the offline runs.

`import pulumi_aws` defers each service package (`aws.ec2`, `aws.ecs`, ...) until first use,
but then runs the package's `__init__`, which imports every resource module of the service:
`aws.ec2.Vpc` alone loads about 180 EC2 modules and their typed classes (0.55 s and 27 MB at
40 services, of which the platform uses 13 classes). Here each not-yet-loaded service package
is replaced by one that imports only the module defining the name asked for: `Vpc` from
`ec2/vpc.py`, `SecurityGroupIngressArgs` from `ec2/_inputs.py`, as the package's own
`from .vpc import *` lines would have bound them. The classes are the SDK's own, unchanged; a
name the convention does not find loads the whole package as before, so nothing a caller can
reach differs, only when it is loaded. bench/bench_review.py measures the gain.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import types
from typing import Any

import pulumi_aws
from pulumi import _utils as pulumi_utils

# Every service package star-imports these besides its resource modules; its `outputs` module
# it imports as a module only (`from . import outputs`): output classes are not package names.
STAR_IMPORTED_SHARED = ("_enums", "_inputs")
NOT_STAR_IMPORTED = ("outputs",)
_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


def module_candidates(name: str) -> list[str]:
    """The module names that define `name` by the SDK's generator's convention: resource
    `VpcEndpoint` and `VpcEndpointArgs` in vpc_endpoint.py; a data source's `get_ami`,
    `get_ami_output`, `GetAmiResult`, `AwaitableGetAmiResult` in get_ami.py."""
    if name[:1].isupper():
        base = name.removeprefix("Awaitable")
        for suffix in ("ArgsDict", "Args", "Result"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
                break
        return [_WORD_START.sub("_", base).lower()]
    return [name.removesuffix("_output"), name]


class ServicePackage(types.ModuleType):
    """A pulumi-aws service package whose names are imported on first use, module by module."""

    def __getattr__(self, name: str) -> Any:  # only called for names not bound yet
        if name.startswith("__") and name != "__all__":
            raise AttributeError(name)
        files = self.__dict__["_module_files"]
        for candidate in module_candidates(name):
            if candidate in files and candidate not in NOT_STAR_IMPORTED and name in self._star_import(candidate):
                return self.__dict__[name]
        if name in files:  # a submodule itself, e.g. aws.ec2.outputs (perhaps still importing)
            return importlib.import_module(f"{self.__name__}.{name}")
        for shared in STAR_IMPORTED_SHARED:
            if shared in files and name in self._star_import(shared):
                return self.__dict__[name]
        return self._load_whole_package(name)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}" and name not in NOT_STAR_IMPORTED:
            # The import system binds a submodule it has just loaded, however it was imported
            # (`import pulumi_aws.ssm.get_parameter` too): bind its names as the package's
            # `from .get_parameter import *` does, the function over the module of its name.
            for public in getattr(value, "__all__", ()):
                super().__setattr__(public, value.__dict__[public])

    def _star_import(self, module_name: str) -> tuple[str, ...]:
        """`from .<module_name> import *`, as the package's __init__ does: binds the module's
        public names here (over the submodule the import system binds, as for `get_ami`)."""
        module = importlib.import_module(f"{self.__name__}.{module_name}")
        names = tuple(getattr(module, "__all__", ()))
        for public in names:
            setattr(self, public, module.__dict__[public])
        return names

    def _load_whole_package(self, name: str) -> Any:
        """What the package's __init__ gives: run it once (the modules already imported are
        reused, so every class stays the same object), then look the name up as usual (the
        config package's __init__ even changes the module's class)."""
        if self.__dict__.get("_whole"):
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        self.__dict__["_whole"] = True
        self.__spec__.loader.exec_module(self)
        return getattr(self, name)


def _service_package(name: str) -> ServicePackage:
    spec = importlib.util.find_spec(name)
    folder = list(spec.submodule_search_locations)[0]
    spec = importlib.util.spec_from_file_location(name, spec.origin, submodule_search_locations=[folder])
    package = ServicePackage(name)
    package.__spec__, package.__loader__, package.__file__ = spec, spec.loader, spec.origin
    package.__path__, package.__package__ = [folder], name
    package.__dict__["_module_files"] = frozenset(
        entry.removesuffix(".py") for entry in os.listdir(folder) if entry.endswith(".py") and entry != "__init__.py"
    )
    return package


def install() -> None:
    """Replaces every service package pulumi-aws has not loaded yet (idempotent). One already
    loaded stays as it is, so no class ever exists twice."""
    prefix = f"{pulumi_aws.__name__}."
    for name, module in list(sys.modules.items()):
        if name.startswith(prefix) and name.count(".") == 1 and type(module) is pulumi_utils._LazyModule:
            package = _service_package(name)
            sys.modules[name] = package
            setattr(pulumi_aws, name[len(prefix):], package)
