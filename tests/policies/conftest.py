"""One policy pack process for the whole session, driven through the Analyzer gRPC protocol."""

from __future__ import annotations

import pytest

from review.policy_verdict import PolicyPackClient, Verdict

from . import in_process
from .stack import all_mandatory


class Pack:
    """The running pack plus the config of the current test."""

    def __init__(self, client: PolicyPackClient):
        self.client = client

    def verdict(self, resources, config=None) -> Verdict:
        self.client.configure(config if config is not None else all_mandatory())
        return self.client.analyze(resources)


@pytest.fixture(scope="session")
def pack_client():
    # In-process only under bench/mutation.py (tests/policies/in_process.py says why).
    with (in_process.InProcessPackClient() if in_process.ENABLED else PolicyPackClient()) as client:
        yield client


@pytest.fixture
def pack(pack_client) -> Pack:
    return Pack(pack_client)
