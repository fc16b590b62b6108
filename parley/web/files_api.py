"""Attachments over HTTP: visitors and operators upload, anyone with the link downloads.

- `POST /api/visitor/files?name=…`: the raw bytes are the body (so a browser can show
  progress with XMLHttpRequest and cancel with abort()). The visitor proves itself
  with `X-Parley-App`, `X-Parley-Visitor`, `X-Parley-Visitor-Token`; the page's
  `Origin` must be one of the app's origins, as on /ws/visitor. CORS, no credentials.
- `POST /api/operator/files?name=…`: the operator session cookie, and an `Origin`
  equal to this server's own (CSRF).
- `GET /files/{id}/{name}`: the stored bytes; the 128-bit random id is the capability.

What a file is and how it is cleaned lives in parley.files (and the modules it names);
see docs/protocol.md.
"""

from __future__ import annotations

import logging

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from parley import file_names, file_store, files, protocol
from parley.file_kinds import FileRejected
from parley.ratelimit import ByteQuota
from parley.storage import file_queries
from parley.storage.models import File
from parley.web import visitor_http
from parley.web.json_api import NO_STORE, ApiError
from parley.web.peers import client_ip
from parley.web.sessions import current_operator

log = logging.getLogger("parley.files")

UPLOAD_HEADERS = ("Content-Type", *visitor_http.VISITOR_HEADERS)
# Decoding and encoding images is CPU and memory heavy: at most this many at once per process.
CONCURRENT_PREPARES = 2
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _cors(origin: str | None) -> dict:
    return visitor_http.cors(origin, UPLOAD_HEADERS)


# -- visitors ----------------------------------------------------------------------

async def visitor_upload(request: Request) -> Response:
    origin = request.headers.get("origin")
    if request.method == "OPTIONS":
        # A preflight names no app (custom header values are not sent), so it cannot be
        # checked against the app's origins: the POST itself is.
        return Response(status_code=204, headers=_cors(origin))
    async with request.app.state.db.session() as session:
        proven = await visitor_http.prove_visitor(request, session, UPLOAD_HEADERS)
    app, visitor, cors = proven.app, proven.visitor, proven.cors
    limits = request.app.state.limits
    limiter = limits.visitor_uploads
    if not limiter.hit(visitor.id):
        raise _rate_limited(limiter.retry_after(visitor.id), cors)
    # Bytes per address as well: visitors are free, so a count per visitor alone let 30
    # of them store 300 MiB (issue 13).
    return await _upload(request, cors, app_id=app.id, visitor_id=visitor.id,
                         uploader_kind="visitor", uploader_id=visitor.id,
                         quota=(limits.upload_bytes_per_ip, client_ip(request)))


# -- operators ---------------------------------------------------------------------

async def operator_upload(request: Request) -> Response:
    operator = await current_operator(request,
                                      change="upload from this server's own pages (Origin must match)")
    limiter = request.app.state.limits.operator_uploads
    if not limiter.hit(operator.id):
        raise _rate_limited(limiter.retry_after(operator.id), {})
    return await _upload(request, {}, app_id=operator.app_id, visitor_id=None,
                         uploader_kind="operator", uploader_id=operator.id)


# -- both ----------------------------------------------------------------------------

def _rate_limited(wait: float, headers: dict, what: str = "uploads") -> ApiError:
    return ApiError(429, protocol.E_RATE_LIMIT, f"too many {what}; retry in {wait:.0f}s",
                    headers={**headers, "Retry-After": str(int(wait) + 1)})


def _over_quota(quota: tuple[ByteQuota, str], size: int, headers: dict) -> ApiError:
    limiter, key = quota
    return _rate_limited(limiter.retry_after(key, size), headers, "upload bytes from your address")


def _too_large(limit: int, headers: dict) -> ApiError:
    return ApiError(413, protocol.E_FILE_TOO_LARGE, f"files are limited to {limit} bytes", headers=headers)


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it grows past `limit` (the rest is not read)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _prepare_limiter(request: Request) -> anyio.CapacityLimiter:
    state = request.app.state
    limiter = getattr(state, "file_prepares", None)
    if limiter is None:
        limiter = state.file_prepares = anyio.CapacityLimiter(CONCURRENT_PREPARES)
    return limiter


async def _upload(request: Request, headers: dict, *, app_id: str, visitor_id: str | None,
                  uploader_kind: str, uploader_id: str,
                  quota: tuple[ByteQuota, str] | None = None) -> Response:
    """`quota`: a byte quota and its key (the visitor's address), charged with the bytes received."""
    limit = files.max_upload_bytes()
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            declared_size = int(declared)
        except ValueError:
            raise ApiError(400, protocol.E_BAD_FRAME, "Content-Length is not a number",
                           headers=headers) from None
        if declared_size > limit:
            raise _too_large(limit, headers)
        # Over the quota already by its declared size: refused before reading the body.
        if quota is not None and not quota[0].allowed(quota[1], declared_size):
            raise _over_quota(quota, declared_size, headers)
    data = await _read_body(request, limit)
    if data is None:
        raise _too_large(limit, headers)
    # Charged with what was received, refused or not (reading and checking it cost as much),
    # checked and taken at once, so uploads running in parallel can't pass the same check.
    if quota is not None and not quota[0].take(quota[1], len(data)):
        raise _over_quota(quota, len(data), headers)
    name = request.query_params.get("name")
    try:
        prepared = await anyio.to_thread.run_sync(files.prepare, data, name,
                                                  limiter=_prepare_limiter(request))
    except FileRejected as refusal:
        raise ApiError(refusal.status, refusal.code, refusal.message, headers=headers) from None
    file_id = file_store.new_file_id()
    await anyio.to_thread.run_sync(file_store.write_file_bytes, file_id, prepared.data)
    row = File(id=file_id, app_id=app_id, visitor_id=visitor_id, uploader_kind=uploader_kind,
               uploader_id=uploader_id, name=prepared.name, content_type=prepared.content_type,
               size=prepared.size, sha256=prepared.sha256, width=prepared.width, height=prepared.height)
    try:
        async with request.app.state.db.session() as session:
            await file_queries.add_file(session, row)
            await session.commit()
    except BaseException:
        file_store.delete_file_bytes(file_id)  # no row, no bytes: nothing is left half-stored
        raise
    log.info("%s %s uploaded file %s (%s, %d bytes)", uploader_kind, uploader_id, file_id,
             prepared.content_type, prepared.size)
    return JSONResponse({"file": file_names.file_dict(row)}, status_code=201, headers={**NO_STORE, **headers})


# -- downloads ---------------------------------------------------------------------

async def download(request: Request) -> Response:
    file_id = request.path_params["file_id"]
    if not file_store.FILE_ID.fullmatch(file_id):
        raise _not_found()
    async with request.app.state.db.session() as session:
        row = await file_queries.get_file(session, file_id)
    path = file_store.file_path(file_id)
    if row is None or not await anyio.Path(path).is_file():
        raise _not_found()
    etag = f'"{row.sha256}"'
    inline = row.content_type in IMAGE_TYPES
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Referrer-Policy": "no-referrer",
        # Only the re-encoded images are shown in the browser; everything else is saved.
        "Content-Disposition": file_names.content_disposition(row.name, inline=inline),
    }
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=row.content_type, headers=headers)


def _not_found() -> ApiError:
    return ApiError(404, protocol.E_NOT_FOUND, "no such file", headers={"X-Content-Type-Options": "nosniff"})
