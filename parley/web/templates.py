"""The HTML pages' one template object (parley/templates/*.html, autoescaped).

The snippet keeps its own environment in parley.snippet: it renders JavaScript for
the command line too (which must not import the web layer), strictly, unescaped.
"""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.templating import Jinja2Templates

from parley.settings import TEMPLATES

templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(str(TEMPLATES)),
                                            autoescape=select_autoescape(["html"])))
