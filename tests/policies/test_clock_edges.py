"""The pack's clock (policies/clock.py): only `--today DAY` or `--today=DAY`, exactly, sets the
day waiver expiry is judged on; anything malformed is refused, never read another way."""

from __future__ import annotations

import datetime

import pytest

from policies import clock

DAY = datetime.date(2027, 5, 16)


@pytest.mark.parametrize("argv", [
    pytest.param(["--today", "2027-05-16"], id="flag-then-day"),
    pytest.param(["--today", "2027-05-16", "127.0.0.1:1234"], id="flag-day-then-more"),
    pytest.param(["127.0.0.1:1234", "--today", "2027-05-16"], id="after-another-argument"),
    pytest.param(["--today=2027-05-16"], id="joined"),
    pytest.param(["127.0.0.1:1234", "--today=2027-05-16", "--verbose"], id="joined-among-others"),
])
def test_the_day_is_read_from_the_flag(argv):
    assert clock.from_arguments(argv) == DAY


@pytest.mark.parametrize("argv", [
    pytest.param([], id="none"),
    pytest.param(["--today"], id="flag-without-a-day"),
    pytest.param(["127.0.0.1:1234", "--today"], id="flag-last"),
    pytest.param(["--to", "2027-05-16"], id="another-flag"),
    pytest.param(["2027-05-16", "--today-x"], id="a-day-before-a-longer-flag"),
])
def test_no_flag_no_day(argv):
    assert clock.from_arguments(argv) is None


@pytest.mark.parametrize("argument", ["--today==2027-05-16", "--today=2027-05-16=x", "--today=", "--today=16.05.2027"])
def test_a_malformed_day_is_refused(argument):
    with pytest.raises(ValueError):
        clock.from_arguments([argument])


def test_the_started_day_is_today_until_started_again():
    before = clock._started_with
    try:
        clock.start_at(DAY)
        assert clock.today() == DAY
        clock.start_at(None)
        assert clock.today() == datetime.date.today()
    finally:
        clock.start_at(before)
