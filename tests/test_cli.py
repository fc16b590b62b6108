"""The `parley` CLI contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from parley.cli import main

SPEC = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "003_ea97bea839cf218e.txt"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PARLEY_DATA", str(tmp_path))
    monkeypatch.delenv("PARLEY_DB", raising=False)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_app_create_prints_id_and_secret(capsys):
    code, out, _ = run(capsys, "app", "create", "--name", "Shop", "--origin", "https://Shop.Example/")
    assert code == 0
    app = json.loads(out)
    assert re.fullmatch(r"[0-9a-f]{24}", app["appId"]) and len(app["secret"]) >= 40
    assert app["origins"] == ["https://shop.example"]
    code, out, _ = run(capsys, "app", "list")
    assert [a["appId"] for a in json.loads(out)] == [app["appId"]]


@pytest.mark.parametrize("origin", ["shop.example", "https://shop.example/path", "ftp://x.y", "https://"])
def test_app_create_rejects_bad_origins(capsys, origin):
    code, _, err = run(capsys, "app", "create", "--name", "Shop", "--origin", origin)
    assert code == 2 and "--origin must be scheme://host[:port]" in err


def test_operator_create_validates(capsys):
    _, out, _ = run(capsys, "app", "create", "--name", "Shop")
    app_id = json.loads(out)["appId"]
    code, out, _ = run(capsys, "operator", "create", "--app", app_id, "--email", "Ann@Shop.example",
                       "--password", "correct horse", "--name", "Ann")
    assert code == 0 and json.loads(out)["email"] == "ann@shop.example"
    assert run(capsys, "operator", "create", "--app", app_id, "--email", "ann@shop.example",
               "--password", "correct horse")[0] == 2
    assert run(capsys, "operator", "create", "--app", "nope", "--email", "b@shop.example",
               "--password", "correct horse")[0] == 2
    assert run(capsys, "operator", "create", "--app", app_id, "--email", "not-an-email",
               "--password", "correct horse")[0] == 2
    assert run(capsys, "operator", "create", "--app", app_id, "--email", "c@shop.example",
               "--password", "short")[0] == 2


def test_snippet_is_the_chaport_minimal_installation_code(capsys):
    code, out, _ = run(capsys, "snippet", "--app-id", "abc123", "--server", "https://chat.example.com/")
    assert code == 0
    assert len(out.encode()) < 1024
    spec = SPEC.read_text()
    start = spec.index("(function(w,d,v3){")
    minimal = spec[start:spec.index("(window, document);", start) + len("(window, document);")]
    expected = (minimal.replace("<insertYourId>", "abc123")
                .replace("https://app.chaport.com/javascripts/insert.js",
                         "https://chat.example.com/widget/loader.js"))
    assert out == f'<script type="text/javascript">\n{expected}\n</script>\n'


def test_snippet_escapes_what_could_break_out(capsys):
    code, out, _ = run(capsys, "snippet", "--app-id", "x'</script><b>", "--server", "https://c.example")
    assert code == 0
    assert "</script><b>" not in out and "\\'" in out


def test_app_set_changes_origins_and_default_assignment_rules(capsys):
    _, out, _ = run(capsys, "app", "create", "--name", "Shop", "--origin", "https://shop.example")
    app_id = json.loads(out)["appId"]
    rules = '[{"sales-team": ["page_url", "contains", "pricing"]}, {"john-id": true}]'
    code, out, _ = run(capsys, "app", "set", "--app", app_id, "--name", "Shop 2",
                       "--origin", "https://b.example", "--assignment-rules", rules)
    assert code == 0
    changed = json.loads(out)
    assert changed["name"] == "Shop 2" and changed["origins"] == ["https://b.example"]
    assert changed["assignmentRules"] == json.loads(rules)
    code, out, _ = run(capsys, "app", "set", "--app", app_id, "--clear-origins")
    assert json.loads(out)["origins"] == []


@pytest.mark.parametrize("rules, message", [
    ("not json", "is not JSON"),
    ('{"a": true}', "must be a JSON array"),
    ('[{"team": ["nope", "=", "x"]}]', "must be a parameter key"),
    ('[{"team": ["page_url", "~", "x"]}]', "must be a matcher"),
    ('[{"a": true, "b": true}]', "single"),
])
def test_app_set_rejects_bad_rules(capsys, rules, message):
    _, out, _ = run(capsys, "app", "create", "--name", "Shop")
    app_id = json.loads(out)["appId"]
    code, _, err = run(capsys, "app", "set", "--app", app_id, "--assignment-rules", rules)
    assert code == 2 and message in err, err


def test_app_set_needs_a_change_and_a_known_app(capsys):
    assert run(capsys, "app", "set", "--app", "nope", "--name", "x")[0] == 2
    _, out, _ = run(capsys, "app", "create", "--name", "Shop")
    assert run(capsys, "app", "set", "--app", json.loads(out)["appId"])[0] == 2
