"""What every JSON endpoint shares: refusals as `ApiError`, answers that are never cached,
and request bodies read as strictly as frames.

An endpoint raises `ApiError(status, code, message)` wherever it finds a problem; the
app's exception handler (`exception_handlers()`, installed by parley.web.app) turns it
into the one error shape, `{"code", "message", …}` with the protocol's stable codes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from parley import protocol

# Answers carry one operator's or visitor's data: no browser or proxy may keep them.
NO_STORE = {"Cache-Control": "no-store"}
# The largest JSON body any endpoint takes (parley.web.body_limit cuts every body there too).
MAX_JSON_BODY = 64 * 1024


class ApiError(Exception):
    """A refused request: `status`, a stable `code` (protocol.E_*), a message for people.

    `field` names the part of the body that is wrong (the admin screens show it beside the
    input); `headers` go on the answer (Retry-After, CORS); `details` are more keys of the
    error body (`needAppId`, `retryAfter`).
    """

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 headers: dict | None = None, **details) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.field, self.headers, self.details = field, headers or {}, details

    def response(self) -> JSONResponse:
        extra = {"field": self.field} if self.field else {}
        body = protocol.error(self.code, self.message, **extra, **self.details)
        return JSONResponse(body, status_code=self.status, headers={**NO_STORE, **self.headers})


async def _answer_api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return error.response()


def exception_handlers() -> dict:
    """For Starlette(exception_handlers=…): every `ApiError` becomes its JSON answer."""
    return {ApiError: _answer_api_error}


def answer(body: dict | list, status: int = 200, headers: dict | None = None) -> JSONResponse:
    """A JSON answer that no cache keeps."""
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **(headers or {})})


def is_json(request: Request) -> bool:
    """Whether the request says its body is JSON (parameters such as charset aside)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


async def read_json(request: Request, max_bytes: int = MAX_JSON_BODY, *, usage: str = "send a JSON object",
                    field: str | None = None, require_json_type: bool = True, only_400: bool = False) -> dict:
    """The request's body as a JSON object, or an `ApiError`:

    - 415 `PARLEY_E_BAD_FRAME` when Content-Type is not application/json (unless
      `require_json_type` is false);
    - 413 `PARLEY_E_TOO_LARGE` over `max_bytes` (a declared Content-Length over it is
      refused before reading);
    - 400 `PARLEY_E_BAD_FRAME` when it is not JSON (protocol.strict_json: no lone
      surrogates, NaN or Infinity) or not an object.

    `usage` says what to send; `field` goes into every error (the admin screens' "body").
    With `only_400` every unusable body is the 400, as the inbox's visitor and profile
    endpoints and the handover redeem have always answered (docs/protocol.md).
    """
    if only_400:
        try:
            return await read_json(request, max_bytes, usage=usage, field=field,
                                   require_json_type=require_json_type)
        except ApiError as refused:
            raise ApiError(400, protocol.E_BAD_FRAME, usage, field=field) from refused
    declared = request.headers.get("content-length", "")
    too_large = ApiError(413, protocol.E_TOO_LARGE, f"bodies are limited to {max_bytes} bytes", field=field)
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    if require_json_type and not is_json(request):
        raise ApiError(415, protocol.E_BAD_FRAME, usage, field=field)
    raw = await request.body()
    if len(raw) > max_bytes:
        raise too_large
    try:
        body = protocol.strict_json(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, protocol.E_BAD_FRAME, usage, field=field)
    return body
