"""The Pulumi program: load configs/<stack>.yaml, build the environment, export its outputs."""

import pulumi

from configs.errors import ConfigError
from configs.loader import config_path, load_environment
from components.environment import create_environment, stack_outputs
from components.facts import WrongAccountError

stack = pulumi.get_stack()
try:
    config = load_environment(config_path(stack), stack=stack)
    region = pulumi.Config("aws").get("region")
    if region is not None and region != config.aws.region:
        raise pulumi.RunError(
            f"Pulumi.{stack}.yaml sets aws:region {region}, configs/{stack}.yaml sets {config.aws.region}; make them equal"
        )
    environment = create_environment(config)
except (ConfigError, WrongAccountError) as error:
    # RunError ends the program with the message alone: no Python traceback for bad input.
    raise pulumi.RunError(str(error)) from None

for output_name, value in stack_outputs(environment).items():
    pulumi.export(output_name, value)
