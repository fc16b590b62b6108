"""parley.geo: country from IP (geoip2fast's shipped data), overrides, and welcome.country."""

from __future__ import annotations

import builtins
import json
import logging

import pytest

from parley import geo
from parley.storage.models import Visitor
from tests.helpers.db import run
from tests.helpers.sockets import ORIGIN


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
    monkeypatch.delenv(geo.OVERRIDE_ENV, raising=False)


@pytest.mark.parametrize(("ip", "country"), [
    ("8.8.8.8", "US"),  # Google DNS
    ("1.1.1.1", "AU"),  # APNIC's block, registered in Australia
    ("2001:4860:4860::8888", "US"),  # Google DNS over IPv6
    ("::ffff:8.8.8.8", "US"),  # IPv4-mapped IPv6
])
def test_public_addresses_have_a_country(ip, country):
    assert geo.country_for_ip(ip) == country


@pytest.mark.parametrize("ip", [
    "127.0.0.1", "::1", "10.1.2.3", "192.168.0.10", "172.16.5.4", "fd00::1", "169.254.1.1",
    "0.0.0.0", "", None, "testclient", "not an ip", "999.1.1.1",
])
def test_local_private_and_bad_addresses_have_none(ip):
    assert geo.country_for_ip(ip) is None


def test_override_maps_addresses_first(monkeypatch):
    monkeypatch.setenv(geo.OVERRIDE_ENV, "127.0.0.1=DE, ::1=fr,8.8.8.8=GB,bad,x=TOOLONG,=US")
    assert geo.overrides() == {"127.0.0.1": "DE", "::1": "FR", "8.8.8.8": "GB"}
    assert geo.country_for_ip("127.0.0.1") == "DE"
    assert geo.country_for_ip("::1") == "FR"
    assert geo.country_for_ip("8.8.8.8") == "GB"
    assert geo.country_for_ip("10.0.0.1") is None


def test_without_geoip2fast_geo_returns_none_and_logs_once(monkeypatch, caplog):
    real_import = builtins.__import__

    def no_geoip(name, *args, **kwargs):
        if name.startswith("geoip2fast"):
            raise ImportError("No module named 'geoip2fast'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_geoip)
    monkeypatch.setattr(geo, "_reader", None)
    monkeypatch.setattr(geo, "_unavailable", False)
    with caplog.at_level(logging.WARNING, logger="parley.geo"):
        assert geo.country_for_ip("8.8.8.8") is None
        assert geo.country_for_ip("1.1.1.1") is None
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert len(caplog.records) == 1 and "GeoIP is unavailable" in caplog.records[0].message


def hello(client, app_id) -> dict:
    with client.websocket_connect("/ws/visitor", headers={"Origin": ORIGIN}) as ws:
        ws.send_text(json.dumps({"v": 1, "type": "hello", "appId": app_id}))
        return ws.receive_json()


def test_welcome_carries_and_stores_the_country(client, make_app, database, monkeypatch):
    app = make_app([ORIGIN])
    # Starlette's TestClient connects from the host "testclient": not an IP, so no country.
    welcome = hello(client, app.id)
    assert welcome["type"] == "welcome" and welcome["country"] is None
    monkeypatch.setenv(geo.OVERRIDE_ENV, "testclient=DE")
    welcome = hello(client, app.id)
    assert welcome["country"] == "DE"
    stored = run(database, lambda s: s.get(Visitor, welcome["visitorId"]))
    assert stored.country == "DE"
