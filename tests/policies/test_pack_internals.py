"""The pack's per-call shortcuts give exactly what the long way gives (in-process, no pack).

The end-to-end guarantee is tests/policies/test_sdk_fastpath.py (verdicts with the fast path
on and off); these pin the pieces: the Struct conversion, the settings cache, and plain() of
a lazy proxy."""

from __future__ import annotations

import math

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi_policy import proxy

from policies import sdk_fastpath
from policies.helpers import UNKNOWN_STRING_VALUE, Unknown, get, plain
from policies.registry import RULES_BY_NAME

DOCUMENTS = [
    {},
    {"a": 1, "b": 2.5, "c": -0.0, "d": 1e300, "e": "x", "f": "", "g": True, "h": False, "i": None},
    {"nested": {"list": [1, "two", None, False, {"deep": [[], {}]}], "empty": {}}, "z": [], "a": {"b": {"c": "d"}}},
    {"unknown": UNKNOWN_STRING_VALUE, "items": [UNKNOWN_STRING_VALUE, {"k": UNKNOWN_STRING_VALUE}]},
]


def _struct(data: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(data)
    return message


@pytest.mark.parametrize("data", DOCUMENTS)
def test_struct_conversion_equals_message_to_dict(data):
    message = _struct(data)
    message.fields["unset"].SetInParent()  # a Value with no kind set: None, as MessageToDict
    fast, slow = sdk_fastpath._struct_to_dict(message), json_format.MessageToDict(message)
    assert fast == slow
    assert repr(fast) == repr(slow)  # same key order and the same scalar types (1.0, not 1)


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
def test_struct_conversion_defers_non_finite_numbers_to_message_to_dict(number):
    message = _struct({"n": number})
    with pytest.raises(sdk_fastpath._NotJson):
        sdk_fastpath._struct_to_dict(message)
    # _JsonFormat then calls MessageToDict, which raises as it always did.
    with pytest.raises(ValueError):
        sdk_fastpath._JsonFormat(json_format).convert(message)


def test_settings_cached_by_identity_of_the_config_values():
    rule = RULES_BY_NAME["aws-ecs-service-circuit-breaker"]
    config = {"environment": "prod", "production": True, "componentKeys": {"service": ["api"]}, "waivers": []}
    first = rule.settings(dict(config))  # the SDK hands out config.copy() per call
    assert rule.settings(dict(config)) is first
    # New objects (a new Configure) parse again, and equal values give equal settings.
    fresh = {"environment": "prod", "production": True, "componentKeys": {"service": ["api"]}, "waivers": []}
    assert rule.settings(fresh) is not first and rule.settings(fresh) == first
    changed = {**config, "production": False}
    assert rule.settings(changed).production is False


def test_settings_per_resource_type_and_default_tags():
    rule = RULES_BY_NAME["aws-tags-required"]
    config = {"environment": "dev", "production": False}
    base = rule.settings(config)
    typed = rule.settings(config, "aws:ecs/service:Service", ("team",))
    assert (typed.resource_type, typed.default_tags) == ("aws:ecs/service:Service", ("team",))
    assert typed == base.__class__(**{**base.__dict__, "resource_type": "aws:ecs/service:Service", "default_tags": ("team",)})
    assert rule.settings(dict(config), "aws:ecs/service:Service", ("team",)) is typed
    assert rule.settings(config).resource_type == "" and rule.settings(config) is base


def test_plain_of_an_untouched_lazy_proxy_equals_plain_of_the_proxy():
    lazy = sdk_fastpath._lazy_proxy(proxy.unknown_checking_proxy, proxy._DictProxy)
    source = {"a": [1.0, {"b": UNKNOWN_STRING_VALUE}], "c": {"d": "e"}}
    sdk_fastpath._scope.memo = {}  # as inside a servicer request
    try:
        untouched = lazy(source)
        assert untouched.unread_source is source
        copied = plain(untouched)
        assert copied == plain(proxy.unknown_checking_proxy(source)) == source
        assert copied is not source and copied["a"] is not source["a"]  # the SDK's data stays out of reach
        assert plain(lazy(source)) is copied  # one copy per request, shared by its policies
        with pytest.raises(Unknown) as raised:
            get(copied, "a", 1, "b")
        assert raised.value.path == "a.1.b"
        touched = lazy(source)
        assert touched["c"]["d"] == "e" and touched.unread_source is None
        assert plain(touched) == source
    finally:
        sdk_fastpath._scope.memo = None
    assert plain(lazy(source)) == source  # outside a request: an ordinary proxy, copied
