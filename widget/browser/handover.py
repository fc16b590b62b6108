"""The two requests of a handover (widget.core.handover), over XMLHttpRequest.

Both report once, to a callback: the outcome, or None and the HTTP status (0: network
error or timeout), so the caller can say what went wrong in one console line.
"""

import json

import js

TIMEOUT_MS = 10000  # the chat page waits for the token only so long (main.HANDOVER_WAIT_MS)


def _post(url, headers, body, on_done):
    xhr = js.XMLHttpRequest.new()
    answered = [False]

    def finish(result, status):
        if not answered[0]:
            answered[0] = True
            on_done(result, status)

    def loaded(_event):
        try:
            result = json.loads(xhr.responseText) if xhr.status in (200, 201) else None
        except Exception:
            result = None
        finish(result if isinstance(result, dict) else None, xhr.status)

    def failed(_event):
        finish(None, 0)

    xhr.open("POST", url)
    xhr.timeout = TIMEOUT_MS
    for name in headers:
        xhr.setRequestHeader(name, headers[name])
    xhr.onload = loaded
    xhr.onerror = failed
    xhr.ontimeout = failed
    xhr.onabort = failed
    xhr.send(body)


def request_token(base_url, visitor_headers, on_done):
    """Asks for a one-time token for the visitor these headers prove: on_done(token or None, status)."""
    def done(answer, status):
        token = answer.get("handover") if answer is not None else None
        on_done(token if isinstance(token, str) else None, status)
    _post(js.URL.new("../api/visitor/handover", base_url).href, visitor_headers, None, done)


def redeem_token(base_url, app_id, token, on_done):
    """Exchanges a token (on Parley's own page) for credentials: on_done((id, token) or None, status)."""
    def done(answer, status):
        answer = answer or {}
        visitor_id, visitor_token = answer.get("visitorId"), answer.get("visitorToken")
        if isinstance(visitor_id, str) and isinstance(visitor_token, str) and visitor_id and visitor_token:
            on_done((visitor_id, visitor_token), status)
        else:
            on_done(None, status)
    body = json.dumps({"appId": app_id, "handover": token})
    _post(js.URL.new("../api/visitor/handover/redeem", base_url).href,
          {"Content-Type": "application/json"}, body, done)
