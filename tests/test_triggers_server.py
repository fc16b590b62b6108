"""Server triggers: `parley trigger`/`parley team` CLI and `welcome.triggers` (this app's only)."""

from __future__ import annotations

import json
import re

import pytest

from parley import rules
from parley.cli import main
from parley.storage import operator_queries, trigger_queries
from tests.helpers.db import run
from tests.helpers.sockets import ORIGIN, visitor
from widget.core.triggers import normalise_trigger


def parley(capsys, database, *args) -> tuple[int, object, str]:
    """Runs the CLI against the test database; returns (exit code, parsed stdout, stderr)."""
    try:
        code = main([*args, "--db", database.url])
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else out), err


@pytest.mark.parametrize(("when", "condition"), [
    ("page_url contains pricing", ["page_url", "contains", "pricing"]),
    ("country = US", ["country", "=", "US"]),
    ("  utm_campaign   !contains  spring sale ", ["utm_campaign", "!contains", "spring sale"]),
    ("message_text >= 10", ["message_text", ">=", "10"]),
    ("language != es", ["language", "!=", "es"]),
    ("referrer_url lte b", ["referrer_url", "lte", "b"]),
])
def test_parse_condition(when, condition):
    assert rules.condition(when) == condition


def test_trigger_add_list_remove(capsys, database, make_app):
    app = make_app([ORIGIN])
    code, added, _ = parley(capsys, database, "trigger", "add", "--app", app.id, "--message", "Need help?",
                            "--kind", "bot", "--delay", "5", "--name", "pricing",
                            "--when", "page_url contains pricing", "--when", "country = US")
    assert code == 0 and re.fullmatch(r"[0-9a-f]{24}", added["triggerId"])
    assert added == {"triggerId": added["triggerId"], "appId": app.id, "name": "pricing", "kind": "bot",
                     "message": "Need help?", "delay": 5,
                     "conditions": [["page_url", "contains", "pricing"], ["country", "=", "US"]],
                     "enabled": True}
    code, plain, _ = parley(capsys, database, "trigger", "add", "--app", app.id, "--message", "Hi",
                            "--disabled")
    assert code == 0
    assert (plain["kind"], plain["delay"], plain["conditions"], plain["enabled"]) == (
        "invitation", 0, [], False)
    code, listed, _ = parley(capsys, database, "trigger", "list", "--app", app.id)
    assert code == 0 and [t["triggerId"] for t in listed] == [added["triggerId"], plain["triggerId"]]
    code, removed, _ = parley(capsys, database, "trigger", "remove", "--app", app.id,
                              "--id", added["triggerId"])
    assert code == 0 and removed == {"triggerId": added["triggerId"], "removed": True}
    code, listed, _ = parley(capsys, database, "trigger", "list", "--app", app.id)
    assert [t["triggerId"] for t in listed] == [plain["triggerId"]]
    code, _, err = parley(capsys, database, "trigger", "remove", "--app", app.id, "--id", added["triggerId"])
    assert code == 2 and err.startswith("parley: error: ") and "no trigger" in err


@pytest.mark.parametrize(("args", "says"), [
    (["--when", "page_url contains"], "--when must be '<parameter> <matcher> <value>'"),
    (["--when", "page_url"], "--when must be"),
    (["--when", ""], "--when must be"),
    (["--when", "page contains x"], "unknown parameter 'page'"),
    (["--when", "page_url like x"], "unknown matcher 'like'"),
    (["--when", "page_url == x"], "unknown matcher '=='"),
    (["--when", "country = US", "--when", "bad"], "--when must be"),
    (["--delay", "-1"], "--delay must be 0 to 86400"),
    (["--message", "   "], "--message must be 1 to 5000"),
    (["--app", "nope"], "no app with id 'nope'"),
])
def test_trigger_add_rejects_bad_input(capsys, database, make_app, args, says):
    app = make_app([ORIGIN])
    # Later flags win in argparse: `args` may replace --app or --message.
    code, out, err = parley(capsys, database, "trigger", "add", "--app", app.id, "--message", "Hello", *args)
    assert code == 2 and out == ""
    assert err.startswith("parley: error: ") and says in err, err
    assert run(database, lambda s: trigger_queries.list_triggers(s, app.id)) == []


@pytest.mark.parametrize("args", [["--kind", "popup"], ["--delay", "soon"]])
def test_trigger_add_argparse_errors_exit_2(capsys, database, make_app, args):
    app = make_app([ORIGIN])
    code, _, err = parley(capsys, database, "trigger", "add", "--app", app.id, "--message", "Hi", *args)
    assert code == 2 and "error" in err


def test_trigger_list_and_remove_stay_in_their_app(capsys, database, make_app):
    one, two = make_app([ORIGIN]), make_app([ORIGIN])
    _, added, _ = parley(capsys, database, "trigger", "add", "--app", one.id, "--message", "One")
    code, listed, _ = parley(capsys, database, "trigger", "list", "--app", two.id)
    assert code == 0 and listed == []
    code, _, err = parley(capsys, database, "trigger", "remove", "--app", two.id, "--id", added["triggerId"])
    assert code == 2 and "no trigger" in err
    assert len(run(database, lambda s: trigger_queries.list_triggers(s, one.id))) == 1
    assert parley(capsys, database, "trigger", "list", "--app", "nope")[0] == 2


def test_welcome_carries_this_apps_triggers_only(client, capsys, database, make_app):
    shop, other = make_app([ORIGIN]), make_app([ORIGIN])
    _, pricing, _ = parley(capsys, database, "trigger", "add", "--app", shop.id, "--message", "Questions?",
                           "--kind", "bot", "--delay", "3", "--when", "page_url contains pricing")
    _, off, _ = parley(capsys, database, "trigger", "add", "--app", shop.id, "--message", "Off",
                       "--disabled")
    parley(capsys, database, "trigger", "add", "--app", other.id, "--message", "Other app's")
    with visitor(client, shop.id) as tab:
        triggers = tab.first["triggers"]
    assert triggers == [
        {"id": pricing["triggerId"], "message": "Questions?", "kind": "bot", "delay": 3,
         "conditions": [["page_url", "contains", "pricing"]], "enabled": True},
        {"id": off["triggerId"], "message": "Off", "kind": "invitation", "delay": 0, "conditions": [],
         "enabled": False},
    ]
    # The widget takes them as they are.
    for trigger in triggers:
        assert normalise_trigger(trigger) == (trigger, None)
    with visitor(client, other.id) as tab:
        assert [t["message"] for t in tab.first["triggers"]] == ["Other app's"]
    fresh = make_app([ORIGIN])
    with visitor(client, fresh.id) as tab:
        assert tab.first["triggers"] == []


# -- teams -----------------------------------------------------------------------------

def test_team_create_and_add_member(capsys, database, make_app):
    app, other = make_app([ORIGIN]), make_app([ORIGIN])
    ann = run(database, lambda s: operator_queries.create_operator(s, app.id, "ann@shop.example", "password1",
                                                                   "Ann"))
    eve = run(database, lambda s: operator_queries.create_operator(s, other.id, "eve@x.example", "password1",
                                                                   "Eve"))
    code, team, _ = parley(capsys, database, "team", "create", "--app", app.id, "--name", "Sales")
    assert code == 0 and re.fullmatch(r"[0-9a-f]{24}", team["teamId"]) and team["name"] == "Sales"
    code, added, _ = parley(capsys, database, "team", "add-member", "--app", app.id,
                            "--team", team["teamId"], "--operator", ann.id)
    assert code == 0 and added["operatorIds"] == [ann.id]
    # Adding twice is harmless.
    code, added, _ = parley(capsys, database, "team", "add-member", "--app", app.id,
                            "--team", team["teamId"], "--operator", ann.id)
    assert code == 0 and added["operatorIds"] == [ann.id]
    # Another app's operator or team is not found.
    code, _, err = parley(capsys, database, "team", "add-member", "--app", app.id,
                          "--team", team["teamId"], "--operator", eve.id)
    assert code == 2 and "no operator" in err
    code, _, err = parley(capsys, database, "team", "add-member", "--app", other.id,
                          "--team", team["teamId"], "--operator", eve.id)
    assert code == 2 and "no team" in err
    code, _, err = parley(capsys, database, "team", "create", "--app", app.id, "--name", " ")
    assert code == 2 and err.startswith("parley: error: --name")
    assert parley(capsys, database, "team", "create", "--app", "nope", "--name", "X")[0] == 2
