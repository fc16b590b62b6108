"""`parley snippet`: the installation snippet for a website."""

from __future__ import annotations

from urllib.parse import urlsplit

from parley.cli.errors import UsageError
from parley.snippet import render_snippet


def cmd_snippet(args) -> int:
    # Not looked up in the database: the snippet may be for another server's app. Its
    # shape is checked, so a lost shell variable can't print a snippet with an empty id.
    app_id = args.app_id
    if not app_id or len(app_id) > 200 or any(ch.isspace() or not ch.isprintable() for ch in app_id):
        raise UsageError("--app-id must be the app's id as `parley app create` / `parley app list` print it, "
                         f"got {app_id!r}")
    server = args.server.rstrip("/")
    try:
        parts = urlsplit(server)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not 0..65535
    except ValueError:
        raise UsageError(f"--server must be an http(s) URL, got {args.server!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--server must be an http(s) URL, got {args.server!r}")
    print(render_snippet(app_id, server))
    return 0
