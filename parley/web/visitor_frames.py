"""A visitor tab's frames after hello: one handler per frame kind, each with its budget.

parley.web.visitor_socket owns the connection (hello, welcome, the read loop) and hands
every decoded frame to `VisitorTab.handle`; the frames beyond chatting are in
parley.web.visitor_extras. Frames: docs/protocol.md.
"""

from __future__ import annotations

import functools
from typing import ClassVar

from parley import delivery, identity, mail, protocol, rules, wire
from parley import fanout as channels
from parley.ratelimit import Charge
from parley.storage import (
    app_queries,
    chat_store,
    event_log,
    message_store,
    messages,
    operator_queries,
    visitor_store,
)
from parley.storage.models import App, Visitor
from parley.web import visitor_extras, visitor_presence
from parley.web.sockets import Outbox


class VisitorTab:
    """Handles the frames of one visitor tab after hello."""

    def __init__(self, state, app: App, visitor: Visitor, outbox: Outbox, ip: str) -> None:
        self.ip = ip  # many visitors behind one address share a second, larger budget
        self.state = state
        self.app = app
        self.visitor = visitor
        self.outbox = outbox
        self.limits = state.limits

    async def handle(self, frame) -> None:
        handler = self._handlers.get(type(frame))
        if handler is None:
            raise protocol.FrameError(protocol.E_BAD_FRAME, "hello was already sent on this socket")
        try:
            budget = self._budgets.get(type(frame))
            if budget is not None:
                limiter_name, what = budget
                limiter = getattr(self.limits, limiter_name)
                if not limiter.hit(self.visitor.id):
                    raise protocol.rate_limited(what, limiter.retry_after(self.visitor.id))
            await handler(self, frame)
        except protocol.FrameError as error:
            # Errors carry no request id: the widget's transcript panel tells its own apart by this.
            if isinstance(frame, protocol.TranscriptRequest):
                error.extra.setdefault("request", "transcript.request")
            raise

    async def message_send(self, frame: protocol.MessageSend) -> None:
        visitor = self.visitor
        limiter = self.limits.visitor_messages
        try:
            protocol.check_message_body(frame.text, frame.fileId)
        except protocol.FrameError as error:
            await self.outbox.send(protocol.refusal(error, clientId=frame.clientId))
            return

        charge = Charge((limiter, visitor.id), (self.limits.messages_per_ip, self.ip))
        stored = None
        try:
            if charge.pay():
                # The common case, a message in the open chat: one Core unit (storage.messages).
                # Paid up front; a resend of a stored message costs nothing and is refunded.
                stored = await delivery.run(self.state.db, functools.partial(
                    messages.store_visitor_message, visitor_id=visitor.id, app_id=self.app.id,
                    client_id=frame.clientId, text=frame.text, file_id=frame.fileId))
                if stored is not None and not stored.created:
                    charge.refund()
            if stored is None:
                # A new chat (assignment, the bot's answer), or over the limit, where a resend
                # of a stored message still gets its ack: the general path.
                async def work(session):
                    existing = await message_store.find_visitor_message(session, visitor.id, frame.clientId)
                    if existing is None and not charge.pay():
                        raise protocol.rate_limited("messages", charge.retry_after())
                    stored = await message_store.add_visitor_message(
                        session, visitor, frame.clientId, frame.text,
                        frame.assignees, frame.fileId, frame.triggerId)
                    await session.commit()  # before the events are published
                    return stored

                stored = await delivery.write(self.state.db, work)
        except protocol.FrameError as error:
            await self.outbox.send(protocol.refusal(error, clientId=frame.clientId))
            return
        except (message_store.FileNotUsable, messages.FileRefused):
            charge.refund()
            await self.outbox.send(protocol.error(
                protocol.E_NOT_FOUND, "no such file: upload it first", clientId=frame.clientId))
            return
        if stored.created:
            await delivery.publish(self.state.fanout, self.app.id, visitor.id, stored.events)
        await self.outbox.send(protocol.ack(frame.clientId, stored.message_dict()))

    async def visitor_update(self, frame: protocol.VisitorUpdate) -> None:
        signed = frame.hash is not None
        if not signed:
            async with self.state.db.session() as session:
                if rules.requires_signed_identity(await app_queries.app_appearance(session, self.app.id)):
                    raise protocol.FrameError(protocol.E_HASH_REQUIRED, "this app accepts visitor data only "
                                              "with a valid visitorIntegrityHash; nothing was changed")
        if signed:
            if frame.dataJson is None:
                raise protocol.FrameError(
                    protocol.E_BAD_FRAME, "a hash needs dataJson, the exact JSON text that was signed")
            if not identity.integrity_hash_ok(self.app.secret, frame.dataJson, frame.hash):
                raise protocol.FrameError(
                    protocol.E_BAD_HASH, "visitor data hash does not match: sha1(secret + dataJson)")
        if frame.dataJson is not None:
            data = protocol.decode_visitor_data(frame.dataJson)
        else:
            data = frame.data or {}
        cleaned = rules.clean_visitor_data(data)
        # An email that is no address (the spec's own example carries a mangled one) would be
        # where transcripts go: it is left out, the rest is saved, and the page hears why.
        not_an_address = rules.email_not_an_address(cleaned)
        if not_an_address is not None:
            del cleaned["email"]
        visitor_id, app_id = self.visitor.id, self.app.id

        async def work(session):
            visitor = await visitor_store.get_visitor(session, app_id, visitor_id)
            changes, values = rules.visitor_update(visitor, cleaned, signed)
            updated = await visitor_store.set_visitor_fields(session, visitor, values)
            await session.commit()
            return updated, changes

        updated, changed = await delivery.write(self.state.db, work)
        if changed:
            # What changed only: every operator tab of the app gets this frame, and a whole
            # profile per update let one visitor push a gigabyte into them (issue 13).
            await self.state.fanout.publish(channels.app_channel(self.app.id), protocol.frame(
                "visitor.updated", visitor={"id": visitor_id, **changed}))
        await self.outbox.send(protocol.frame("visitor", visitor=wire.visitor_dict(updated)))
        if not_an_address is not None:
            await self.outbox.send(protocol.error(
                protocol.E_INVALID_EMAIL, f"visitor.email is not an email address: {not_an_address[:80]!r}; "
                "left out, the other fields were saved"))

    async def page_view(self, frame: protocol.PageView) -> None:
        visitor_id = self.visitor.id

        async def work(session):
            view = await visitor_store.add_page_view(session, visitor_id, frame.url, frame.title,
                                                     frame.referrer)
            await session.commit()
            return view

        view = await delivery.write(self.state.db, work)
        await visitor_presence.touch(self.state, visitor_id)
        await self.state.fanout.publish(channels.app_channel(self.app.id), protocol.frame(
            "page.view", visitorId=visitor_id, url=frame.url, title=frame.title, referrer=frame.referrer,
            utm=view.utm or {}, createdAt=wire.timestamp(view.created_at)))

    async def typing(self, frame: protocol.Typing) -> None:
        # Sneak peek: live only, never stored; excess is dropped, not an error.
        if not self.limits.typing.hit(self.visitor.id):
            return
        async with self.state.db.session() as session:
            chat = await chat_store.open_chat_of(session, self.visitor.id)
        await self.state.fanout.publish(channels.app_channel(self.app.id), protocol.frame(
            "typing", visitorId=self.visitor.id, chatId=chat.id if chat else None, text=frame.text))

    async def history(self, frame: protocol.VisitorHistory) -> None:
        async with self.state.db.session() as session:
            chat_ids = await chat_store.chat_ids_of_visitor(session, self.visitor.id)
            messages, has_more = await message_store.message_page(session, chat_ids, frame.before,
                                                                   frame.limit)
            dicts = await message_store.message_dicts(session, messages)
            chat = await chat_store.newest_chat_of(session, self.visitor.id)
        answer = protocol.history(dicts, has_more)
        # The newest chat's state (closed? rated?) so a reloaded window knows what to show.
        answer["chat"] = wire.chat_dict(chat) if chat is not None else None
        await self.outbox.send(answer)

    async def seen(self, frame: protocol.Seen) -> None:
        visitor_id = self.visitor.id

        async def work(session):
            chat_ids = await chat_store.chat_ids_of_visitor(session, visitor_id)
            changed = await message_store.mark_seen(session, chat_ids, ("operator", "system"), frame.upTo)
            events = [await event_log.append_event(session, visitor_id, "seen",
                                                 {"chatId": chat_id, "upTo": up_to, "by": "visitor"})
                      for chat_id, up_to in sorted(changed.items())]
            await session.commit()
            return events

        events = await delivery.write(self.state.db, work)
        await delivery.publish(self.state.fanout, self.app.id, visitor_id, events)

    async def _own_chat(self, session, chat_id: str | None):
        chat = await chat_store.newest_chat_of(session, self.visitor.id, chat_id)
        if chat is None:
            raise protocol.FrameError(protocol.E_NOT_FOUND, "no such chat")
        return chat

    async def chat_rate(self, frame: protocol.ChatRate) -> None:
        async def work(session):
            chat = await self._own_chat(session, frame.chatId)
            event = await chat_store.rate_chat(session, chat, frame.rating, frame.comment)
            await session.commit()
            return event

        event = await delivery.write(self.state.db, work)
        await delivery.publish(self.state.fanout, self.app.id, self.visitor.id, [event])

    async def transcript_request(self, frame: protocol.TranscriptRequest) -> None:
        # A transcript is a mail from the site's sender with visitor-written text (issue 13:
        # a phishing relay). Besides the visitor's own budget: one per chat, to the visitor's
        # signed email only (rules.transcript_address), and budgets per address and app,
        # paid only by requests that would send.
        limits = self.limits
        charge = Charge((limits.transcripts_per_ip, self.ip), (limits.transcripts_per_app, self.app.id))

        def already(chat) -> protocol.FrameError:
            return protocol.FrameError(
                protocol.E_CONFLICT, "the transcript of this chat was already requested", chatId=chat.id)

        async def work(session):
            chat = await self._own_chat(session, frame.chatId)
            if chat.transcript_requested_at is not None:
                raise already(chat)
            visitor = await visitor_store.get_visitor(session, self.app.id, self.visitor.id)
            appearance = await app_queries.app_appearance(session, self.app.id)
            address = rules.transcript_address(appearance, visitor, frame.email)
            if address is None:
                raise protocol.FrameError(protocol.E_FORBIDDEN, "transcripts are sent only to the email "
                                          "address the site confirmed for you")
            if not charge.pay():
                raise protocol.rate_limited("transcripts", charge.retry_after())
            if not await chat_store.request_transcript(session, chat, address):
                raise already(chat)  # another tab asked first
            await session.commit()  # the one claim, before the mail goes
            messages, _ = await message_store.message_page(session, [chat.id], None, 10_000)
            names = {o.id: o.name for o in await operator_queries.list_operators(session, self.app.id)}
            return chat, await message_store.message_dicts(session, messages), names, address

        chat, messages, names, address = await delivery.write(self.state.db, work)
        sent = await mail.send_transcript(self.app, chat, messages, address, names)
        await self.state.fanout.publish(channels.app_channel(self.app.id), protocol.frame(
            "transcript.requested", chat=wire.chat_dict(chat), email=address, sent=sent))
        await self.outbox.send(protocol.frame("transcript", chatId=chat.id, email=address, sent=sent))

    async def chat_close(self, _frame: protocol.VisitorChatClose) -> None:
        visitor_id = self.visitor.id

        async def work(session):
            chat = await chat_store.open_chat_of(session, visitor_id)
            if chat is None:
                return []
            events = await chat_store.close_chat(session, chat, by="visitor")
            await session.commit()
            return events

        events = await delivery.write(self.state.db, work)
        await delivery.publish(self.state.fanout, self.app.id, visitor_id, events)

    # Each frame kind after hello costs a per-visitor budget (parley.ratelimit.Limits): each
    # reads or writes the database, or goes to every operator tab. Over it: PARLEY_E_RATE_LIMIT
    # with retryAfter. message.send charges its own limits (resends of stored messages are
    # free); typing drops its excess silently in its handler (a preview, not worth an error).
    _budgets: ClassVar[dict] = {
        protocol.VisitorUpdate: ("visitor_updates", "visitor updates"),
        protocol.PageView: ("page_views", "page views"),
        protocol.VisitorHistory: ("visitor_history", "history requests"),
        protocol.Seen: ("visitor_seen", "seen receipts"),
        protocol.ChatRate: ("chat_ratings", "chat ratings"),
        protocol.TranscriptRequest: ("transcripts", "transcript requests"),
        protocol.VisitorChatClose: ("chat_closes", "chat closes"),
        protocol.VisitorGet: ("visitor_gets", "visitor profile reads"),
        protocol.AgentPredict: ("agent_predictions", "agent predictions"),
        protocol.Greeting: ("greetings", "greetings"),
        protocol.ChatProperties: ("chat_properties", "chat property changes"),
    }

    async def sync(self, frame: protocol.Sync) -> None:
        await self.outbox.send(protocol.synced(frame.id))

    _handlers: ClassVar[dict] = {
        protocol.Sync: sync,
        protocol.MessageSend: message_send,
        protocol.VisitorUpdate: visitor_update,
        protocol.PageView: page_view,
        protocol.Typing: typing,
        protocol.VisitorHistory: history,
        protocol.Seen: seen,
        protocol.ChatRate: chat_rate,
        protocol.TranscriptRequest: transcript_request,
        protocol.VisitorChatClose: chat_close,
        protocol.VisitorGet: visitor_extras.visitor_get,
        protocol.AgentPredict: visitor_extras.agent_predict,
        protocol.Greeting: visitor_extras.greeting,
        protocol.ChatProperties: visitor_extras.chat_properties,
    }
