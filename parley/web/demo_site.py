"""A stand-in customer website on another origin, with the snippet pasted in.

Real sites embed the widget cross-origin; the demo does too, so what the demo
shows is what a customer gets.
"""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from parley.settings import TEMPLATES
from parley.snippet import render_snippet

_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def create_demo_site(app_id: str, server_url: str) -> Starlette:
    snippet = Markup(render_snippet(app_id, server_url))

    async def page(request: Request):
        name = request.path_params.get("name", "")
        html = _env.get_template("demo.html").render(snippet=snippet, page=name or "home")
        return HTMLResponse(html)

    return Starlette(routes=[Route("/", page), Route("/{name:str}", page)])
