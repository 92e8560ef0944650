"""The checkov allowlist is scoped by what an entry explains (tier, configuration), never by an
environment's name: a new environment with the same settings is judged the same way, and one
without them is judged afresh."""

from __future__ import annotations

from verify.checkov_scan import AllowedFailure, EnvironmentFacts, Finding, judge, load_allowlist

HTTP_ONLY = AllowedFailure("CKV_AWS_2", "aws_lb_listener.*", "no certificate in development",
                           tiers=("development",), when=(("load_balancer.certificate_arn", None),))


def failed(check_id: str, resource: str, environment: str) -> Finding:
    return Finding(check_id, "", resource, f"{environment}.tfplan.json", passed=False)


def facts(tier: str, certificate: str | None) -> EnvironmentFacts:
    return EnvironmentFacts(tier, {"load_balancer": {"certificate_arn": certificate}})


def test_an_entry_covers_any_environment_with_its_tier_and_settings():
    finding = failed("CKV_AWS_2", "aws_lb_listener.qa-http", "qa")
    assert HTTP_ONLY.covers(finding, {"qa": facts("development", None)})


def test_an_entry_does_not_cover_another_tier_or_other_settings():
    finding = failed("CKV_AWS_2", "aws_lb_listener.qa-http", "qa")
    assert not HTTP_ONLY.covers(finding, {"qa": facts("production", None)})
    assert not HTTP_ONLY.covers(finding, {"qa": facts("development", "arn:aws:acm:eu-west-1:123456789012:certificate/x")})
    assert not HTTP_ONLY.covers(finding, {})  # an environment the scan knows nothing about


def test_an_unscoped_entry_covers_every_environment():
    entry = AllowedFailure("CKV_AWS_338", "*", "retention is a per-environment decision")
    assert entry.covers(failed("CKV_AWS_338", "aws_cloudwatch_log_group.qa-api", "qa"), {})


def test_a_dotted_path_through_an_absent_section_reads_as_null():
    assert EnvironmentFacts("development", {"load_balancer": None}).value("load_balancer.certificate_arn") is None


def test_a_new_environment_with_prod_s_settings_gets_no_allowance_for_what_prod_is_not_allowed():
    # Scoped entries in the shipped allowlist: an HTTP listener in a production-tier qa is unexplained.
    verdict = judge([failed("CKV_AWS_2", "aws_lb_listener.qa-http", "qa")], load_allowlist(),
                    {"qa": facts("production", None)})
    assert [f.resource for f in verdict.unexplained] == ["aws_lb_listener.qa-http"]


def test_no_shipped_entry_names_an_environment():
    shipped = {"dev", "staging", "prod"}
    for entry in load_allowlist():
        assert not any(entry.resource.split(".", 1)[-1].startswith(f"{name}-") for name in shipped), entry


def test_an_entry_of_jobs_covers_a_job_s_group_and_not_a_service_s():
    entry = AllowedFailure("CKV2_AWS_5", "aws_security_group.*", "attached when the job runs", of="job")
    facts = {"qa": EnvironmentFacts("development", {"jobs": {"migrate": {}}, "services": {"api": {}}})}
    assert entry.covers(failed("CKV2_AWS_5", "aws_security_group.qa-migrate-sg", "qa"), facts)
    assert not entry.covers(failed("CKV2_AWS_5", "aws_security_group.qa-api-sg", "qa"), facts)
    assert not entry.covers(failed("CKV2_AWS_5", "aws_security_group.qa-migrate-sg", "qa"),
                            {"qa": EnvironmentFacts("development", {"jobs": {}})})
