"""parley.web.peers: the page origin rules shared by the sockets and the HTTP endpoints."""

from __future__ import annotations

from starlette.requests import Request

from parley.web.peers import client_ip, from_own_pages, origin_allowed, own_origin, page_may_use


def request(origin: str | None = None, scheme: str = "http", host: str = "chat.example:8000") -> Request:
    headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin is not None else [])
    return Request({"type": "http", "scheme": scheme, "path": "/", "query_string": b"", "headers": headers,
                    "server": ("chat.example", 8000), "client": ("203.0.113.9", 5555)})


def test_own_origin_is_what_the_browser_sees():
    assert own_origin(request()) == "http://chat.example:8000"
    assert own_origin(request(scheme="https", host="chat.example")) == "https://chat.example"


def test_from_own_pages_needs_the_exact_origin_unless_absent_is_ok():
    assert from_own_pages(request("http://chat.example:8000"))
    for origin in (None, "http://chat.example", "https://chat.example:8000", "null"):
        assert not from_own_pages(request(origin))
    assert from_own_pages(request(None), absent_ok=True)
    assert not from_own_pages(request("https://evil.example"), absent_ok=True)


def test_an_apps_origins_match_exactly_and_none_allow_every_site():
    allowed = ["https://shop.example", "http://localhost:8080/"]
    assert origin_allowed(allowed, "https://shop.example") and origin_allowed(allowed, "http://localhost:8080")
    for origin in (None, "http://shop.example", "https://shop.example:444", "https://evil.shop.example"):
        assert not origin_allowed(allowed, origin)
    assert origin_allowed([], "https://anything.example") and origin_allowed([], None)


def test_parleys_own_chat_page_may_use_every_app():
    assert page_may_use(request("http://chat.example:8000"), ["https://shop.example"])
    assert page_may_use(request("https://shop.example"), ["https://shop.example"])
    assert not page_may_use(request("https://evil.example"), ["https://shop.example"])


def test_client_ip_is_the_peer_never_a_header():
    assert client_ip(request()) == "203.0.113.9"
