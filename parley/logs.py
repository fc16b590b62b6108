"""Server logs on stderr: readable text or JSON lines (`parley serve --log-format`).

A JSON line is `{"ts", "level", "logger", "msg", ...}` plus every field passed as
`extra=` (and, for uvicorn's access log, `client`, `method`, `path`, `status`).
uvicorn's own loggers are routed through the same handler, so one process writes
one format. Request paths in uvicorn's lines are redacted (`redact_path`).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

FORMATS = ("text", "json")
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")

# What every LogRecord carries; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName",
    "color_message",  # uvicorn's coloured copy of msg
}


REDACTED = "[redacted]"


def redact_path(path: str) -> str:
    """A request path as logged: `/files/<id>/<name>` -> `/files/[redacted]` (the random id
    is the only key to an upload, and logs are read by more people than files are), and
    every query value -> `[redacted]` (queries carry search terms and file names)."""
    location, question, query = path.partition("?")
    if location.startswith("/files/"):
        location = "/files/" + REDACTED
    if question:
        query = "&".join(f"{name}={REDACTED}" if has_value else REDACTED
                         for name, has_value, _value in (part.partition("=") for part in query.split("&")))
    return location + question + query


class RedactPaths(logging.Filter):
    """Redacts the path in uvicorn's access lines and WebSocket lines (it mutates the record's
    arguments, so every formatter and handler after it sees the redacted path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple):
            return True
        if record.name == "uvicorn.access" and len(args) == 5:
            client, method, path, version, status = args
            record.args = (client, method, redact_path(str(path)), version, status)
        elif (record.name == "uvicorn.error" and len(args) >= 2 and isinstance(record.msg, str)
              and record.msg.startswith('%s - "WebSocket %s"')):
            record.args = (args[0], redact_path(str(args[1])), *args[2:])
        return True


def extra_fields(record: logging.LogRecord) -> dict:
    fields = {key: value for key, value in vars(record).items()
              if key not in _STANDARD and not key.startswith("_")}
    # uvicorn.access logs '%s - "%s %s HTTP/%s" %d' with these five arguments.
    if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
        client, method, path, _version, status = record.args
        fields = {"client": client, "method": method, "path": path, "status": status, **fields}
    return fields


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": _timestamp(record), "level": record.levelname, "logger": record.name,
                 "msg": record.getMessage()}
        for key, value in extra_fields(record).items():
            entry.setdefault(key, value)  # an extra never overwrites the four fixed keys
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # default=str: an extra that is not JSON (a datetime, an id object) still logs.
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`2025-01-01T10:00:00.123Z INFO parley.shutdown: websockets closed remaining=0`"""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        fields = extra_fields(record)
        if fields and record.name != "uvicorn.access":  # the access line already says it all
            line += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(fmt: str = "text", level: str = "info") -> None:
    """Sends every log record (Parley's and uvicorn's) to stderr in `fmt`.

    Give uvicorn `log_config=None` afterwards, or it installs its own handlers again.
    """
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactPaths())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
