"""Server logs: `parley serve --log-format json|text` (parley/logs.py)."""

from __future__ import annotations

import json
import logging

import pytest

from parley import cli, logs

pytestmark = pytest.mark.usefixtures("restore_logging")


def lines(capsys) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_json_lines_carry_ts_level_logger_msg_and_extra_fields(capsys):
    logs.configure("json", "info")
    log = logging.getLogger("parley.test")
    log.info("chat %s closed", "c-1", extra={"chat_id": "c-1", "messages": 3, "level": "not overwritten"})
    log.debug("below the level")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    first, second = (json.loads(line) for line in lines(capsys) if line.startswith("{"))
    assert first["level"] == "INFO"  # an extra named like a fixed key does not win
    assert first["logger"] == "parley.test" and first["msg"] == "chat c-1 closed"
    assert (first["chat_id"], first["messages"]) == ("c-1", 3)
    assert first["ts"].endswith("Z") and first["ts"][10] == "T"
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exc"]


def test_uvicorn_loggers_go_through_the_same_handler(capsys):
    logs.configure("json", "info")
    # What uvicorn's access log emits for a request.
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/healthz", "1.1", 200)
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42,
                                            extra={"color_message": "\x1b[36m42\x1b[0m"})
    access, started = (json.loads(line) for line in lines(capsys))
    assert access["logger"] == "uvicorn.access"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/healthz", 200)
    assert started == {"ts": started["ts"], "level": "INFO", "logger": "uvicorn.error",
                       "msg": "Started server process [42]"}  # no colour codes


def test_text_lines_are_readable_with_extra_fields_appended(capsys):
    logs.configure("text", "warning")
    logging.getLogger("parley.shutdown").info("hidden")
    logging.getLogger("parley.shutdown").warning("websockets closed", extra={"remaining": 0})
    (line,) = lines(capsys)
    assert line.endswith(" WARNING parley.shutdown: websockets closed remaining=0")


def test_serve_takes_the_format_from_the_flag_or_parley_log_format(monkeypatch, capsys):
    class Stop(Exception):
        pass

    def stop_before_serving():
        raise Stop("stopped before serving")

    monkeypatch.setattr("parley.cli.build.ensure_built", stop_before_serving)  # logging is configured first
    monkeypatch.setenv("PARLEY_LOG_FORMAT", "json")
    # main() turns the unexpected error into one line and exit 1 (its top-level guard).
    assert cli.main(["serve"]) == 1
    assert "parley: error: Stop: stopped before serving" in capsys.readouterr().err
    assert isinstance(logging.getLogger().handlers[0].formatter, logs.JsonFormatter)
    assert cli.main(["serve", "--log-format", "text"]) == 1
    assert isinstance(logging.getLogger().handlers[0].formatter, logs.TextFormatter)


def test_serve_rejects_an_unknown_format(monkeypatch, capsys):
    monkeypatch.setenv("PARLEY_LOG_FORMAT", "yaml")
    assert cli.main(["serve"]) == 2
    assert "$PARLEY_LOG_FORMAT) must be json or text, got 'yaml'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse's own choices check
        cli.main(["serve", "--log-format", "xml"])
