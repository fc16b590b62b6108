"""A stand-in customer website on another origin, with the snippet pasted in.

Real sites embed the widget cross-origin; the demo does too, so what the demo
shows is what a customer gets.
"""

from __future__ import annotations

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from parley.snippet import render_snippet
from parley.web.templates import templates


def create_demo_site(app_id: str, server_url: str) -> Starlette:
    snippet = Markup(render_snippet(app_id, server_url))

    async def page(request: Request):
        name = request.path_params.get("name", "")
        return templates.TemplateResponse(request, "demo.html", {"snippet": snippet, "page": name or "home"})

    return Starlette(routes=[Route("/", page), Route("/{name:str}", page)])
