"""review/lazy_aws.py: pulumi-aws's service packages load one module at a time in offline runs,
and every name resolves to the very object the package's own __init__ would give.

Run in a fresh interpreter: the replacement is process-wide, and this test process may already
have loaded the packages in full."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from review.lazy_aws import module_candidates

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, sys
import review.offline  # installs the lazy packages
import pulumi_aws as aws
from review.lazy_aws import ServicePackage
from importlib import import_module
vpc_module, ec2_inputs = import_module("pulumi_aws.ec2.vpc"), import_module("pulumi_aws.ec2._inputs")
get_ami_module, get_parameter_module = import_module("pulumi_aws.ec2.get_ami"), import_module("pulumi_aws.ssm.get_parameter")
result = {
    "lazy": type(aws.ec2) is ServicePackage,
    "vpc": aws.ec2.Vpc is vpc_module.Vpc and aws.ec2.VpcArgs is vpc_module.VpcArgs,
    "args_type": aws.ec2.SecurityGroupIngressArgs is ec2_inputs.SecurityGroupIngressArgs,
    "function_over_module": aws.ssm.get_parameter is get_parameter_module.get_parameter,
    "output_function": aws.ec2.get_ami_output is get_ami_module.get_ami_output and aws.ec2.get_ami is get_ami_module.get_ami,
    "result_type": aws.ec2.GetAmiResult is get_ami_module.GetAmiResult,
    "outputs_module": aws.ec2.outputs.__name__,
    "ec2_modules_loaded": sum(1 for name in sys.modules if name.startswith("pulumi_aws.ec2.")),
    "whole_before": bool(aws.ec2.__dict__.get("_whole")),
}
try:
    aws.ec2.NoSuchThing
except AttributeError as error:
    result["missing"] = str(error)
result["whole_after"] = bool(aws.ec2.__dict__.get("_whole"))
result["same_vpc_after_whole"] = aws.ec2.Vpc is vpc_module.Vpc
result["config_region"] = aws.config.region
print(json.dumps(result))
"""


def test_names_resolve_to_the_sdks_own_objects_loading_only_their_modules():
    output = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    result = json.loads(output)
    ec2_modules = result.pop("ec2_modules_loaded")
    assert result == {
        "lazy": True,
        "vpc": True,
        "args_type": True,
        "function_over_module": True,
        "output_function": True,
        "result_type": True,
        "outputs_module": "pulumi_aws.ec2.outputs",
        "whole_before": False,
        "missing": "module 'pulumi_aws.ec2' has no attribute 'NoSuchThing'",
        "whole_after": True,
        "same_vpc_after_whole": True,
        "config_region": None,
    }
    assert ec2_modules < 10  # vpc, _enums, _inputs, outputs, get_ami; the whole package has ~180


def test_module_candidates_follow_the_generators_naming():
    assert module_candidates("VpcEndpointRouteTableAssociation") == ["vpc_endpoint_route_table_association"]
    assert module_candidates("OpenIdConnectProviderArgs") == ["open_id_connect_provider"]
    assert module_candidates("AwaitableGetAmiResult") == ["get_ami"]
    assert module_candidates("get_parameter_output") == ["get_parameter", "get_parameter_output"]
