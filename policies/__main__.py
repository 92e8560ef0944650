"""Entry point the Pulumi CLI (or review/policy_verdict.py) runs: builds the pack and serves it.

The pack's modules use relative imports; this file registers its own directory as a package
(whatever the directory is called once the pack is published or installed) and imports the
registry from it. PolicyPack prints the gRPC port and never returns."""

import importlib.util
import sys
from pathlib import Path

PACKAGE = "ecs_platform_policies"


def _load_package() -> None:
    here = Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location(PACKAGE, here / "__init__.py", submodule_search_locations=[str(here)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)


_load_package()
# Before pulumi_policy imports pulumi (deferred_imports.py says why).
importlib.import_module(f"{PACKAGE}.deferred_imports").defer_never_run()

from pulumi_policy import PolicyPack  # noqa: E402

registry = importlib.import_module(f"{PACKAGE}.registry")
# Tests start the pack on a fixed day (policies/clock.py); the Pulumi CLI never passes one.
clock = importlib.import_module(f"{PACKAGE}.clock")
clock.start_at(clock.from_arguments(sys.argv[1:]))
policies = registry.build_policies()
# Deserialize each request's properties once instead of once per policy, and run a resource's
# Analyze only through the policies that check its type (see the module).
fastpath = importlib.import_module(f"{PACKAGE}.sdk_fastpath")
if fastpath.install():
    policies = fastpath.PolicyList(policies, registry.resource_types())

PolicyPack(
    name="ecs-platform",
    description="Security and reliability rules for the ECS platform (ECR, ECS, EC2, VPC, IAM, ALB, logs, tags).",
    policies=policies,
)
