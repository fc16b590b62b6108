"""A real bot (examples/bot.py, a `--role bot` login on parley.client) holds a conversation
with a visitor in the widget and hands it over to a human in the inbox (issue 15).

The widget shows the bot's turns as the bot's and fires Chaport's `chat.botSent` for
each, once; the inbox marks them with the bot's name; the human takes over.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from playwright.sync_api import expect

from e2e.helpers import load, type_message, wait_until
from e2e.inbox_helpers import PASSWORD, create_operator, open_chat_of, open_tab

ROOT = Path(__file__).resolve().parents[1]
WINDOW = "iframe[data-parley=window]"
SHIPPING = "We ship to all of Europe"
RECORD_BOT_SENT = """window.botSent = [];
window.chaport.on('chat.botSent', function (d) { window.botSent.push(d); });"""


def test_a_bot_login_answers_in_the_widget_and_hands_over_in_the_inbox(browser, page, host_site, parley):
    # An app of its own: no other test's operator is online in it, so the chat starts unassigned.
    app = parley.cli("app", "create", "--name", "Bot shop", "--origin", host_site.origin)
    bot = parley.cli("operator", "create", "--app", app["appId"], "--email", "faq@bot.example",
                     "--password", PASSWORD, "--name", "Shop bot", "--role", "bot")
    human = create_operator(parley, app["appId"], "olivia@bot.example", "Olivia")
    running = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "bot.py"), "--server", parley.url,
         "--email", "faq@bot.example", "--handover-to", human["operatorId"]],
        env={**os.environ, "PARLEY_BOT_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said: list[str] = []
    answering = threading.Event()

    def read_output() -> None:
        for line in running.stdout:
            said.append(line)
            if "answering as" in line:
                answering.set()
        answering.set()  # the bot ended: the assertion below says so

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        # The bot is logged in and on the live feed before the visitor writes.
        assert answering.wait(30) and running.poll() is None, "".join(said)
        load(page, host_site, parley, app, "bot-shop", after=RECORD_BOT_SENT)
        page.evaluate("chaport.open()")
        window = page.frame_locator(WINDOW)
        type_message(page, "Hi! Do you ship to Norway?")
        # The bot's answer, drawn as the bot's (not an operator's), and announced once.
        expect(window.locator(".msg.bot .bubble", has_text=SHIPPING)).to_be_visible(timeout=20_000)
        wait_until(page, lambda: page.evaluate("window.botSent.length") == 1, what="chat.botSent")
        sent = page.evaluate("window.botSent[0]")
        assert sent["id"] == bot["operatorId"] and sent["message"].startswith(SHIPPING), sent
        assert window.locator(".msg.operator").count() == 0

        with open_tab(browser, parley.url) as inbox:
            inbox.log_in("olivia@bot.example")
            open_chat_of(inbox, SHIPPING)  # the list shows the last word: the bot's
            turn = inbox.page.locator(".msg.bot", has_text=SHIPPING)
            expect(turn).to_be_visible()
            expect(turn.locator(".meta")).to_contain_text("Shop bot")

            type_message(page, "I'd like a human, please")
            # The bot is another process (a chat client) answering through the server: under a
            # full suite's load its turn took more than expect's default 5 s once.
            handover = window.locator(".msg.bot .bubble", has_text="handing you over")
            expect(handover).to_be_visible(timeout=20_000)
            composer = inbox.page.locator("#composer textarea")
            composer.fill("Hi, Olivia here.")
            composer.press("Enter")
            expect(window.locator(".msg.operator .bubble", has_text="Hi, Olivia here.")).to_be_visible(
                timeout=20_000)
        # Two bot answers, each announced once: nothing more for the human's reply.
        assert page.evaluate("window.botSent.length") == 2
    finally:
        running.terminate()
        running.wait(timeout=10)
        reader.join(timeout=10)
    assert "Traceback" not in "".join(said), "".join(said)
