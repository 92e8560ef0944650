"""`plan --details` and the plan's JSON: every resource's inputs, secrets masked, documents parsed."""

from __future__ import annotations

import json

from review.details import SECRET, masked_inputs
from review.offline import CapturedResource, Plan
from review.plan import render_tree
from review.render import plan_json_data, render_plan
from review.workflow import plan_report
from tests.harness import edited, plan_of, reference_config, reference_plan

ORDERS = "arn:aws:sqs:eu-west-1:111111111111:orders"


def resource(**props) -> CapturedResource:
    return CapturedResource(type="aws:ecs/taskDefinition:TaskDefinition", name="td", urn="urn:pulumi:dev::p::td", parent="",
                            custom=True, props=props, secret_paths=("token", "nested.password"))


def test_secret_values_and_secret_looking_variables_are_masked():
    containers = [{"name": "app", "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "MODE", "value": "fast"}]}]
    found = masked_inputs(resource(token="t0ps3cret", nested={"password": "p", "user": "u"}, containerDefinitions=json.dumps(containers)),
                          parse_documents=True)
    assert found == {
        "token": SECRET,
        "nested": {"password": SECRET, "user": "u"},
        "containerDefinitions": [{"name": "app", "environment": [{"name": "DB_PASSWORD", "value": "****"}, {"name": "MODE", "value": "fast"}]}],
    }
    tree = render_tree(Plan("dev", [resource(token="t0ps3cret", nested={"password": "p"}, containerDefinitions=json.dumps(containers))]), details=True)
    assert "t0ps3cret" not in tree and "hunter2" not in tree and '"value": "****"' in tree


def test_details_show_the_task_roles_expanded_statements():
    config = edited("dev", lambda data: data["services"]["worker"].update(access={"write": [ORDERS]}))
    report = plan_report(config, policy=False, plan=plan_of(config))
    text = render_plan(report, "text", details=True)
    policy = text.split("aws:iam/rolePolicy:RolePolicy  dev-worker-task-policy", 1)[1].split("+ aws:", 1)[0]
    for action in ("sqs:DeleteQueue", "sqs:PurgeQueue", "sqs:SendMessage"):
        assert f'"{action}"' in policy
    assert "dev-worker-task-policy" in render_plan(report, "markdown", details=True)
    assert "sqs:DeleteQueue" not in render_plan(report, "text")  # without --details, the tree alone


def test_plan_json_always_has_each_resources_inputs():
    report = plan_report(reference_config("dev"), policy=False, plan=reference_plan("dev"))
    data = plan_json_data(report)
    custom = [r for r in data["resources"] if not r["type"].startswith("ecsplatform:")]  # aws and command resources
    assert len(custom) == sum(1 for r in reference_plan("dev").resources if r.custom)
    role_policy = next(r for r in custom if r["name"] == "dev-api-execution-policy")
    statements = {s["Sid"]: s for s in role_policy["inputs"]["policy"]["Statement"]}
    assert statements["PullOwnImage"]["Action"] == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    task = next(r for r in custom if r["name"] == "dev-api-task-definition")
    assert task["inputs"]["containerDefinitions"][0]["image"] == "111111111111.dkr.ecr.eu-west-1.amazonaws.com/dev/api:v1.4.2"
