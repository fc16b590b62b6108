"""A keyword FAQ bot on parley.client: it answers visitors as an operator integration
and hands the chat over to a human when the visitor asks for one ("human", "agent").

    PARLEY_BOT_PASSWORD=… python examples/bot.py --server https://chat.example.com \\
        --email bot@shop.example --handover-to <operator or team id>

Create its login first, as a bot: `parley operator create --app <appId> --email
bot@shop.example --password … --name "Shop bot" --role bot`. A bot's messages have
author kind `bot` (the widget shows them as the bot's and fires Chaport's
`chat.botSent`; the inbox marks them), it never counts as an online operator and is
never given chats, and answering doesn't make it one of the chat's operators. It
answers only chats no human operator is in. After a reconnect it reads the open chats
and answers the questions that came meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
from dataclasses import dataclass, field

from parley.client import ClientError, OperatorClient

log = logging.getLogger("parley.bot")

FAQ: dict[tuple[str, ...], str] = {
    ("ship", "shipping", "delivery", "deliver"): "We ship to all of Europe within 3 working days; "
                                                  "shipping is free over 50 €.",
    ("price", "prices", "cost", "costs", "expensive"): "Prices are on each product page and include VAT.",
    ("return", "returns", "refund"): "You can return anything within 30 days for a full refund.",
    ("hours", "open", "opening"): "Our team is here Monday to Friday, 9:00 to 17:30.",
}
HANDOVER_WORDS = ("human", "agent")
FALLBACK = ("I can answer questions about shipping, prices, returns and opening hours. "
            "Type \"human\" to talk to a person.")
HANDOVER_REPLY = "I'm handing you over to a human colleague; they'll answer here shortly."


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def answer(text: str) -> str | None:
    """The FAQ answer for a visitor's message; None when the visitor asks for a human."""
    said = words(text)
    if said & set(HANDOVER_WORDS):
        return None
    for keys, reply in FAQ.items():
        if said & set(keys):
            return reply
    return FALLBACK


@dataclass
class FaqBot:
    operator: OperatorClient
    handover_to: str | None = None  # an operator id or a team id ("team:<id>")
    # Chats a human is in (or was handed to): the bot stays out of them.
    human_chats: set[str] = field(default_factory=set)
    # What the bot did with each visitor message: (chat id, text, "answered" | "handover" | "ignored").
    log: list[tuple[str, str, str]] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _handled: set[int] = field(default_factory=set)  # visitor message ids already dealt with
    _connects: int = 0

    @property
    def bot_id(self) -> str:
        assert self.operator.profile is not None, "log in first"
        return self.operator.profile["operatorId"]

    def start(self) -> None:
        self.operator.on("message", self._message)
        self.operator.on("chat.assigned", self._assigned)
        self.operator.on("chat.started", self._assigned)
        self.operator.on("connected", self._connected)

    async def _connected(self, _payload: dict) -> None:
        self._connects += 1
        if self._connects > 1:
            await self.catch_up()

    async def catch_up(self) -> None:
        """The operator feed is live only: after a reconnect, answer the chats whose last
        message is a visitor's the bot has not seen (their newest question only)."""
        for chat in await self.operator.list_chats(status="open"):
            self._assigned({"chat": chat})
            last = chat.get("lastMessage")
            if last and last["authorKind"] == "visitor" and last["id"] not in self._handled:
                await self._message({"chatId": chat["id"], "message": last})

    def _assigned(self, frame: dict) -> None:
        chat = frame["chat"]
        if any(operator_id != self.bot_id for operator_id in chat.get("operatorIds") or []):
            self.human_chats.add(chat["id"])

    async def _message(self, frame: dict) -> None:
        message = frame["message"]
        if message["authorKind"] != "visitor" or not message.get("text"):
            return
        chat_id = frame["chatId"]
        # One message at a time: answers keep the order of the questions.
        async with self._lock:
            if message["id"] in self._handled:
                return
            self._handled.add(message["id"])
            if chat_id in self.human_chats:
                self.log.append((chat_id, message["text"], "ignored"))
                return
            reply = answer(message["text"])
            try:
                if reply is not None:
                    await self.operator.send_message(chat_id, reply)
                    self.log.append((chat_id, message["text"], "answered"))
                else:
                    await self._hand_over(chat_id)
                    self.log.append((chat_id, message["text"], "handover"))
            except ClientError as error:
                log.warning("could not answer in chat %s: %s", chat_id, error)

    async def _hand_over(self, chat_id: str) -> None:
        self.human_chats.add(chat_id)
        await self.operator.send_message(chat_id, HANDOVER_REPLY)
        if self.handover_to is None:
            return  # humans see it in their inbox's open chats
        if self.handover_to.startswith("team:"):
            await self.operator.assign(chat_id, team_id=self.handover_to.removeprefix("team:"))
        else:
            await self.operator.assign(chat_id, operator_id=self.handover_to)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--app-id")
    parser.add_argument("--handover-to", help="operator id, or team:<team id>")
    options = parser.parse_args()
    password = os.environ.get("PARLEY_BOT_PASSWORD")
    if not password:
        parser.error("set PARLEY_BOT_PASSWORD (a password on the command line ends up in the shell history)")
    logging.basicConfig(level=logging.INFO)
    operator = OperatorClient(options.server)
    await operator.login(options.email, password, options.app_id)
    bot = FaqBot(operator, options.handover_to)
    bot.start()
    operator.on("disconnected", lambda p: log.info("disconnected (%s)", p["reason"]))
    await operator.connect()
    log.info("answering as %s", operator.profile["name"])
    await asyncio.Event().wait()  # until interrupted


if __name__ == "__main__":
    asyncio.run(main())
