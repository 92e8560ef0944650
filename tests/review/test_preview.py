"""`review render-preview`: the real engine's preview in the offline review's format.

The fixture (tests/fixtures/preview/) is written from pulumi's documented output formats, not
from our own output:
- dev-preview.json is a `pulumi preview --json` document: the PreviewDigest of
  sdk/go/common/display/types.go in github.com/pulumi/pulumi (steps with op, urn, oldState /
  newState as apitype.ResourceV3 with `inputs`, diffReasons, replaceReasons, detailedDiff
  {path: {kind, inputDiff}}; diagnostics; changeSummary). A replacement is the engine's
  create-replacement, replace and delete-replaced steps for one URN.
- pkg/display/json.go (ShowPreviewDigest) skips engine.PolicyViolationEvent ("we don't handle
  policy events in JSON serialization"), so the violations come from the `--event-log` JSON
  lines instead: dev-events.jsonl holds apitype.EngineEvent objects, a violation being a
  `policyEvent` (resourceUrn, message, policyName, policyPackName, policyPackVersion,
  enforcementLevel), as sdk/go/common/apitype/events.go defines them.
"""

from __future__ import annotations

import json
from pathlib import Path

from review.__main__ import main
from review.preview import preview_report
from review.render import render_preview
from tests.review.test_golden import check_golden

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "preview"
DIGEST = json.loads((FIXTURES / "dev-preview.json").read_text())
EVENTS = (FIXTURES / "dev-events.jsonl").read_text().splitlines()


def test_steps_become_the_offline_reviews_changes_one_per_resource():
    report = preview_report(DIGEST, EVENTS)
    assert [(c.action, c.name, c.component) for c in report.diff.changes] == [
        ("add", "dev-alb-sg-in-443-0-0-0-0-0", "load balancer"),
        ("replace", "dev-network-private-eu-west-1a", "network"),
        ("replace", "dev-worker-task-definition", "service worker"),
        ("update", "dev-worker-task-policy", "service worker"),
    ]
    subnet = report.diff.changes[1]
    assert [(p.path, p.before, p.after, p.effect) for p in subnet.changes] == [("cidrBlock", "10.10.0.0/20", "10.10.0.0/21", "replace")]


def test_the_same_meaning_as_offline_iam_gained_image_tag_and_flows_with_group_names_from_the_states():
    changes = {c.name: c for c in preview_report(DIGEST, EVENTS).diff.changes}
    assert [a.text for a in changes["dev-worker-task-policy"].attention] == [
        "policy gains Write: sqs:DeleteQueue, sqs:PurgeQueue, sqs:SendMessage on arn:aws:sqs:eu-west-1:111111111111:orders"]
    assert changes["dev-worker-task-definition"].meaning.lines == (
        "container worker: image 111111111111.dkr.ecr.eu-west-1.amazonaws.com/dev/worker: tag v2.0.0 -> v2.1.0",)
    assert changes["dev-alb-sg-in-443-0-0-0-0-0"].meaning.lines == ("allows ingress 0.0.0.0/0 -> dev-alb-sg:443/tcp",)


def test_policy_violations_come_from_the_event_log_and_only_from_it():
    report = preview_report(DIGEST, EVENTS)
    assert [(f.policy, f.level, f.resource) for f in report.policy.findings] == [
        ("aws-alb-ingress-restricted", "mandatory", "dev-alb-sg-in-443-0-0-0-0-0"),
        ("aws-ecs-image-digest", "advisory", "dev-worker-task-definition"),
    ]
    without = preview_report(DIGEST, None)
    assert without.policy is None
    assert "policy not read (pass the preview's --event-log" in render_preview(without, "text").splitlines()[1]


def test_render_preview_golden_and_exit_status(capsys):
    report = preview_report(DIGEST, EVENTS)
    check_golden("preview-dev.md", render_preview(report, "markdown"))
    assert main(["render-preview", str(FIXTURES / "dev-preview.json"), "--event-log", str(FIXTURES / "dev-events.jsonl")]) == 4
    assert main(["render-preview", str(FIXTURES / "dev-preview.json")]) == 0
    assert main(["render-preview", str(FIXTURES / "missing.json")]) == 3
    assert "cannot read the preview" in capsys.readouterr().err
