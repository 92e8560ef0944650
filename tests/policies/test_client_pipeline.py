"""review/policy_verdict.py's pipelined client answers exactly what one blocking call after the
other answers: the same violations (messages, levels, URNs, in order) and not-applicable
reasons, whatever the number of Analyze calls in flight, and its answer cache is used only for
identical requests."""

from __future__ import annotations

import dataclasses

import pytest
from google.protobuf import json_format, struct_pb2

from review import policy_verdict
from review.policy_verdict import PolicyPackClient, Verdict
from tests.harness import reference_plan

from .stack import UNKNOWN, all_mandatory, edited, set_
from .test_config import BREAKER_OFF, SERVICE, waived_config, waiver
from .test_rules import CASES


@pytest.fixture(scope="module")
def client():
    with PolicyPackClient() as pack:
        yield pack


def uncached(client: PolicyPackClient, config, *, max_in_flight: int) -> PolicyPackClient:
    client._answers_by_config.clear()
    client._configured = None
    client.configure(config)
    client.max_in_flight = max_in_flight
    return client


def blocking_verdict(client: PolicyPackClient, resources) -> Verdict:
    """The client as it was before pipelining: ParseDict per call site, one blocking call each."""

    def parsed(props):
        struct = struct_pb2.Struct()
        json_format.ParseDict(dict(props), struct)
        return struct

    described = [policy_verdict.as_resource(r) for r in resources]
    urns = policy_verdict._urns(described, client.stack)
    custom = [r for r in described if r.custom]
    violations, not_applicable = [], []
    stack = []
    for resource in custom:
        request, entry = policy_verdict._requests(resource, urns[id(resource)])
        request.properties.CopyFrom(parsed(resource.props))
        entry.properties.CopyFrom(parsed(resource.props))
        stack.append(entry)
        response = client._stub.Analyze(request)
        violations += policy_verdict._violations(response, fallback=(resource.name, urns[id(resource)]))
        not_applicable += [(n.policy_name, resource.name, n.reason) for n in response.not_applicable]
    response = client._stub.AnalyzeStack(policy_verdict.analyzer_pb2.AnalyzeStackRequest(resources=stack))
    violations += policy_verdict._violations(response, names={urns[id(r)]: r.name for r in described})
    not_applicable += [(n.policy_name, "", n.reason) for n in response.not_applicable]
    return Verdict(tuple(violations), tuple(not_applicable))


SCENARIOS = {
    "rule-cases": [(edited(*case.values[0]), all_mandatory()) for case in CASES[:: max(1, len(CASES) // 12)]],
    "waived": [(edited(BREAKER_OFF), waived_config(waiver(SERVICE)))],
    "unknowns": [(edited(set_(SERVICE, "networkConfiguration.assignPublicIp", UNKNOWN)), all_mandatory())],
}


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("max_in_flight", [1, 3, 32, 10_000])
def test_pipelined_verdicts_equal_blocking_ones(client, scenario, max_in_flight):
    for resources, config in SCENARIOS[scenario]:
        uncached(client, config, max_in_flight=max_in_flight)
        pipelined = client.analyze(resources)
        assert client.last_stats.cache_hits == 0
        assert client.last_stats.analyze_calls == sum(1 for r in resources if r.custom)
        assert pipelined == blocking_verdict(client, resources)


def test_identical_requests_are_answered_from_the_cache(client):
    resources = edited(BREAKER_OFF)
    custom = sum(1 for r in resources if r.custom)
    uncached(client, all_mandatory(), max_in_flight=4)
    first = client.analyze(resources)
    assert (client.last_stats.analyze_calls, client.last_stats.cache_hits) == (custom, 0)
    assert client.analyze(resources) == first
    assert (client.last_stats.analyze_calls, client.last_stats.cache_hits) == (0, custom)
    # A changed configuration is a different cache: asked again.
    client.configure(all_mandatory(production=False))
    client.analyze(resources)
    assert (client.last_stats.analyze_calls, client.last_stats.cache_hits) == (custom, 0)


def test_a_request_repeated_within_one_stack_is_sent_once(client):
    resources = edited()
    twice = resources + [dataclasses.replace(r) for r in resources if r.custom]
    custom = sum(1 for r in resources if r.custom)
    uncached(client, all_mandatory(), max_in_flight=2)
    verdict = client.analyze(twice)
    assert (client.last_stats.analyze_calls, client.last_stats.cache_hits) == (custom, custom)
    uncached(client, all_mandatory(), max_in_flight=1)
    assert verdict == blocking_verdict(client, twice)


@pytest.mark.parametrize("props", [
    {},
    {"a": None, "b": True, "c": False, "d": 0, "e": -3, "f": 2.5, "g": 2**60, "h": "ü€", "i": ""},
    {"nested": {"empty": {}, "list": [], "mixed": [1, "x", None, {"k": [True, {}]}, []]}},
])
def test_struct_conversion_equals_parse_dict(props):
    reference = struct_pb2.Struct()
    json_format.ParseDict(dict(props), reference)
    assert policy_verdict._struct(props).SerializeToString(deterministic=True) == reference.SerializeToString(deterministic=True)


def test_the_stack_request_joined_from_entries_is_the_request_of_all_resources():
    resources = [policy_verdict.as_resource(r) for r in reference_plan("prod").resources if r.custom]
    entries = [policy_verdict._requests(r, r.urn)[1] for r in resources]
    joined = b"".join(policy_verdict.stack_request_entry(entry) for entry in entries)
    request = policy_verdict.analyzer_pb2.AnalyzeStackRequest.FromString(joined)
    assert request == policy_verdict.analyzer_pb2.AnalyzeStackRequest(resources=entries)
    assert [r.urn for r in request.resources] == [r.urn for r in resources]
    assert len(request.resources) > 100
