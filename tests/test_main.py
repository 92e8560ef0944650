"""__main__.py as `pulumi up` runs it: the stack name picks the file; bad input ends the run
with the report alone (pulumi.RunError prints no traceback) before anything is registered."""

import runpy
from pathlib import Path

import pulumi
import pytest

from pipeline.environments import stack_names
from review.offline import DEFAULT_ACCOUNT, CapturingMonitor, install_mocks
from components.facts import ZoneLayoutError, check_zone_layout
from tests.harness import edited, reference_config, reference_plan

MAIN = Path(__file__).resolve().parents[1] / "__main__.py"


def mocked_stack(stack: str, account: str = "123456789012", region: str | None = "eu-west-1") -> CapturingMonitor:
    """Mocks for the stack, with Pulumi.<stack>.yaml's aws:region as `pulumi up` would read it."""
    monitor = install_mocks(stack, account, region or "eu-west-1")
    pulumi.runtime.config.set_all_config({"aws:region": region} if region else {})
    return monitor


def run_main() -> None:
    pulumi.runtime.test(lambda: runpy.run_path(str(MAIN)) and None)()


@pytest.mark.parametrize("environment", stack_names())  # every stack of the repository, a user's qa too
def test_each_stack_registers_what_the_offline_plan_shows(environment):
    config = reference_config(environment)
    monitor = mocked_stack(environment, account=config.aws.account_id or DEFAULT_ACCOUNT, region=config.aws.region)
    run_main()
    registered = sorted((r.type, r.name) for r in monitor.captured)
    assert registered == sorted((r.type, r.name) for r in reference_plan(environment).resources)
    assert len(registered) > 50


@pytest.mark.parametrize(
    ("region", "found"),
    [(None, "does not set aws:region"), ("us-east-1", "sets aws:region us-east-1")],
)
def test_a_provider_region_other_than_the_files_stops_the_run(region, found):
    monitor = mocked_stack("dev", region=region)
    with pytest.raises(pulumi.RunError) as stopped:
        run_main()
    assert str(stopped.value) == (
        f"Pulumi.dev.yaml {found}, but configs/dev.yaml deploys to eu-west-1; "
        "run `pulumi config set aws:region eu-west-1 --stack dev`"
    )
    assert monitor.captured == []


def test_a_stack_without_an_environment_file_stops_with_the_report_and_registers_nothing():
    # A stack name no environment file uses, whatever environments a user adds (qa, ...).
    missing = next(name for name in (f"no-file-{n}" for n in range(100)) if not (MAIN.parent / "configs" / f"{name}.yaml").exists())
    monitor = mocked_stack(missing)
    with pytest.raises(pulumi.RunError) as stopped:
        run_main()
    assert str(stopped.value) == (
        f"configs/{missing}.yaml: 1 problem in the environment file; nothing was created.\n"
        f"  configs/{missing}.yaml: cannot read the file: No such file or directory"
    )
    assert monitor.captured == []


def test_credentials_of_another_account_stop_the_run_before_anything_is_registered():
    monitor = mocked_stack("dev", account="999999999999")
    with pytest.raises(pulumi.RunError) as stopped:
        run_main()
    assert str(stopped.value) == (
        "configs/dev.yaml: aws.account_id is 111111111111, but the credentials belong to 999999999999; "
        "switch credentials (AWS_PROFILE) or fix the file"
    )
    assert monitor.captured == []


def test_zones_the_account_offers_are_checked_against_the_subnet_layout_before_registering():
    # Validation assumed zones a-b; an account whose first zones are a and f needs slot 6.
    config = edited("dev", lambda data: data["network"].update(cidr="10.10.0.0/18", subnet_prefix={"public": 24, "private": 20}))
    with pytest.raises(ZoneLayoutError) as mismatch:
        check_zone_layout(config, ("eu-west-1a", "eu-west-1f"))
    assert str(mismatch.value) == (
        "configs/dev.yaml: network.subnet_prefix: with the zones this account offers (eu-west-1a, eu-west-1f), "
        "10.10.0.0/18 holds 4 /20 private subnets, but zone letter 'f' needs slot 6; "
        "use a longer prefix or a larger CIDR"
    )
    check_zone_layout(config, ("eu-west-1a", "eu-west-1b"))  # the layout validation assumed fits
