"""The installation snippet: byte for byte the shape of Chaport's."""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from parley.settings import TEMPLATES

_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, autoescape=False)


def _js_string(value: str) -> str:
    # Inside single quotes in a <script>: escape what could end either.
    return (value.replace("\\", "\\\\").replace("'", "\\'").replace("<", "\\x3c")
            .replace("\n", "\\n").replace("\r", "\\r"))


def loader_url(server_url: str) -> str:
    return server_url.rstrip("/") + "/widget/loader.js"


def render_snippet(app_id: str, server_url: str) -> str:
    """The snippet a site owner pastes before </body>."""
    return _env.get_template("snippet.html.j2").render(
        app_id=_js_string(app_id), loader_url=_js_string(loader_url(server_url))
    )
