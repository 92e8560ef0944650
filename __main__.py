"""The Pulumi program: load configs/<stack>.yaml, build the environment, export its outputs."""

import pulumi

from configs.errors import ConfigError
from configs.loader import config_path, load_environment
from components.environment import create_environment, stack_outputs
from components.facts import FactsMismatchError


def check_provider_region(stack: str, wanted: str) -> None:
    """ARNs, endpoint names and awslogs options are built for configs/<stack>.yaml's region; the
    AWS provider must deploy to the same one, so Pulumi.<stack>.yaml has to name it."""
    region = pulumi.Config("aws").get("region")
    if region != wanted:
        found = f"sets aws:region {region}" if region else "does not set aws:region"
        raise pulumi.RunError(
            f"Pulumi.{stack}.yaml {found}, but configs/{stack}.yaml deploys to {wanted}; "
            f"run `pulumi config set aws:region {wanted} --stack {stack}`"
        )


stack = pulumi.get_stack()
try:
    config = load_environment(config_path(stack), stack=stack)
    check_provider_region(stack, config.aws.region)
    environment = create_environment(config)
except (ConfigError, FactsMismatchError) as error:
    # RunError ends the program with the message alone: no Python traceback for bad input.
    raise pulumi.RunError(str(error)) from None

for output_name, value in stack_outputs(environment).items():
    pulumi.export(output_name, value)
