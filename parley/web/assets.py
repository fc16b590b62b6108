"""Serves dist/: precompressed variants, long caching for hashed names, CORS.

Only files listed in dist/manifest.json are served, so no path can escape dist/.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".wasm": "application/wasm",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".txt": "text/plain; charset=utf-8",
    ".bin": "application/octet-stream",
}
IMMUTABLE = "public, max-age=31536000, immutable"
# Names that stay the same across builds (the snippet's loader URL): short cache.
STABLE_CACHE = "public, max-age=300"
STABLE_NAMES = {"widget/loader.js"}
# Under inbox/ but named by digest (the operator pages' compiled modules, build.PAGE_MODULES_DIR).
HASHED_FOLDERS = ("inbox/py/",)


def cache_control(name: str) -> str:
    """Unhashed names (loader, inbox files, static/) revalidate; hashed ones never change."""
    if name.startswith(HASHED_FOLDERS):
        return IMMUTABLE
    if name in STABLE_NAMES or name.startswith(("inbox/", "static/")):
        return STABLE_CACHE
    return IMMUTABLE


class DistFiles:
    def __init__(self, dist: Path) -> None:
        self.dist = dist
        self.manifest = json.loads((dist / "manifest.json").read_text())
        self.files = self.manifest["files"]

    def page_script(self, page: str) -> dict:
        """An operator page's script: its URL ("main") and PyScript `files` (module URL ->
        ./<name>.mpy), as build.py derived them from the page's imports."""
        return self.manifest.get("pages", {}).get(page) or {"main": f"/static/{page}/main.py", "files": {}}

    async def serve(self, request: Request, name: str) -> Response:
        entry = self.files.get(name)
        if entry is None:
            return PlainTextResponse("not found", status_code=404)
        accepted = request.headers.get("accept-encoding", "")
        path = self.dist / name
        headers = {
            "Cache-Control": cache_control(name),
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "X-Content-Type-Options": "nosniff",
            "Vary": "Accept-Encoding",
            "ETag": f'"{entry["sha256"][:16]}"',
        }
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        if "brotli" in entry and "br" in accepted:
            path = path.with_name(path.name + ".br")
            headers["Content-Encoding"] = "br"
        elif "gzip" in entry and "gzip" in accepted:
            path = path.with_name(path.name + ".gz")
            headers["Content-Encoding"] = "gzip"
        media_type = MEDIA_TYPES.get(Path(name).suffix, "application/octet-stream")
        return FileResponse(path, media_type=media_type, headers=headers)
