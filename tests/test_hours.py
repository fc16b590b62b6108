"""Working hours: parsing people's words and deciding open/closed in the app's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.hours import HoursError, describe, is_open, parse

BERLIN = parse("mon-fri 09:00-17:30, sat 10:00-14:00", "Europe/Berlin")


def test_parse_and_describe():
    assert BERLIN["days"]["mon"] == [["09:00", "17:30"]] and BERLIN["days"]["sat"] == [["10:00", "14:00"]]
    assert "sun" not in BERLIN["days"]
    assert describe(BERLIN).startswith("mon 09:00-17:30, tue 09:00-17:30")
    assert parse("sun 00:00-24:00", "UTC")["days"] == {"sun": [["00:00", "24:00"]]}


@pytest.mark.parametrize("spec, zone", [
    ("mon-fri 9-5", "UTC"), ("fri-mon 09:00-17:00", "UTC"), ("xyz 09:00-10:00", "UTC"),
    ("mon 17:00-09:00", "UTC"), ("mon 09:00-24:30", "UTC"), ("mon 09:00-17:00", "Mars/Olympus"), ("", "UTC"),
])
def test_parse_refuses_mistakes(spec, zone):
    with pytest.raises(HoursError):
        parse(spec, zone)


@pytest.mark.parametrize("utc, expected", [
    ("2026-11-23T07:59:00", False),  # Monday 08:59 in Berlin (UTC+1 in winter)
    ("2026-11-23T08:00:00", True),  # 09:00
    ("2026-11-23T16:29:00", True),  # 17:29
    ("2026-11-23T16:30:00", False),  # 17:30: the end is exclusive
    ("2026-11-28T09:30:00", True),  # Saturday 10:30
    ("2026-11-29T10:00:00", False),  # Sunday
    ("2026-07-06T07:30:00", True),  # Monday 09:30 in summer (UTC+2)
])
def test_is_open_in_the_apps_time_zone(utc, expected):
    assert is_open(BERLIN, datetime.fromisoformat(utc).replace(tzinfo=UTC)) is expected


def test_no_hours_or_broken_hours_mean_open():
    now = datetime.now(UTC)
    assert is_open(None, now) and is_open({}, now) and is_open({"timezone": "Nope/Nope", "days": {}}, now)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_always_hours_are_always_open(moment):
    always = parse("mon-sun 00:00-24:00", "Pacific/Chatham")
    assert is_open(always, moment.replace(tzinfo=UTC))
    assert is_open(parse("mon 00:00-00:01", "UTC"), moment.replace(tzinfo=UTC)) is (
        moment.weekday() == 0 and moment.hour == 0 and moment.minute == 0)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_a_week_later_is_the_same_unless_the_clocks_changed(moment):
    aware = moment.replace(tzinfo=UTC)
    later = aware + timedelta(weeks=1)
    berlin = ZoneInfo("Europe/Berlin")
    if aware.astimezone(berlin).utcoffset() == later.astimezone(berlin).utcoffset():
        assert is_open(BERLIN, aware) is is_open(BERLIN, later)
