"""HTTP calls beside the sockets: uploads (both sides) and the operator's JSON API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from parley.client.errors import INTERNAL, SERVICE_UNAVAILABLE, ClientError

CHUNK = 64 * 1024


def http_base(url: str) -> str:
    """http(s)://host[:port] for a server URL given as http(s) or ws(s)."""
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}"


def ws_base(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}"


def error_of(response: httpx.Response, context: str | None = None) -> ClientError:
    """The ClientError for an API's error answer (its JSON body, or the status alone)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "code" not in body:
        code = SERVICE_UNAVAILABLE if response.status_code == 503 else INTERNAL
        return ClientError(code, f"HTTP {response.status_code}")
    if "retryAfter" not in body and response.headers.get("retry-after", "").isdigit():
        body = {**body, "retryAfter": int(response.headers["retry-after"])}
    error = ClientError.from_frame(body, context)
    if response.status_code == 503:  # busy checking passwords: the SDK's "heavy traffic"
        error.code = SERVICE_UNAVAILABLE
    return error


def file_bytes(file: bytes | str | Path) -> tuple[bytes, str | None]:
    """The bytes to upload and, for a path, its name."""
    if isinstance(file, bytes | bytearray):
        return bytes(file), None
    path = Path(file)
    return path.read_bytes(), path.name


async def upload(http: httpx.AsyncClient, url: str, data: bytes, name: str, headers: dict[str, str],
                 on_progress: Callable[[float], object] | None = None) -> dict:
    """POSTs the raw bytes (the protocol's upload body) and returns the FILE."""

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(data), CHUNK):
            yield data[start:start + CHUNK]
            if on_progress is not None:
                on_progress(min(1.0, (start + CHUNK) / len(data)))

    # Content-Length up front: the server checks the size limits before reading the body.
    response = await http.post(url, params={"name": name}, content=body(),
                               headers={**headers, "Content-Length": str(len(data)),
                                        "Content-Type": "application/octet-stream"})
    if response.status_code != 201:
        raise error_of(response, "upload")
    return response.json()["file"]
