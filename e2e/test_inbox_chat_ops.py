"""The inbox's chat operations in a real browser: transfer a chat to a second operator
(who finds it under Mine), internal notes a widget visitor never sees, a canned
response inserted with /thanks and sent, and close then reopen (the widget's rating
panel goes away again).

The operators are PyScript inboxes in their own browser contexts; visitors are the
real widget on the host site (another origin) or the raw visitor socket, where a
test needs to see exactly which frames the visitor gets.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from e2e.helpers import open_page, type_message, wait_ready
from e2e.inbox_helpers import Inbox, create_operator, open_chat_of, open_tab

WINDOW = "iframe[data-parley=window]"
_people = itertools.count()


@pytest.fixture
def make_operator(parley, app):
    """Creates an operator with a unique name; returns (id, email, name)."""
    def make(first_name: str) -> tuple[str, str, str]:
        n = next(_people)
        name = f"{first_name} {n}"
        email = f"ops{n}-{first_name.lower()}@shop.example"
        created = create_operator(parley, app["appId"], email, name)
        return created["operatorId"], email, name
    return make


@pytest.fixture
def second_inbox(browser, parley) -> Iterator[Inbox]:
    with open_tab(browser, parley.url, what="the second inbox") as tab:
        yield tab


def tab(inbox: Inbox, name: str):
    return inbox.page.get_by_role("tab", name=re.compile("^" + name))


def test_transfer_to_a_second_operator_who_finds_it_under_mine(
        inbox, second_inbox, make_operator, raw_visitor):
    olivia_id, olivia_email, olivia = make_operator("Olivia")
    bob_id, bob_email, bob = make_operator("Bob")
    second_inbox.log_in(bob_email)
    inbox.log_in(olivia_email)
    op, other = inbox.page, second_inbox.page

    question = raw_visitor.say("Please put me through to billing", assignees=[olivia_email])
    # Olivia's own tab counts it as unread; it is hers, so it is not unassigned.
    row = inbox.chat_row("Please put me through to billing")
    expect(row).to_be_visible(timeout=15_000)
    expect(tab(inbox, "Mine")).to_have_accessible_name("Mine, 1 unread")
    tab(inbox, "Unassigned").click()
    expect(row).to_be_hidden()
    tab(inbox, "Mine").click()
    expect(tab(inbox, "Mine")).to_have_attribute("aria-selected", "true")
    expect(row).to_be_visible()
    op.keyboard.press("ArrowRight")  # arrow keys move between the tabs
    expect(tab(inbox, "All open")).to_be_focused()
    expect(tab(inbox, "All open")).to_have_attribute("aria-selected", "true")
    row.click()
    expect(op.locator("#conv-assignee")).to_have_text(f"Assigned to {olivia}")
    expect(tab(inbox, "Mine")).to_have_accessible_name("Mine")  # read now

    # Bob has nothing of it yet.
    tab(second_inbox, "Mine").click()
    expect(second_inbox.chat_row("Please put me through to billing")).to_have_count(0)

    # Transfer: pick Bob (he is online) and assign.
    assign_to = op.get_by_label("Assign to")
    expect(assign_to.locator(f'option[value="operator:{bob_id}"]')).to_have_text(f"{bob} (online)")
    assign_to.select_option(f"operator:{bob_id}")
    op.get_by_role("button", name="Assign", exact=True).click()
    expect(op.locator("#conv-assignee")).to_have_text(f"Assigned to {bob}")
    expect(op.locator("#log .msg.system")).to_have_text([f"{olivia} joined the chat",
                                                          f"{olivia} assigned the chat to {bob}"])
    line = raw_visitor.event("message", lambda e: (e["message"]["system"] or {}).get("by") == olivia_id)
    assert line["message"]["system"] == {"code": "assigned", "operatorId": bob_id, "by": olivia_id}
    assert line["message"]["chatId"] == question["chatId"]

    # Bob sees it under Mine, live, and can answer; Olivia's Mine no longer lists it.
    bob_row = second_inbox.chat_row("Please put me through to billing")
    expect(bob_row).to_be_visible(timeout=15_000)
    bob_row.click()
    expect(other.locator("#conv-assignee")).to_have_text(f"Assigned to {bob}")
    reply = other.get_by_label("Reply")
    reply.fill("Hi, Bob from billing here.")
    reply.press("Enter")
    raw_visitor.event("message", lambda e: e["message"]["text"] == "Hi, Bob from billing here.")
    tab(inbox, "Mine").click()
    expect(row).to_be_hidden()


def test_internal_notes_never_reach_the_widget_and_close_then_reopen(
        page, host_site, parley, app, inbox, make_operator):
    _id, email, olivia = make_operator("Olivia")
    inbox.log_in(email)
    op = inbox.page
    open_page(page, host_site, parley, app, "notes-visitor")
    page.evaluate("chaport.open()")
    type_message(page, "Can I return a used kettle?")
    open_chat_of(inbox, "Can I return a used kettle?")
    log = op.locator("#log")

    # A note: the toggle switches the composer, the note shows labelled, yellow, as a note.
    note = "Note for the team: this customer returned two kettles already"
    toggle = op.get_by_role("button", name="Internal note")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(op.locator("#composer")).to_have_class(re.compile(r"\bnote-mode\b"))
    expect(op.get_by_role("button", name="Add note")).to_be_visible()
    expect(op.get_by_role("button", name="Attach a file")).to_be_hidden()
    box = op.locator("#reply")
    box.fill(note)
    box.press("Enter")
    expect(log.locator(".msg.note .bubble")).to_have_text([note])
    expect(log.locator(".msg.note .note-label")).to_have_text(["Internal note"])
    expect(log.locator(".msg.note .meta")).to_have_text([re.compile(r"^You · \d\d:\d\d$")])
    expect(log.locator(".msg.pending")).to_have_count(0)
    background = log.locator(".msg.note .bubble").evaluate("node => getComputedStyle(node).backgroundColor")
    assert background == "rgb(255, 247, 214)"
    # The chat list still previews the visitor's question, not the note.
    expect(op.locator(".chat-item[aria-current=true] .preview")).to_have_text("Can I return a used kettle?")

    # Back to replies: this one reaches the visitor, the note never does.
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    box.fill("Yes, within 30 days.")
    box.press("Enter")
    window = page.frame_locator(WINDOW)
    expect(window.locator(".msg.operator .bubble")).to_have_text(["Yes, within 30 days."], timeout=15_000)
    assert "returned two kettles" not in window.locator("body").inner_text()
    # Not after a reload either (history), nor in the host page.
    page.reload()
    wait_ready(page)
    page.evaluate("chaport.open()")
    expect(window.locator(".msg.operator .bubble")).to_have_text(["Yes, within 30 days."], timeout=15_000)
    assert "returned two kettles" not in window.locator("body").inner_text()
    assert "returned two kettles" not in page.content()
    # The inbox still has it after a reload (operators' history).
    op.reload()
    inbox.wait_live()
    open_chat_of(inbox, "Yes, within 30 days.")
    expect(log.locator(".msg.note .bubble")).to_have_text([note])

    # Close: the widget offers its rating. Reopen: the panel goes, the composer is back.
    panel = window.locator("section.end")
    op.get_by_role("button", name="Close chat").click()
    expect(op.get_by_role("button", name="Reopen chat")).to_be_visible()
    expect(op.get_by_label("Reply")).to_be_hidden()
    expect(panel).to_be_visible(timeout=15_000)
    op.get_by_role("button", name="Reopen chat").click()
    expect(op.get_by_role("button", name="Close chat")).to_be_visible()
    expect(op.get_by_label("Reply")).to_be_visible()
    expect(log.locator(".msg.system").last).to_have_text(f"{olivia} reopened the chat")
    expect(panel).to_be_hidden(timeout=15_000)
    expect(window.locator(".msg.system .bubble").last).to_have_text("Chat reopened")
    # The visitor's next message goes to the same, reopened chat.
    type_message(page, "One more question then")
    expect(log.locator(".msg.visitor .bubble").last).to_have_text("One more question then")
    assert "returned two kettles" not in window.locator("body").inner_text()


def test_canned_response_inserted_with_slash_and_sent(inbox, make_operator, raw_visitor):
    _id, email, _name = make_operator("Olivia")
    inbox.log_in(email)
    op = inbox.page

    # Add two canned responses in the dialog.
    op.get_by_role("button", name="Canned responses").click()
    dialog = op.get_by_role("dialog", name="Canned responses")
    expect(dialog).to_be_visible()
    for shortcut, text in (("thanks", "Thank you for contacting us! Anything else I can do?"),
                           ("thx-bye", "Thanks, and have a nice day!")):
        dialog.get_by_label("Shortcut").fill(shortcut)
        dialog.get_by_label("Text").fill(text)
        dialog.get_by_role("button", name="Add").click()
        expect(dialog.get_by_role("status")).to_have_text(f"Saved /{shortcut}.", timeout=15_000)
    expect(dialog.locator(".canned-item .shortcut")).to_have_text(["/thanks", "/thx-bye"])
    # A bad shortcut is explained, and a taken one too.
    dialog.get_by_label("Shortcut").fill("no spaces")
    dialog.get_by_label("Text").fill("x")
    dialog.get_by_role("button", name="Add").click()
    expect(dialog.get_by_role("alert")).to_have_text(re.compile("^The shortcut must be"))
    dialog.get_by_label("Shortcut").fill("thanks")
    dialog.get_by_role("button", name="Add").click()
    expect(dialog.get_by_role("alert")).to_have_text("The shortcut /thanks is taken: choose another.")
    # Edit one, then close with Escape.
    dialog.get_by_role("button", name="Edit /thx-bye").click()
    dialog.get_by_label("Text").fill("Thanks, and have a great day!")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.locator(".canned-item .text").last).to_have_text("Thanks, and have a great day!")
    op.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    raw_visitor.say("Thanks, that was all")
    open_chat_of(inbox, "Thanks, that was all")
    box = op.get_by_label("Reply")
    listbox = op.get_by_role("listbox", name="Canned responses")
    box.press_sequentially("/th")
    expect(listbox).to_be_visible()
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "canned-opt-0")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "canned-opt-1")
    box.press("ArrowUp")
    box.press("Escape")  # closes the list, keeps the text
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("/th")
    box.press_sequentially("a")  # "/tha": only /thanks matches now
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("/thanks")
    box.press("Enter")  # inserts (does not send)
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("Thank you for contacting us! Anything else I can do?")
    raw_visitor.drain()
    assert raw_visitor.seen and not any(
        f["type"] == "event" and (f["event"].get("message") or {}).get("authorKind") == "operator"
        for f in raw_visitor.seen)
    box.press("Enter")  # now it goes
    sent = raw_visitor.event("message", lambda e: e["message"]["authorKind"] == "operator")["message"]
    assert sent["text"] == "Thank you for contacting us! Anything else I can do?"
    expect(box).to_have_value("")
    # A slash inside a word is no shortcut; Tab inserts too.
    box.press_sequentially("and/th")
    expect(listbox).to_be_hidden()
    box.fill("")
    box.press_sequentially("/thx")
    box.press("Tab")
    expect(box).to_have_value("Thanks, and have a great day!")
