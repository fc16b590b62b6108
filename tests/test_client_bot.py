"""examples/bot.py, the keyword FAQ bot on parley.client, holds a conversation with a
visitor client and hands it over to a human."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from parley.client import OperatorClient
from tests.helpers.client import BOT, TIMING, operator_for, record, texts, visitor_for
from tests.helpers.db import OPERATOR_PASSWORD as PASSWORD
from tests.helpers.waiting import wait_until_async

_spec = importlib.util.spec_from_file_location("faq_bot", Path(__file__).parents[1] / "examples" / "bot.py")
bot_example = importlib.util.module_from_spec(_spec)
sys.modules["faq_bot"] = bot_example  # dataclasses look their module up there
_spec.loader.exec_module(bot_example)


def test_answers_by_keyword():
    assert bot_example.answer("Do you ship to Norway?") == bot_example.FAQ[
        ("ship", "shipping", "delivery", "deliver")]
    assert bot_example.answer("What does it COST?").startswith("Prices")
    assert bot_example.answer("Can I talk to an agent please") is None
    assert bot_example.answer("hmm") == bot_example.FALLBACK


async def test_the_bot_answers_then_hands_over_to_a_human(served):
    bot_login = OperatorClient(served[1], timing=TIMING)
    await bot_login.login(BOT, PASSWORD)
    ann = None
    visitor = visitor_for(served)
    incoming = record(visitor, "incoming_event")
    try:
        assignees = (await bot_login.assignees())["operators"]
        ann_id = next(o["id"] for o in assignees if o["name"] == "ann")
        bot = bot_example.FaqBot(bot_login, handover_to=ann_id)
        bot.start()
        await bot_login.connect(timeout=10)
        await visitor.connect(timeout=10)
        # A bot is not a human at work: alone, it doesn't make the app "online".
        assert visitor.availability == "offline"

        chat_id = (await visitor.start_chat("Hi! Do you ship to Norway?"))["chat"]["id"]
        await wait_until_async(lambda: "We ship" in " ".join(texts(incoming)))
        # The bot's connection goes away and comes back: it answers what came meanwhile.
        await bot_login.disconnect()
        await visitor.send_event({"type": "message", "text": "And what about returns?"})
        await bot_login.connect(timeout=10)
        await wait_until_async(lambda: any(t.startswith("You can return") for t in texts(incoming)))
        transferred = visitor.expect("chat_transferred")
        await visitor.send_event({"type": "message", "text": "I'd like a human, please"})
        assert (await transferred)["transferred_to"]["agent_ids"] == [ann_id]
        assert bot_example.HANDOVER_REPLY in texts(incoming)

        # The bot stays out of the chat now; the human answers.
        await visitor.send_event({"type": "message", "text": "Hello?"})
        await wait_until_async(lambda: (chat_id, "Hello?", "ignored") in bot.log)
        ann = await operator_for(served)
        await ann.send_message(chat_id, "Hi, Ann here. How can I help?")
        await wait_until_async(lambda: "Hi, Ann here. How can I help?" in texts(incoming))
        assert [action for _chat, _text, action in bot.log] == ["answered", "answered", "handover", "ignored"]
        assert texts(incoming) == [
            "Hi! Do you ship to Norway?", bot_example.FAQ[("ship", "shipping", "delivery", "deliver")],
            "And what about returns?", bot_example.FAQ[("return", "returns", "refund")],
            "I'd like a human, please", bot_example.HANDOVER_REPLY,
            "Hello?", "Hi, Ann here. How can I help?"]
        # The bot's turns are the bot's (author kind `bot`, its own id), the human's the human's;
        # the bot never joined the chat (it answered as a bot, not as an operator of the chat).
        authors = [(e["event"]["authorKind"], e["event"]["authorId"]) for e in incoming
                   if not e["event"].get("system")]
        bot_id = bot.bot_id
        assert authors[1] == authors[3] == authors[5] == ("bot", bot_id)
        assert authors[7] == ("operator", ann_id)
        chat = next(c for c in await ann.list_chats() if c["id"] == chat_id)
        assert chat["operatorIds"] == [ann_id]
    finally:
        await visitor.disconnect()
        await bot_login.aclose()
        if ann is not None:
            await ann.aclose()
