"""Starting the policy pack: it must never hang the plan, and a failure says why."""

from __future__ import annotations

import sys
import textwrap

import pytest

from review.policy_verdict import PolicyPackClient, PolicyPackError


def fake_pack(tmp_path, body: str):
    (tmp_path / "__main__.py").write_text(textwrap.dedent(body))
    client = PolicyPackClient(pack_dir=tmp_path, python=sys.executable)
    client.start_timeout = 2
    return client


def test_a_pack_that_never_prints_its_port_fails_with_its_stderr_instead_of_hanging(tmp_path):
    client = fake_pack(tmp_path, """
        import sys, time
        sys.stderr.write("loading rules\\n"); sys.stderr.flush()
        time.sleep(60)
    """)
    with pytest.raises(PolicyPackError) as failed:
        client.start()
    assert str(failed.value) == f"the policy pack ({tmp_path}) did not print its port within 2 s; its stderr ends:\nloading rules"


def test_a_pack_that_crashes_reports_its_traceback(tmp_path):
    client = fake_pack(tmp_path, """
        raise ImportError("no module named pulumi_policy")
    """)
    with pytest.raises(PolicyPackError) as failed:
        client.start()
    message = str(failed.value)
    assert message.startswith(f"the policy pack ({tmp_path}) did not print its port within 2 s; its stderr ends:\nTraceback")
    assert message.endswith("ImportError: no module named pulumi_policy")


def test_a_pack_that_prints_something_else_is_refused(tmp_path):
    client = fake_pack(tmp_path, """
        import sys, time
        print("hello from the pack")
        time.sleep(60)
    """)
    with pytest.raises(PolicyPackError) as failed:
        client.start()
    assert str(failed.value) == f"the policy pack ({tmp_path}) printed 'hello from the pack' instead of its port"


def test_the_port_is_read_even_when_the_pack_never_flushes(tmp_path, monkeypatch):
    # pulumi-policy writes the port with sys.stdout.buffer.write and no flush; only an
    # unbuffered interpreter gets it out of the pack. PYTHONUNBUFFERED is removed to prove
    # the client does not depend on the caller's environment.
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)
    client = fake_pack(tmp_path, """
        import sys, time
        sys.stdout.buffer.write(b"12345\\n")
        time.sleep(60)
    """)
    monkeypatch.setattr("grpc.channel_ready_future", lambda channel: pytest.fail("port read") )
    with pytest.raises(pytest.fail.Exception, match="port read"):
        client.start()
    client.close()
