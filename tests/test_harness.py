"""The offline harness itself: it captures what the program registers, with options."""

import pulumi
import pulumi_aws as aws

from review.offline import run_program
from tests.harness import reference_config


def test_harness_captures_type_name_parent_inputs_and_options():
    config = reference_config("dev")

    def program(_config):
        class Box(pulumi.ComponentResource):
            def __init__(self, name):
                super().__init__("ecsplatform:test:Box", name, None, None)
                self.bucket = aws.s3.Bucket(
                    f"{name}-bucket",
                    tags={"env": "dev"},
                    opts=pulumi.ResourceOptions(parent=self, protect=True, ignore_changes=["tags"]),
                )
                self.register_outputs({})

        box = Box("box")
        return {"bucket": box.bucket.id}

    plan = run_program(config, program=program)

    assert [(r.type, r.name, r.custom) for r in plan.resources] == [
        ("ecsplatform:test:Box", "box", False),
        ("aws:s3/bucket:Bucket", "box-bucket", True),
    ]
    bucket = plan.named("box-bucket")
    assert bucket.parent == plan.named("box").urn
    assert bucket.props["tags"] == {"env": "dev"}
    assert bucket.protect is True
    assert bucket.ignore_changes == ("tags",)
    assert plan.outputs == {"bucket": "box-bucket-id"}


def test_harness_answers_invokes_for_the_configured_account_and_region():
    config = reference_config("prod")

    def program(_config):
        identity = aws.get_caller_identity()
        zones = aws.get_availability_zones(state="available")
        return {"account": identity.account_id, "zones": zones.names}

    plan = run_program(config, program=program)

    assert plan.outputs == {"account": "123456789012", "zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}
