"""parley.rules: one rule per input, the same in the CLI, the admin screens, the inbox and
the widget; and the web app does not import the command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from parley import rules
from widget.core.validation import looks_like_email

EMAILS_TAKEN = ("ann@shop.example", "a.b+c@x.co", "  Ann@Shop.Example ")
EMAILS_REFUSED = ("ann", "ann@shop", "a@b@c.d", "a b@c.d", "@c.d", "a@b..com", "a@.b.com", "a@b.com.",
                  "a@" + "b" * 320 + ".com")


@pytest.mark.parametrize("email", EMAILS_TAKEN)
def test_an_email_the_server_takes_the_widget_takes(email):
    assert rules.email(email) == email.strip()
    assert looks_like_email(email)


@pytest.mark.parametrize("email", EMAILS_REFUSED)
def test_an_email_the_widget_refuses_the_server_refuses(email):
    assert not looks_like_email(email)
    with pytest.raises(rules.InvalidInput) as refused:
        rules.email(email, "--email")
    assert refused.value.field == "--email" and str(refused.value).startswith("--email is not an email")


def test_the_cli_refuses_a_double_dot_in_the_domain(capsys, database, make_app):
    # The admin API's own tests refuse it too (test_admin_api: operator create).
    from parley import cli

    app = make_app()
    code = cli.main(["operator", "create", "--app", app.id, "--email", "a@b..com", "--password",
                     "long enough", "--db", database.url])
    _, err = capsys.readouterr()
    assert code == 2 and "--email is not an email address: 'a@b..com'" in err


def test_names_and_passwords_have_one_rule():
    assert rules.name("  Shop  ") == "Shop"
    for bad in ("", "   ", "x" * 201, None, 5):
        with pytest.raises(rules.InvalidInput):
            rules.name(bad)
    assert rules.password("8 chars!") == "8 chars!"
    for bad in ("short", "x" * 501, None):
        with pytest.raises(rules.InvalidInput):
            rules.password(bad, "newPassword")


def test_importing_the_web_app_does_not_import_the_cli():
    # The CLI imports the web app to serve it; the other way round was a cycle
    # (web/admin_api took the CLI's validators).
    script = "import sys, parley.web.app; print('parley.cli' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False", result.stderr
