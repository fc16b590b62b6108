"""parley.web.json_api: one error shape (`ApiError` and its handler) and one strict JSON body reader."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from parley import protocol
from parley.web.json_api import MAX_JSON_BODY, ApiError, answer, exception_handlers, read_json

BAD, TOO_LARGE = protocol.E_BAD_FRAME, protocol.E_TOO_LARGE


async def echo(request: Request):
    params = request.query_params
    body = await read_json(request, int(params.get("max", MAX_JSON_BODY)), usage="send {x}",
                           field=params.get("field"), require_json_type=params.get("typed", "1") == "1")
    return answer({"got": body}, 201)


async def refuse(_request: Request):
    raise ApiError(429, protocol.E_RATE_LIMIT, "slow down", field="x", headers={"Retry-After": "3"},
                   retryAfter=3)


@pytest.fixture
def http():
    app = Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/refuse", refuse)],
                    exception_handlers=exception_handlers())
    with TestClient(app) as client:
        yield client


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["code"] == code and body["message"]
    return body


def test_an_api_error_is_the_protocols_error_with_its_headers_and_details(http):
    response = http.get("/refuse")
    body = refused(response, 429, protocol.E_RATE_LIMIT)
    assert body == {**protocol.error(protocol.E_RATE_LIMIT, "slow down"), "field": "x", "retryAfter": 3}
    assert response.headers["retry-after"] == "3"


def test_answers_are_never_cached(http):
    response = http.post("/echo", json={"x": 1})
    assert response.status_code == 201 and response.json() == {"got": {"x": 1}}
    assert response.headers["cache-control"] == "no-store"


def test_a_body_that_says_it_is_not_json_is_415(http):
    response = http.post("/echo", content=b'{"x": 1}', headers={"Content-Type": "text/plain"})
    assert refused(response, 415, BAD)["message"] == "send {x}"
    # Unless the endpoint takes any type (presence, handover redeem, as ever).
    assert http.post("/echo?typed=0", content=b'{"x": 1}', headers={"Content-Type": "text/plain"}).json() == {
        "got": {"x": 1}}
    charset = {"Content-Type": "Application/JSON; charset=utf-8"}
    assert http.post("/echo", content=b'{"x": 2}', headers=charset).status_code == 201


@pytest.mark.parametrize("raw", [b"{nope", b"", b'["x"]', b"3", b'{"x": NaN}', b'{"x": Infinity}',
                                 b'{"x": "\\ud800"}', b'{"x": "\\udfff and more"}'])
def test_what_is_not_a_json_object_is_400(http, raw):
    # Lone surrogates: json.loads takes them, and no database or argon2 could (answered 500 once).
    response = http.post("/echo", content=raw, headers={"Content-Type": "application/json"})
    refused(response, 400, BAD)


def test_the_cap_is_64_kib_by_default_and_checked_before_and_after_reading(http):
    exact = b'{"x": "' + b"a" * (MAX_JSON_BODY - 9) + b'"}'
    assert len(exact) == MAX_JSON_BODY
    assert http.post("/echo", content=exact, headers={"Content-Type": "application/json"}).status_code == 201
    over = exact[:-2] + b'a"}'
    refused(http.post("/echo", content=over, headers={"Content-Type": "application/json"}), 413, TOO_LARGE)
    # A smaller cap of the endpoint's own.
    refused(http.post("/echo?max=8", json={"x": "123456"}), 413, TOO_LARGE)
    assert http.post("/echo?max=8", json={"x": 1}).status_code == 201


def test_a_declared_length_over_the_cap_is_refused_before_the_type(http):
    response = http.post("/echo?max=8", content=b"x" * 20, headers={"Content-Type": "text/plain"})
    refused(response, 413, TOO_LARGE)


def test_the_field_goes_into_every_refusal(http):
    assert refused(http.post("/echo?field=body", content=b"{"), 415, BAD)["field"] == "body"
    response = http.post("/echo?field=body", content=b"{", headers={"Content-Type": "application/json"})
    assert refused(response, 400, BAD)["field"] == "body"
    assert refused(http.post("/echo?field=body&max=2", json={"x": 1}), 413, TOO_LARGE)["field"] == "body"


async def plain(request: Request):
    return answer({"got": await read_json(request, 16, usage="send {x}", only_400=True)})


def test_only_400_makes_every_unusable_body_the_400():
    app = Starlette(routes=[Route("/plain", plain, methods=["POST"])],
                    exception_handlers=exception_handlers())
    unusable = ((b'{"x": 1}', "text/plain"), (b'{"x": "' + b"a" * 20 + b'"}', "application/json"),
                (b"{nope", "application/json"), (b"[1]", "application/json"))
    with TestClient(app) as http:
        for content, kind in unusable:
            response = http.post("/plain", content=content, headers={"Content-Type": kind})
            assert refused(response, 400, BAD)["message"] == "send {x}"
        assert http.post("/plain", json={"x": 1}).json() == {"got": {"x": 1}}
