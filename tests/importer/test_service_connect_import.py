"""Copilot's Service Connect (`network.connect`, true or {alias}) becomes
`cluster.service_connect` with Copilot's namespace name; an alias other than the service's name
is reported as changed (clients call <service>:<port>), and the calls to list as connects_to
as an action."""

from __future__ import annotations

from pathlib import Path

from importer.copilot import Converter, ImportOptions, Report, Workspace
from importer.manifest import Manifest


def convert(connect) -> tuple[dict, list[tuple[str, str, str]]]:
    environment = Manifest(Path("copilot/environments/prod/manifest.yml"), {"name": "prod", "type": "Environment"})
    service = Manifest(
        Path("copilot/api/manifest.yml"),
        {"name": "api", "type": "Backend Service", "image": {"location": "nginx:1.25", "port": 8080},
         "cpu": 512, "memory": 1024, "network": {"connect": connect}},
        {("network", "connect"): 7, ("network", "connect", "alias"): 8},
    )
    report = Report()
    workspace = Workspace("shop", {"prod": environment}, {"api": service}, [])
    config = Converter(workspace, "prod", ImportOptions(account="123456789012", region="eu-west-1"), report).config()
    return config, [(entry.where, entry.kind, entry.text) for entry in report.entries if entry.field.startswith("network.connect")]


CALLS = (
    "list the services api calls under its `connects_to: [{service: <key>, port: <port>}]`: only those are opened "
    "(Copilot's shared security group let every service call every other)"
)


def test_connect_true_becomes_the_environments_namespace():
    config, entries = convert(True)
    assert config["cluster"]["service_connect"] == {"namespace": "prod.shop.local"}
    assert config["services"]["api"]["port"] == 8080
    assert entries == [("copilot/api/manifest.yml:7", "action", CALLS)]


def test_an_alias_is_reported_as_changed_to_the_service_name():
    config, entries = convert({"alias": "backend"})
    assert config["cluster"]["service_connect"] == {"namespace": "prod.shop.local"}
    assert entries == [
        ("copilot/api/manifest.yml:8", "changed",
         "the alias 'backend' is not kept: Service Connect names are the service keys, so clients call api:8080 instead of backend"),
        ("copilot/api/manifest.yml:7", "action", CALLS),
    ]


def test_an_alias_equal_to_the_name_changes_nothing():
    _, entries = convert({"alias": "api"})
    assert entries == [("copilot/api/manifest.yml:7", "action", CALLS)]


def test_connect_false_leaves_service_connect_off():
    config, entries = convert(False)
    assert "service_connect" not in config["cluster"]
    assert entries == []
