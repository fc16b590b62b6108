"""The visitor's country from its IP address (chaportConfig.countries, the `country` parameter).

Uses geoip2fast, which ships its own data file (IPv4 and IPv6), loaded once
on first use. Loopback, private and reserved addresses have no country.

`PARLEY_GEO_OVERRIDE="127.0.0.1=DE,::1=DE"` maps addresses to countries
before any lookup: for tests and demos, where every visitor is local. It is
read on every call, so a test may set it with monkeypatch.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading

log = logging.getLogger("parley.geo")

OVERRIDE_ENV = "PARLEY_GEO_OVERRIDE"
DATA_FILE = "geoip2fast-ipv6.dat.gz"  # IPv4 and IPv6 countries

_lock = threading.Lock()
_reader = None
_unavailable = False


def overrides(value: str | None = None) -> dict[str, str]:
    """The `ip=CC,ip=CC` mapping of PARLEY_GEO_OVERRIDE (bad entries are skipped)."""
    text = os.environ.get(OVERRIDE_ENV, "") if value is None else value
    mapping: dict[str, str] = {}
    for entry in text.split(","):
        address, sep, country = entry.strip().rpartition("=")
        country = country.strip().upper()
        if sep and address.strip() and len(country) == 2 and country.isalpha() and country.isascii():
            mapping[address.strip()] = country
    return mapping


def _load():
    """The geoip2fast reader, or None (logged once) when the package is missing or broken."""
    global _reader, _unavailable
    if _reader is not None or _unavailable:
        return _reader
    with _lock:
        if _reader is None and not _unavailable:
            try:
                from geoip2fast import GeoIP2Fast

                _reader = GeoIP2Fast(geoip2fast_data_file=DATA_FILE)
            except Exception as error:  # ImportError, or a missing/corrupt data file
                _unavailable = True
                log.warning("GeoIP is unavailable (%s): visitors get no country", error)
    return _reader


def _public(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global


def needs_loading(ip: str | None) -> bool:
    """Would country_for_ip(ip) first load the data file (slow: call it in a thread)?
    Every other lookup is quick enough for the event loop."""
    if _reader is not None or _unavailable or not ip or ip in overrides():
        return False
    return _public(ip)


def country_for_ip(ip: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 code for `ip`, or None when unknown, local or private."""
    if not ip:
        return None
    override = overrides().get(ip)
    if override is not None:
        return override
    if not _public(ip):
        return None
    reader = _load()
    if reader is None:
        return None
    try:
        address = ipaddress.ip_address(ip)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            ip = str(address.ipv4_mapped)
        code = reader.lookup(ip).country_code
    except Exception:  # never let a lookup break a visitor's connection
        log.exception("GeoIP lookup failed for %s", ip)
        return None
    if isinstance(code, str) and len(code) == 2 and code.isalpha() and code.isascii():
        return code.upper()
    return None
