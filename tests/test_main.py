"""__main__.py as `pulumi up` runs it: the stack name picks the file; bad input ends the run
with the report alone (pulumi.RunError prints no traceback) before anything is registered."""

import runpy
from pathlib import Path

import pulumi
import pytest

from review.offline import CapturingMonitor, install_mocks

MAIN = Path(__file__).resolve().parents[1] / "__main__.py"


def mocked_stack(stack: str, account: str = "123456789012") -> CapturingMonitor:
    return install_mocks(stack, account, "eu-west-1")


def run_main() -> None:
    pulumi.runtime.test(lambda: runpy.run_path(str(MAIN)) and None)()


def test_prod_stack_registers_the_environment():
    monitor = mocked_stack("prod")
    run_main()
    assert {r.name for r in monitor.captured if r.type == "ecsplatform:index:Environment"} == {"prod"}
    assert len([r for r in monitor.captured if r.custom]) > 100


def test_a_stack_without_an_environment_file_stops_with_the_report_and_registers_nothing():
    monitor = mocked_stack("qa")
    with pytest.raises(pulumi.RunError) as stopped:
        run_main()
    assert str(stopped.value) == (
        "configs/qa.yaml: 1 problem in the environment file; nothing was created.\n"
        "  configs/qa.yaml: cannot read the file: No such file or directory"
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
