"""The GitHub workflows, validated offline with actionlint, plus the contracts they keep."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def actionlint() -> str:
    found = Path(sys.executable).parent / "actionlint"
    return str(found) if found.exists() else (shutil.which("actionlint") or "actionlint")


def lint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([actionlint(), "-no-color", *map(str, paths)], capture_output=True, text=True, cwd=ROOT)


def load(name: str) -> dict:
    # PyYAML reads the `on:` key as True (YAML 1.1); GitHub reads it as "on".
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True)
    return data


def test_actionlint_accepts_every_workflow():
    result = lint(*sorted(WORKFLOWS.glob("*.yml")))
    assert (result.returncode, result.stdout) == (0, "")


def test_actionlint_rejects_an_unknown_context(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    result = lint(bad)
    assert result.returncode == 1 and 'property "nope" is not defined' in result.stdout


def test_pull_requests_review_each_environment_on_its_own_runner():
    jobs = load("review.yml")["jobs"]
    # The matrix is the environments the pull request touches, against the merge base.
    listing = jobs["environments"]["steps"]
    assert listing[0] == {"uses": "actions/checkout@v5", "with": {"fetch-depth": 0}}
    assert listing[-1]["run"] == 'python3 run.py review affected "$BASE_REF" --github-output >> "$GITHUB_OUTPUT"'
    assert listing[-1]["env"] == {"BASE_REF": "origin/${{ github.base_ref }}"}
    assert jobs["environments"]["outputs"] == {"all": "${{ steps.list.outputs.all }}"} and listing[-1]["id"] == "list"
    job = jobs["review"]
    assert job["needs"] == "environments"
    assert job["strategy"]["matrix"] == {"include": "${{ fromJSON(needs.environments.outputs.all) }}"}
    runs = [step.get("run", "") for step in job["steps"]]
    assert "python3 run.py test" in runs
    assert any('run.py review diff "$BASE_REF" "$ENVIRONMENT" --format markdown' in r for r in runs)
    comment = next(s for s in job["steps"] if s.get("uses", "").startswith("marocchino/sticky-pull-request-comment"))
    assert comment["with"] == {"header": "review-${{ matrix.environment }}", "path": "review.md"}
    credentials = next(s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials"))
    assert credentials["with"]["aws-region"] == "${{ matrix.region }}"


def test_no_workflow_names_an_environment_or_a_region():
    """Environments and regions come from configs/: a new configs/qa.yaml in us-east-2 works."""
    from pipeline.environments import TIERS, stack_names

    text = "\n".join(path.read_text() for path in sorted(WORKFLOWS.glob("*.yml")))
    code = re.sub(r"#.*", "", text)
    for name in set(stack_names()) - set(TIERS):  # jobs are named after tiers, never environments
        assert not re.search(rf"(?<![\w./-]){name}(?![\w.-])", code), name
    assert not re.search(r"\b[a-z]{2}-[a-z]+-\d\b", text)


def test_the_review_comment_is_posted_before_the_job_fails_on_the_review_status():
    steps = load("review.yml")["jobs"]["review"]["steps"]
    names = [s.get("id") or s.get("name") or s.get("uses") for s in steps]
    review = next(s for s in steps if s.get("id") == "review")
    assert 'status=$?' in review["run"] and 'echo "status=$status" >> "$GITHUB_OUTPUT"' in review["run"]
    comment = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("marocchino/sticky-pull-request-comment"))
    fail = names.index("Fail on the review's exit status")
    assert names.index("review") < comment < fail
    assert steps[fail]["if"] == "steps.review.outputs.status != '0'"
    assert steps[fail]["run"].rstrip().endswith('exit "$STATUS"')


def test_the_real_preview_runs_only_with_credentials_and_the_pack_and_is_rendered_in_the_reviews_format():
    steps = load("review.yml")["jobs"]["review"]["steps"]
    install = next(s for s in steps if s.get("uses", "").startswith("pulumi/actions"))
    assert install["if"] == "vars.AWS_ROLE_ARN != ''" and "with" not in install  # installs the CLI only
    preview = next(s for s in steps if s.get("id") == "preview")
    assert preview["if"] == "vars.AWS_ROLE_ARN != ''"
    run = preview["run"]
    assert "pulumi preview --stack \"$ENVIRONMENT\" --json --event-log events.jsonl" in run
    assert '--policy-pack policies --policy-pack-config "$RUNNER_TEMP/policy-config.json"' in run
    assert "run.py review render-preview preview.json --event-log events.jsonl --format markdown" in run
    names = [s.get("id") or s.get("name") for s in steps]
    comment = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("marocchino/sticky-pull-request-comment"))
    assert names.index("review") < names.index("preview") < comment  # one comment, posted after both
    generate = next(s for s in steps if s.get("name") == "Generate the policy pack config")
    assert generate["run"] == 'python3 run.py policy-config "$ENVIRONMENT" -o "$RUNNER_TEMP/policy-config.json"'
    assert generate["env"] == {"ENVIRONMENT": "${{ matrix.environment }}"} and generate["if"] == preview["if"]
    assert steps.index(generate) < steps.index(preview)


def test_pulumi_up_generates_the_policy_config_of_its_environment_first():
    steps = load("pulumi-up.yml")["jobs"]["up"]["steps"]
    up = next(s for s in steps if s.get("uses", "").startswith("pulumi/actions"))
    generate = steps[steps.index(up) - 1]
    assert generate["run"] == 'python3 run.py policy-config "$ENVIRONMENT" -o "$RUNNER_TEMP/policy-config.json"'
    assert generate["env"] == {"ENVIRONMENT": "${{ inputs.environment }}"}
    assert up["with"]["policyPackConfigs"] == "${{ runner.temp }}/policy-config.json"


def test_main_deploys_tier_by_tier_with_the_environments_of_a_tier_in_parallel():
    deploy = load("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    outputs = jobs["environments"]["outputs"]
    assert outputs == {tier: f"${{{{ steps.list.outputs.{tier} }}}}" for tier in ("development", "staging", "production")}
    assert list(jobs) == ["environments", "development", "staging", "production"]
    assert [jobs[tier]["needs"] for tier in ("development", "staging", "production")] == [
        "environments", ["environments", "development"], ["environments", "development", "staging"]
    ]
    for tier in ("development", "staging", "production"):
        job = jobs[tier]
        assert job["strategy"] == {"fail-fast": False, "matrix": {"include": f"${{{{ fromJSON(needs.environments.outputs.{tier}) }}}}"}}
        assert job["uses"] == "./.github/workflows/pulumi-up.yml"
        assert job["with"] == {"environment": "${{ matrix.environment }}", "region": "${{ matrix.region }}"}
        assert f"needs.environments.outputs.{tier} != '[]'" in job["if"]
    # A later tier never runs after a failure of an earlier one, but does run after an empty
    # (skipped) one.
    for tier in ("staging", "production"):
        assert jobs[tier]["if"].startswith("${{ !cancelled() && !contains(needs.*.result, 'failure')")
    up = load("pulumi-up.yml")["jobs"]["up"]
    assert up["environment"] == "${{ inputs.environment }}"
    step = next(s for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions"))
    assert step["with"]["command"] == "up"
    credentials = next(s for s in up["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials"))
    assert credentials["with"]["aws-region"] == "${{ inputs.region }}"
