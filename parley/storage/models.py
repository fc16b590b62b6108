"""The database tables (SQLAlchemy 2 declarative). Every fact lives here."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from parley import identity

# The visitor messages whose clientId is the idempotency key across all their chats.
VISITOR_CLIENT_ID = "author_kind = 'visitor' AND client_message_id IS NOT NULL"


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A datetime read back from the database, as UTC: SQLite hands back naive datetimes,
    and everything Parley stores is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class App(Base):
    __tablename__ = "apps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(100))
    # Exact origins (scheme://host[:port]) allowed to embed the widget; [] = any.
    origins: Mapped[list] = mapped_column(JSON, default=list)
    # The app's default assignment rules, in the spec's form ([{id: condition}]);
    # a page's `assignments.defaultRules` replaces them.
    assignment_rules: Mapped[list | None] = mapped_column(JSON, default=None)
    # When chats are taken (parley.hours); None = whenever an operator is online.
    working_hours: Mapped[dict | None] = mapped_column(JSON, default=None)
    # Widget defaults set in the inbox (windowColor, teamName, onlineWelcome, offlineWelcome);
    # the page's chaportConfig.appearance wins over them.
    appearance: Mapped[dict | None] = mapped_column(JSON, default=None)
    # Open chats one operator takes at most; beyond it new chats wait in a queue. None = no limit.
    max_chats_per_operator: Mapped[int | None] = mapped_column(Integer, default=None)
    # The widget languages this app offers (subset of the widget's); None = all of them.
    languages: Mapped[list | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Operator(Base):
    __tablename__ = "operators"
    __table_args__ = (
        Index("ix_operators_app_email", "app_id", "email", unique=True),
        Index("ix_operators_app_presence", "app_id", "presence"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20), default="operator")
    # online | away | offline: what others see, from the operator's open inbox sockets
    # (parley.presence) and their chosen status.
    presence: Mapped[str] = mapped_column(String(10), default="offline")
    # What the operator chose in the inbox: online (takes chats while connected), away
    # (connected, takes no new chats) or offline (shows offline even while connected).
    chosen_status: Mapped[str] = mapped_column(String(10), default="online", server_default="online")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Round robin: the operator assigned least recently (never = first) gets the next chat.
    last_assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # A picture URL (an uploaded file's /files/... path, or https://...); None = initials.
    avatar_url: Mapped[str | None] = mapped_column(String(500), default=None)


class OperatorSession(Base):
    """A logged-in operator browser; the cookie holds the token, we keep its SHA-256."""

    __tablename__ = "operator_sessions"
    __table_args__ = (Index("ix_operator_sessions_operator", "operator_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OperatorSocket(Base):
    """One open inbox socket of an operator, on one server process (`server_id`).

    An operator is online while they have a live row, on any process. The process
    renews `expires_at` while it runs (parley.presence); the rows of a process that
    died without closing its sockets expire and are swept by the others.
    """

    __tablename__ = "operator_sockets"
    __table_args__ = (
        Index("ix_operator_sockets_operator", "operator_id"),
        Index("ix_operator_sockets_server", "server_id"),
        Index("ix_operator_sockets_expires", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    server_id: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Visitor(Base):
    __tablename__ = "visitors"
    __table_args__ = (
        Index("ix_visitors_app_last_seen", "app_id", "last_seen_at"),
        Index("ix_visitors_app_user", "app_id", "user_id"),
    )

    # 24 hex digits, or a logged-in user's id (1..64 of [A-Za-z0-9_-]).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    # SHA-256 (hex) of the random secret the browser keeps to prove it owns this visitor
    # id; the secret itself is never stored (see `token`).
    token_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    phone: Mapped[str | None] = mapped_column(String(50), default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    custom: Mapped[dict] = mapped_column(JSON, default=dict)
    # True once identifying fields came with a valid integrity hash.
    # (or the browser proved a logged-in user with session.user).
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # The logged-in user id (session.user.id) this visitor is, if any.
    user_id: Mapped[str | None] = mapped_column(String(200), default=None)
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    language: Mapped[str | None] = mapped_column(String(35), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(500), default=None)
    # The newest event seq handed out for this visitor; bumped in the same
    # transaction that writes the event, so seqs never repeat or go back.
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def token(self) -> str | None:
        """The raw token, known only to the object that made it or saw a browser prove it
        (what `welcome` hands back); None on a row read from the database."""
        return getattr(self, "_raw_token", None)

    @token.setter
    def token(self, raw: str) -> None:
        """Gives the visitor a new token: only its hash is stored."""
        self._raw_token = raw
        self.token_hash = identity.token_hash(raw)

    def proved_by(self, raw: str) -> None:
        """Remembers a token a browser proved (checked by the caller), to echo it; stores nothing."""
        self._raw_token = raw


class PageView(Base):
    __tablename__ = "page_views"
    __table_args__ = (Index("ix_page_views_visitor_created", "visitor_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visitor_id: Mapped[str] = mapped_column(String(64), ForeignKey("visitors.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    referrer: Mapped[str] = mapped_column(Text, default="")
    utm: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (
        Index("ix_chats_app_status_started", "app_id", "status", "started_at"),
        Index("ix_chats_visitor_status", "visitor_id", "status"),
        # At most one open chat per visitor, kept by the database itself (a race can't break it).
        Index("uq_chats_one_open_per_visitor", "visitor_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    visitor_id: Mapped[str] = mapped_column(String(64), ForeignKey("visitors.id", ondelete="CASCADE"))
    # open | closed
    status: Mapped[str] = mapped_column(String(10), default="open")
    operator_ids: Mapped[list] = mapped_column(JSON, default=list)
    # The team a chat was assigned or transferred to, if any.
    team_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # Key/value facts about the chat set by the widget (Customer SDK "properties").
    properties: Mapped[dict | None] = mapped_column(JSON, default=None)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # visitor | operator | system: who ended it (the widget's system line says so).
    closed_by: Mapped[str | None] = mapped_column(String(10), default=None)
    # good | bad, given by the visitor after (or during) the chat.
    rating: Mapped[str | None] = mapped_column(String(4), default=None)
    rating_comment: Mapped[str | None] = mapped_column(Text, default=None)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # The address a visitor asked the transcript to be mailed to.
    transcript_email: Mapped[str | None] = mapped_column(String(320), default=None)
    transcript_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # When the team was emailed that nobody answered this chat (once per chat).
    missed_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


# The search index over messages.text lives outside these models (migration 0014: an FTS5
# table with its shadow tables and triggers on SQLite, a pg_trgm GIN index on PostgreSQL,
# each only where the database can have it); Alembic's comparisons leave these names out.
SEARCH_INDEX_NAMES = frozenset({
    "messages_fts", "messages_fts_data", "messages_fts_idx", "messages_fts_docsize",
    "messages_fts_config", "messages_fts_content", "ix_messages_text_trgm",
    "search_progress"})  # migration 0015: how far the SQLite index is filled


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's include_name: everything but the search index's objects."""
    return name not in SEARCH_INDEX_NAMES


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # The idempotency key: a resent clientId finds the stored message.
        UniqueConstraint("chat_id", "client_message_id", name="uq_messages_chat_client"),
        # ... and across a visitor's chats: one message per clientId per visitor.
        Index("uq_messages_visitor_client", "author_id", "client_message_id", unique=True,
              sqlite_where=text(VISITOR_CLIENT_ID), postgresql_where=text(VISITOR_CLIENT_ID)),
        Index("ix_messages_chat_id", "chat_id", "id"),
        Index("ix_messages_file", "file_id"),
    )

    # Integer ids give one total order, which history pages (`before`) rely on.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    # visitor | operator | system | bot (a trigger answering on message_text; author_id: the trigger)
    author_kind: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[str | None] = mapped_column(String(64), default=None)
    text: Mapped[str] = mapped_column(Text)
    client_message_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # An attachment (files.id); the text is then the caption, possibly "".
    file_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # When the other side (operator for visitor messages, visitor for operator ones) read it.
    seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class Event(Base):
    """One visitor's event log: what every tab of that visitor resumes from."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("visitor_id", "seq", name="uq_events_visitor_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visitor_id: Mapped[str] = mapped_column(String(64), ForeignKey("visitors.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Trigger(Base):
    """An auto-invitation or chatbot message the widget shows when its conditions hold."""

    __tablename__ = "triggers"
    __table_args__ = (Index("ix_triggers_app", "app_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), default="")
    # invitation | bot
    kind: Mapped[str] = mapped_column(String(20), default="invitation")
    message: Mapped[str] = mapped_column(Text)
    delay_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # [[parameterKey, matcher, value], ...]: all must hold (none = always).
    conditions: Mapped[list] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (Index("ix_teams_app", "app_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (Index("ix_team_members_operator", "operator_id"),)

    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"),
                                             primary_key=True)


class File(Base):
    """An uploaded attachment. The bytes live in the data folder under files/<id>;
    the id (128 random bits) is the capability to download it."""

    __tablename__ = "files"
    __table_args__ = (
        Index("ix_files_app_created", "app_id", "created_at"),
        Index("ix_files_visitor", "visitor_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    visitor_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("visitors.id", ondelete="CASCADE"), default=None)
    # visitor | operator
    uploader_kind: Mapped[str] = mapped_column(String(10))
    uploader_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # The file name as shown (cleaned); never used as a path.
    name: Mapped[str] = mapped_column(String(255))
    # Detected from the content, not from the name or the client's header.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CannedResponse(Base):
    """A saved reply an operator inserts by typing /shortcut in the inbox."""

    __tablename__ = "canned_responses"
    __table_args__ = (UniqueConstraint("app_id", "shortcut", name="uq_canned_app_shortcut"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    shortcut: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HandoverToken(Base):
    """A one-time ticket that moves a visitor's chat to Parley's own page in a new tab
    (`openIn: '_blank'`; parley.handover). A link never carries the visitor's credentials,
    only this short-lived token: the row holds its SHA-256 and the visitor's token sealed
    under it (readable only with the token itself), and it is deleted when used."""

    __tablename__ = "handover_tokens"
    __table_args__ = (Index("ix_handover_tokens_expires", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    visitor_id: Mapped[str] = mapped_column(String(64), ForeignKey("visitors.id", ondelete="CASCADE"))
    # parley.handover.seal(token, the visitor token the widget proved), hex.
    sealed_token: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
