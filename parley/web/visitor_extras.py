"""Visitor frames beyond chatting (the Customer SDK's coverage): get the profile,
predict the agent, greetings accepted/cancelled, chat properties. Each handler
takes the visitor tab (parley.web.visitor_frames.VisitorTab) and the frame."""

from __future__ import annotations

from types import SimpleNamespace

from parley import assignment, delivery, protocol, wire
from parley import fanout as channels
from parley.storage import assignment_queries, chat_store, operator_queries, presence_queries, visitor_store
from parley.storage.models import Operator

MAX_PROPERTIES = 50


async def visitor_get(tab, _frame: protocol.VisitorGet) -> None:
    async with tab.state.db.session() as session:
        visitor = await visitor_store.get_visitor(session, tab.app.id, tab.visitor.id)
    await tab.outbox.send(protocol.frame("visitor", visitor=wire.visitor_dict(visitor)))


def _matchable_by_visitors(operators: list[Operator]) -> list[SimpleNamespace]:
    """The operators as a visitor's assignees may name them: by id or name, which are
    public (welcome.operators), never by email. A prediction that followed an email would
    tell a visitor whether it is an operator's, so an operator's email answers exactly
    like an unknown one."""
    return [SimpleNamespace(id=o.id, name=o.name, email=None, presence=o.presence,
                            last_assigned_at=o.last_assigned_at) for o in operators]


async def agent_predict(tab, frame: protocol.AgentPredict) -> None:
    """Who would get a chat started now: the visitor's open chat's operator if any, else
    what assignment would choose (no turn is recorded), ignoring assignees that are
    emails. `queued` when all are busy."""
    app_id = tab.app.id
    async with tab.state.db.session() as session:
        chat = await chat_store.open_chat_of(session, tab.visitor.id)
        operators = await operator_queries.list_operators(session, app_id)
        if chat is not None and chat.operator_ids:
            chosen = next((o for o in operators if o.id == chat.operator_ids[0]), None)
        else:
            teams = await operator_queries.list_teams(session, app_id)
            members = await operator_queries.team_members_of_app(session, app_id) if teams else {}
            # Read now: an admin may have changed it since this socket said hello.
            capacity = await assignment_queries.max_chats_per_operator(session, app_id)
            load = await assignment_queries.open_chat_load(session, app_id) if capacity else None
            picked = assignment.choose(frame.assignees, _matchable_by_visitors(operators), teams, members,
                                       load, capacity)
            chosen = next((o for o in operators if picked is not None and o.id == picked.id), None)
        online = await presence_queries.app_online(session, app_id)
    queued = chosen is None and online
    await tab.outbox.send(protocol.frame(
        "agent.predicted", operator=wire.public_operator_dict(chosen) if chosen else None,
        queued=queued))


async def greeting(tab, frame: protocol.Greeting) -> None:
    """Operators see invitations accepted or dismissed live (nothing is stored)."""
    await tab.state.fanout.publish(channels.app_channel(tab.app.id), protocol.frame(
        "greeting", visitorId=tab.visitor.id, triggerId=frame.triggerId, action=frame.action))


async def chat_properties(tab, frame: protocol.ChatProperties) -> None:
    visitor_id = tab.visitor.id

    async def work(session):
        chat = await chat_store.open_chat_of(session, visitor_id)
        if chat is None:
            raise protocol.FrameError(protocol.E_NOT_FOUND, "no open chat: properties belong to a chat")
        merged = dict(chat.properties or {})
        for key, value in frame.properties.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        if len(merged) > MAX_PROPERTIES:
            raise protocol.FrameError(protocol.E_BAD_FRAME, f"a chat has at most {MAX_PROPERTIES} properties")
        chat.properties = merged
        await session.commit()
        return chat

    chat = await delivery.write(tab.state.db, work)
    body = wire.chat_dict(chat)
    await tab.state.fanout.publish(channels.app_channel(tab.app.id),
                                   protocol.frame("chat.properties", chat=body))
    await tab.outbox.send(protocol.frame("chat.properties", chatId=chat.id, properties=chat.properties))
