"""Every rule names its standards; every FSBP control of the stack's services is covered or
says why not; the README shows exactly that."""

from __future__ import annotations

from pathlib import Path

from policies.controls import FSBP_CONTROLS, RULE_CONTROLS, coverage_table, covering_rules
from policies.registry import RULES

README = Path(__file__).resolve().parents[2] / "policies" / "README.md"


def test_every_rule_names_its_controls():
    assert list(RULE_CONTROLS) == [rule.name for rule in RULES]


def test_named_controls_exist_and_every_control_is_covered_or_explained():
    named = {c.removeprefix("FSBP ") for controls in RULE_CONTROLS.values() for c in controls if c.startswith("FSBP ")}
    assert sorted(named - set(FSBP_CONTROLS)) == []
    unexplained = [c for c, (_title, reason) in FSBP_CONTROLS.items() if not covering_rules(c) and not reason]
    explained_but_covered = [c for c, (_title, reason) in FSBP_CONTROLS.items() if covering_rules(c) and reason]
    assert (unexplained, explained_but_covered) == ([], [])


def test_the_readme_carries_the_coverage_table():
    assert coverage_table() in README.read_text()
