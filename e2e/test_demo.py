"""`parley serve --demo` as a new user meets it: printed URLs and login lead to a real chat."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from playwright.sync_api import expect

from e2e.helpers import ROOT
from tests.helpers.ports import free_port


def test_demo_leads_from_the_printed_urls_to_an_answered_chat(browser, built_dist, tmp_path):
    port = free_port()
    env = {**os.environ, "PARLEY_DATA": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "parley", "serve", "--demo", "--port", str(port), "--demo-port",
         str(free_port()), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        printed = ""
        deadline = time.monotonic() + 60
        while "Press Ctrl+C" not in printed and time.monotonic() < deadline:
            printed += process.stdout.readline()
        site = re.search(r"Demo website \(widget on it\): (\S+)", printed).group(1)
        inbox = re.search(r"Operator inbox:\s+(\S+)", printed).group(1)
        email, password = re.search(r"Operator login:\s+(\S+) / (\S+)", printed).groups()

        errors: list[str] = []
        visitor = browser.new_context().new_page()
        visitor.on("pageerror", lambda error: errors.append(str(error)))
        visitor.goto(site)
        visitor.click("#open-chat")  # the demo page's own button: chaport.q('open')
        visitor.wait_for_function("chaport.getWidgetState && chaport.getWidgetState() === 'expanded'",
                                  timeout=20_000)
        composer = visitor.frame_locator("iframe[data-parley=window]").locator("form.composer textarea")
        composer.fill("Hi, is this bike in stock?")
        composer.press("Enter")

        operator = browser.new_context().new_page()
        operator.on("pageerror", lambda error: errors.append(str(error)))
        operator.goto(inbox)
        expect(operator.get_by_label("Email")).to_be_visible(timeout=30_000)
        operator.get_by_label("Email").fill(email)
        operator.get_by_label("Password").fill(password)
        operator.get_by_label("Password").press("Enter")
        chat = operator.locator(".chat-item", has_text="Hi, is this bike in stock?")
        expect(chat).to_be_visible(timeout=20_000)
        chat.click()
        operator.get_by_label("Reply").fill("Yes, ready to ship today!")
        operator.get_by_label("Reply").press("Enter")
        answer = visitor.frame_locator("iframe[data-parley=window]").locator(".msg.operator .bubble").first
        answer.wait_for(timeout=20_000)
        assert answer.text_content() == "Yes, ready to ship today!"
        assert errors == []
        visitor.context.close()
        operator.context.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
