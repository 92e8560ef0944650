"""Edges of the ECR rules (policies/ecr.py) through the pack: registry ENHANCED scanning, tag
exclusions, encryption types and every lifecycle rule ECR would refuse. Each case changes one
thing of the compliant repository and names every violation whole."""

from __future__ import annotations

import json

import pytest

from .stack import LIFECYCLE, add, drop, edited, set_
from .verdicts import expected, violations

REPO, LIFECYCLE_POLICY = "prod-api-repository", "prod-api-lifecycle"
SCAN, IMMUTABLE, KMS, RULES = ("aws-ecr-repository-scan-on-push", "aws-ecr-repository-immutable-tags",
                               "aws-ecr-repository-kms-encryption", "aws-ecr-repository-lifecycle-policy")
NOT_SCANNED = "images are not scanned on push and no ENHANCED registry scanning rule covers the repository"


def registry_scanning(*filters, scan_type="ENHANCED"):
    config = {"rules": [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [dict(f) for f in filters]}]}
    if scan_type is not None:
        config["scanType"] = scan_type
    return add("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "prod-registry-scanning", config)


def wildcard(pattern):
    return {"filter": pattern, "filterType": "WILDCARD"}


SCAN_OFF = set_(REPO, "imageScanningConfiguration.scanOnPush", False)


def lifecycle(change):
    """The compliant lifecycle policy with `change(rules)` applied: rule 1 keeps 30 v* tags, rule 2 expires untagged after 14 days."""
    def edit(stack):
        doc = json.loads(LIFECYCLE)
        change(doc["rules"])
        stack[LIFECYCLE_POLICY]["props"]["policy"] = json.dumps(doc)
    return edit


def selection(index, **changes):
    return lifecycle(lambda rules: rules[index]["selection"].update(changes))


def case(id_, edits, *problems, policy=RULES):
    return pytest.param(edits, [(policy, REPO, problem) for problem in problems], id=id_)


CASES = [
    case("scan-no-registry-rule", [SCAN_OFF], NOT_SCANNED, policy=SCAN),
    case("scan-registry-without-scan-type", [SCAN_OFF, registry_scanning(wildcard("*"), scan_type=None)], NOT_SCANNED, policy=SCAN),
    case("scan-registry-filter-unset", [SCAN_OFF, registry_scanning({"filterType": "WILDCARD"})], NOT_SCANNED, policy=SCAN),
    case("scan-registry-filter-of-the-logical-name", [SCAN_OFF, registry_scanning(wildcard("prod-api-*"))], NOT_SCANNED, policy=SCAN),
    case("exclusion-of-every-tag-twice-starred", [set_(REPO, "imageTagMutability", "IMMUTABLE_WITH_EXCLUSION"),
                                                  set_(REPO, "imageTagMutabilityExclusionFilters", [wildcard("latest"), wildcard("**")])],
         "IMMUTABLE_WITH_EXCLUSION excludes every tag (filter '**'), so all tags are mutable", policy=IMMUTABLE),
    case("mutable", [set_(REPO, "imageTagMutability", "MUTABLE")], "imageTagMutability is MUTABLE", policy=IMMUTABLE),
    case("mutable-by-default", [drop(REPO, "imageTagMutability")], "imageTagMutability is MUTABLE", policy=IMMUTABLE),
    case("aes", [set_(REPO, "encryptionConfigurations", [{"encryptionType": "AES256"}])], "encryption is AES256, not KMS", policy=KMS),
    case("encryption-type-unset", [set_(REPO, "encryptionConfigurations", [{}])], "encryption is AES256, not KMS", policy=KMS),
    case("encryption-default", [drop(REPO, "encryptionConfigurations")], "encryption is AES256 (the default), not KMS", policy=KMS),
    # ---- lifecycle documents
    case("lifecycle-a-json-list", [set_(LIFECYCLE_POLICY, "policy", "[1]")], "the lifecycle policy is not a JSON object"),
    case("lifecycle-not-json", [set_(LIFECYCLE_POLICY, "policy", "{rules")], "the lifecycle policy is not a JSON object"),
    case("lifecycle-no-rules", [set_(LIFECYCLE_POLICY, "policy", json.dumps({"rules": []}))], "the lifecycle policy has no rules"),
    case("lifecycle-rules-unset", [set_(LIFECYCLE_POLICY, "policy", "{}")], "the lifecycle policy has no rules"),
    case("priority-0", [lifecycle(lambda rules: rules[0].update(rulePriority=0))], "rulePriority values [0, 2] must be unique positive integers"),
    case("priority-a-string", [lifecycle(lambda rules: rules[0].update(rulePriority="1"))], "rulePriority values ['1', 2] must be unique positive integers"),
    case("tag-status-unknown", [selection(0, tagStatus="some")], "rule 1: tagStatus must be tagged, untagged or any"),
    case("tag-status-unset", [lifecycle(lambda rules: rules[0]["selection"].pop("tagStatus"))], "rule 1: tagStatus must be tagged, untagged or any"),
    case("tagged-without-prefixes", [selection(0, tagPrefixList=[])], "rule 1: a tagged selection needs tagPrefixList or tagPatternList"),
    case("count-type-unknown", [selection(1, countType="imageCountLessThan")],
         "rule 2: countType must be one of imageCountMoreThan, sinceImagePushed"),
    case("since-pushed-in-hours", [selection(1, countUnit="hours")], "rule 2: sinceImagePushed needs countUnit days"),
    case("since-pushed-without-unit", [lifecycle(lambda rules: rules[1]["selection"].pop("countUnit"))], "rule 2: sinceImagePushed needs countUnit days"),
    case("count-0", [selection(0, countNumber=0)], "rule 1: countNumber must be a positive integer"),
    case("count-a-string", [selection(0, countNumber="30")], "rule 1: countNumber must be a positive integer"),
    case("count-unset", [lifecycle(lambda rules: rules[0]["selection"].pop("countNumber"))], "rule 1: countNumber must be a positive integer"),
    case("action-not-expire", [lifecycle(lambda rules: rules[0].update(action={"type": "delete"}))], "rule 1: action.type must be expire"),
    case("action-unset", [lifecycle(lambda rules: rules[0].pop("action"))], "rule 1: action.type must be expire"),
    case("rule-without-selection", [lifecycle(lambda rules: rules.append({"rulePriority": 3, "action": {"type": "expire"}}))],
         "rule 3: tagStatus must be tagged, untagged or any", "rule 3: countType must be one of imageCountMoreThan, sinceImagePushed",
         "rule 3: countNumber must be a positive integer"),
    case("untagged-rule-made-tagged", [selection(1, tagStatus="tagged", tagPrefixList=["release"])], "no rule expires untagged images"),
    case("every-problem-of-one-rule", [set_(LIFECYCLE_POLICY, "policy", json.dumps({"rules": [
        {"rulePriority": 0, "selection": {"tagStatus": "some", "countType": "sinceImagePushed", "countNumber": 0}, "action": {"type": "delete"}}]}))],
         "rulePriority values [0] must be unique positive integers", "rule 0: tagStatus must be tagged, untagged or any",
         "rule 0: sinceImagePushed needs countUnit days", "rule 0: countNumber must be a positive integer", "rule 0: action.type must be expire",
         "no rule expires untagged images"),
]


@pytest.mark.parametrize("edits, found", CASES)
def test_each_edge_fails_with_exactly_these_violations(pack, edits, found):
    assert violations(pack.verdict(edited(*edits))) == expected(*found)


@pytest.mark.parametrize("edits", [
    pytest.param([SCAN_OFF, registry_scanning(wildcard("prod/*"))], id="enhanced-scanning-of-the-repository"),
    pytest.param([SCAN_OFF, registry_scanning(wildcard("staging/*"), wildcard("prod/api"))], id="enhanced-scanning-second-filter"),
    pytest.param([SCAN_OFF, drop(REPO, "name"), registry_scanning(wildcard("prod-api-*"))], id="unnamed-repository-by-its-logical-name"),
    pytest.param([set_(REPO, "imageTagMutability", "IMMUTABLE_WITH_EXCLUSION"), set_(REPO, "imageTagMutabilityExclusionFilters", [{"filterType": "WILDCARD"}, wildcard("dev-*")])],
                 id="exclusions-of-some-tags"),
    pytest.param([set_(REPO, "encryptionConfigurations", [{"encryptionType": "KMS_DSSE"}])], id="kms-dsse"),
    pytest.param([selection(0, countNumber=1)], id="keep-exactly-one-image"),
    pytest.param([selection(0, tagPrefixList=[], tagPatternList=["v*"])], id="tag-patterns"),
    pytest.param([lifecycle(lambda rules: rules[1]["selection"].update(tagStatus="any"))], id="any-covers-untagged"),
    pytest.param([lifecycle(lambda rules: rules[1].update(rulePriority=3))], id="priorities-need-not-be-consecutive"),
])
def test_edges_these_rules_accept(pack, edits):
    assert violations(pack.verdict(edited(*edits))) == []
