"""End-to-end fixtures: a real Parley server, a host website on another origin,
and a real Chromium driven by Playwright.

The host site is a separate HTTP server (another port = another origin), as a
customer's website would be. Any uncaught error on a page fails the test.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from e2e.helpers import HostSite, ParleyServer
from e2e.inbox_helpers import Inbox, RawVisitor, create_operator, open_tab
from e2e.operator import ScriptedOperator

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# The spec's "Minimal installation code", with only appId and the script URL changed.
MINIMAL_INSTALL = """(function(w,d,v3){
w.chaportConfig = {
appId : '%(app_id)s',
// Put your configuration options here
};
if(w.chaport)return;v3=w.chaport={};v3._q=[];v3._l={};v3.q=function(){v3._q.push(arguments)};v3.on=function(e,fn){if(!v3._l[e])v3._l[e]=[];v3._l[e].push(fn)};var s=d.createElement('script');s.type='text/javascript';s.async=true;s.src='%(loader)s';var ss=d.getElementsByTagName('script')[0];ss.parentNode.insertBefore(s,ss)})(window, document);"""  # noqa: E501 - verbatim spec


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def host_site(tmp_path_factory) -> HostSite:
    return HostSite(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="session")
def parley(tmp_path_factory, host_site, built_dist) -> Iterator[ParleyServer]:
    server = ParleyServer(tmp_path_factory.mktemp("parley"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app(parley, host_site) -> dict:
    created = parley.cli("app", "create", "--name", "E2E site", "--origin", host_site.origin)
    # The tests' visitors ask for transcripts to addresses no site signed.
    parley.cli("app", "set", "--app", created["appId"], "--transcripts-to-any-email")
    return created


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.fail("no Chromium found: run scripts/test (installs Debian's chromium) or set CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class PageLog:
    """What a page said: console messages and uncaught errors."""

    def __init__(self) -> None:
        self.console: list[ConsoleMessage] = []
        self.errors: list[str] = []

    def messages(self, kind: str | None = None) -> list[str]:
        return [m.text for m in self.console if kind is None or m.type == kind]

    def parley(self, kind: str | None = None) -> list[str]:
        return [t for t in self.messages(kind) if t.startswith("[parley]")]


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser, page_log) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.on("console", lambda message: page_log.console.append(message))
    page.on("pageerror", lambda error: page_log.errors.append(str(error)))
    yield page
    context.close()
    assert not page_log.errors, f"uncaught errors on the page: {page_log.errors}"


@pytest.fixture
def install(app, parley):
    """Returns the minimal installation code for this test's app and server."""
    def render(app_id: str | None = None, loader: str | None = None) -> str:
        return MINIMAL_INSTALL % {"app_id": app_id or app["appId"], "loader": loader or parley.loader}
    return render


# -- Parley's own pages: an operator's inbox tab, operators, a raw visitor (e2e/inbox_helpers.py)

_operators = itertools.count()


@pytest.fixture
def inbox(browser, parley) -> Iterator[Inbox]:
    """An operator's inbox tab at 1280x800; no uncaught errors, no request off its origin."""
    with open_tab(browser, parley.url) as tab:
        yield tab


@pytest.fixture
def operator_email(parley, app) -> str:
    """A new operator named Olivia (password inbox_helpers.PASSWORD); her email."""
    email = f"inbox{next(_operators)}@shop.example"
    create_operator(parley, app["appId"], email, "Olivia")
    return email


@pytest.fixture
def raw_visitor(parley, app, host_site) -> Iterator[RawVisitor]:
    visitor = RawVisitor(parley.url, app["appId"], host_site.origin)
    yield visitor
    visitor.close()


# -- scripted operators on the raw socket (e2e/operator.py) -------------------------------------

_scripted = itertools.count()


@pytest.fixture
def operator(parley, app) -> Iterator[ScriptedOperator]:
    """A new operator of the session's app (no name), logged in on a raw socket."""
    email = f"op{next(_scripted)}@shop.example"
    parley.cli("operator", "create", "--app", app["appId"], "--email", email, "--password", "correct horse")
    scripted = ScriptedOperator(parley.url, app["appId"], email, "correct horse")
    yield scripted
    scripted.close()


@pytest.fixture
def ann(parley, app) -> Iterator[ScriptedOperator]:
    """A new operator named Ann Lee of the session's app, logged in on a raw socket."""
    email = f"ann{next(_scripted)}@shop.example"
    parley.cli("operator", "create", "--app", app["appId"], "--email", email, "--password", "correct horse",
               "--name", "Ann Lee")
    scripted = ScriptedOperator(parley.url, app["appId"], email, "correct horse")
    yield scripted
    scripted.close()
