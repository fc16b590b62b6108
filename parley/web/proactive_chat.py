"""A chat an operator starts with a visitor (the operator socket's `chat.start`).

See docs/protocol.md.
"""

from __future__ import annotations

from parley import delivery, protocol, wire
from parley.storage import visitor_queries, visitor_store


async def chat_start(tab, frame: protocol.ChatStart) -> None:
    """Starts a chat with a visitor of the operator's app who has none open; answers `ack`
    (with `chat`), or an error with the clientId (`PARLEY_E_CONFLICT` + `openChatId` when the
    visitor already has an open chat). `tab` is the operator socket's tab."""
    operator = tab.operator
    state = tab.state
    limiter = state.limits.operator_messages

    async def work(session):
        visitor = await visitor_store.get_visitor(session, operator.app_id, frame.visitorId)
        if visitor is None:
            raise protocol.FrameError(protocol.E_NOT_FOUND, "no such visitor")
        protocol.check_message_body(frame.text, None)
        if not limiter.allowed(operator.id):
            raise protocol.rate_limited("messages", limiter.retry_after(operator.id))
        stored = await visitor_queries.start_chat(session, operator, visitor, frame.clientId, frame.text)
        await session.commit()  # before the events are published
        if stored.created:
            limiter.hit(operator.id)
        return stored

    try:
        stored = await delivery.write(state.db, work)
    except protocol.FrameError as error:
        await tab.outbox.send(protocol.refusal(error, clientId=frame.clientId))
        return
    except visitor_queries.ChatAlreadyOpen as already:
        await tab.outbox.send(protocol.error(
            protocol.E_CONFLICT, "the visitor already has an open chat: write there",
            clientId=frame.clientId, openChatId=already.chat.id))
        return
    if stored.created:
        await delivery.publish(state.fanout, operator.app_id, stored.chat.visitor_id, stored.events)
    answer = protocol.ack(frame.clientId, stored.message_dict())
    answer["chat"] = wire.chat_dict(stored.chat)
    await tab.outbox.send(answer)
