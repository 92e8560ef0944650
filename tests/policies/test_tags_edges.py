"""Edges of the required-tags rule: tags unknown at preview, an Auto Scaling group's list form
(the provider's default tags do not reach it), and tags that are no map at all."""

from __future__ import annotations

import dataclasses
import json

from .verdicts import problems
from .stack import UNKNOWN, edited, set_

TAGS = "aws-tags-required"
DEFAULT_TAGS = {"defaultTags": json.dumps({"tags": {"env": "prod", "team": "platform"}})}


def with_default_tags(resources, name):
    return [dataclasses.replace(r, provider_props=DEFAULT_TAGS) if r.name == name else r for r in resources]


def test_tags_unknown_at_preview_skip_the_rule_with_an_advisory(pack):
    verdict = pack.verdict(edited(set_("prod-vpc", "tags", UNKNOWN)))
    assert [(v.policy, v.level, v.resource, v.message) for v in verdict.violations] == [(
        TAGS, "advisory", "prod-vpc",
        "can't run policy 'aws-tags-required' from policy pack 'ecs-platform@v0.0.1' during preview: "
        "prod-vpc (aws:ec2/vpc:Vpc): .tags is unknown until apply; the rule runs again on `pulumi up`")]


def test_an_auto_scaling_groups_list_counts_its_own_entries_only(pack):
    tags = [{"key": "env", "value": "prod", "propagateAtLaunch": True}, "team", None]
    resources = with_default_tags(edited(set_("prod-general-asg", "tags", tags)), "prod-general-asg")
    assert problems(pack.verdict(resources)) == [(TAGS, "prod-general-asg", "lacks the tags team")]


def test_tags_that_are_no_map_leave_the_default_tags(pack):
    assert problems(pack.verdict(edited(set_("prod-vpc", "tags", "env=prod")))) == [(TAGS, "prod-vpc", "lacks the tags env, team")]
    assert problems(pack.verdict(with_default_tags(edited(set_("prod-vpc", "tags", "env=prod")), "prod-vpc"))) == []


def test_default_tags_complete_a_resources_own(pack):
    assert problems(pack.verdict(with_default_tags(edited(set_("prod-vpc", "tags", {"cost-center": "42"})), "prod-vpc"))) == []
