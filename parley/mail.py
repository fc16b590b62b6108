"""Outgoing email: chat transcripts and missed-chat notices, over SMTP.

Off unless `PARLEY_SMTP_URL` is set, e.g. `smtp://user:pass@mail.example.com:587`
(STARTTLS when the server offers it) or `smtps://…:465` (TLS from the start).
`PARLEY_MAIL_FROM` is the sender (default `parley@<smtp host>`). A failed send
is logged and reported as "not sent"; it never breaks the chat.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

log = logging.getLogger("parley.mail")

SEND_TIMEOUT = 15  # seconds: a slow mail server must not hold a socket handler for long


class SmtpSettings:
    def __init__(self, url: str, sender: str | None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("PARLEY_SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465")
        self.host = parts.hostname
        self.tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender or f"parley@{self.host}"


def header_safe(text: str) -> str:
    """`text` fit for a mail header: line breaks and other control characters become
    spaces. Visitors choose their names, and a line feed in a header value makes the
    email library raise (it refuses header injection), which stopped the missed-chat mail."""
    spaced = "".join(" " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in text)
    return re.sub(r"\s+", " ", spaced).strip()


def settings() -> SmtpSettings | None:
    url = os.environ.get("PARLEY_SMTP_URL")
    if not url:
        return None
    try:
        return SmtpSettings(url, os.environ.get("PARLEY_MAIL_FROM"))
    except ValueError as error:
        log.error("mail is off: %s", error)
        return None


async def send(to: str, subject: str, body: str) -> bool:
    """Sends one plain-text email; True when the SMTP server accepted it."""
    config = settings()
    if config is None:
        return False
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = header_safe(to)
    message["Subject"] = header_safe(subject)
    message.set_content(body)
    try:
        await aiosmtplib.send(
            message, hostname=config.host, port=config.port, use_tls=config.tls,
            start_tls=None if not config.tls else False,
            username=config.username, password=config.password, timeout=SEND_TIMEOUT)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        log.warning("could not send mail to %s: %s", to, error)
        return False
    return True


def _line(message: dict, names: dict[str, str]) -> str:
    if message["authorKind"] == "note":
        return ""  # internal notes are for operators only (message_page leaves them out too)
    when = message["createdAt"][:16].replace("T", " ")
    system = message.get("system")
    if system:
        code = system.get("code")
        text = {"closed": "The chat was closed.", "assigned": "An operator joined the chat.",
                "reopened": "The chat was reopened."}.get(code, "")
        return f"[{when}] {text}" if text else ""
    who = {"visitor": "You", "bot": "Bot"}.get(message["authorKind"]) or names.get(
        message.get("authorId") or "", "Operator")
    text = message["text"]
    if message.get("file"):
        attached = f"(file: {message['file']['name']})"
        text = f"{text} {attached}".strip()
    return f"[{when}] {who}: {text}"


def transcript_text(app_name: str, messages: list[dict], names: dict[str, str]) -> str:
    """The plain-text transcript: one line per message, oldest first, times in UTC."""
    lines = [f"Your conversation with {app_name}", "(times in UTC)", ""]
    lines += [line for line in (_line(m, names) for m in messages) if line]
    return "\n".join(lines) + "\n"


async def send_transcript(app, chat, messages: list[dict], to: str,
                          names: dict[str, str] | None = None) -> bool:
    body = transcript_text(app.name, messages, names or {})
    return await send(to, f"Your conversation with {app.name}", body)
