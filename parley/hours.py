"""Working hours: when an app takes chats, whatever its operators' presence says.

Written by people as `mon-fri 09:00-17:30, sat 10:00-14:00` plus an IANA time
zone; stored as {"timezone": "Europe/Berlin", "days": {"mon": [["09:00", "17:30"]], ...}}.
An app with no working hours is open whenever an operator is online. Pure: no I/O.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = r"([01]\d|2[0-4]):([0-5]\d)"
_PART = re.compile(rf"^(?P<days>[a-z]{{3}}(?:-[a-z]{{3}})?)\s+(?P<start>{_TIME})-(?P<end>{_TIME})$")


class HoursError(ValueError):
    pass


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _day_range(text: str) -> list[str]:
    first, _, last = text.partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise HoursError(f"unknown day in {text!r}: use {', '.join(DAYS)}")
    if not last:
        return [first]
    start, end = DAYS.index(first), DAYS.index(last)
    if end < start:
        raise HoursError(f"{text!r} goes backwards: write e.g. mon-fri")
    return list(DAYS[start:end + 1])


def parse(spec: str, timezone: str) -> dict:
    """`mon-fri 09:00-17:00, sat 10:00-14:00` + 'Europe/Berlin' -> stored form; raises HoursError."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"unknown time zone {timezone!r}: use an IANA name such as Europe/Berlin") from None
    days: dict[str, list[list[str]]] = {}
    for part in (p.strip().lower() for p in spec.split(",")):
        match = _PART.match(part)
        if match is None:
            raise HoursError(f"cannot read {part!r}: write e.g. 'mon-fri 09:00-17:00'")
        start, end = match["start"], match["end"]
        if _minutes(end) <= _minutes(start) or _minutes(end) > 24 * 60:
            raise HoursError(f"{part!r}: the end must be after the start, at most 24:00")
        for day in _day_range(match["days"]):
            days.setdefault(day, []).append([start, end])
    return {"timezone": timezone, "days": {day: sorted(spans) for day, spans in days.items()}}


def is_open(hours: dict | None, now: datetime) -> bool:
    """True when `now` (aware) falls inside the working hours; no hours = always open."""
    if not hours:
        return True
    try:
        local = now.astimezone(ZoneInfo(hours["timezone"]))
        spans = hours["days"].get(DAYS[local.weekday()], [])
    except (KeyError, TypeError, ZoneInfoNotFoundError, ValueError):
        return True  # broken stored data must not silence the chat
    minute = local.hour * 60 + local.minute
    return any(_minutes(start) <= minute < _minutes(end) for start, end in spans)


def describe(hours: dict | None) -> str:
    """The stored form back in the CLI's words (for `app list`)."""
    if not hours:
        return ""
    parts = [f"{day} {start}-{end}" for day in DAYS for start, end in hours.get("days", {}).get(day, [])]
    return f"{', '.join(parts)} ({hours.get('timezone')})"


def spec_of(working_hours: dict | None) -> str:
    """The stored working hours in the words `--working-hours` reads, days with the same
    spans joined into ranges: {"mon": [["09:00","17:00"]], "tue": ...} -> 'mon-fri 09:00-17:00'."""
    days = (working_hours or {}).get("days") or {}
    parts, index = [], 0
    while index < len(DAYS):
        spans = days.get(DAYS[index])
        end = index
        while spans and end + 1 < len(DAYS) and days.get(DAYS[end + 1]) == spans:
            end += 1
        if spans:
            label = DAYS[index] if end == index else f"{DAYS[index]}-{DAYS[end]}"
            parts += [f"{label} {start}-{stop}" for start, stop in spans]
        index = end + 1
    return ", ".join(parts)
