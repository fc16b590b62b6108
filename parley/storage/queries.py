"""Compatibility only: queries.py was split into visitor_store, event_log, chat_store and
message_store. hello_read.py and delivery.py still import these two names from here; point
them at the new modules and delete this file."""

from parley.storage.event_log import events_after
from parley.storage.visitor_store import visitor_token_ok

__all__ = ["events_after", "visitor_token_ok"]
