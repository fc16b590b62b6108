"""Handing the chat over to Parley's own page in a new tab (`openIn: '_blank'`).

A link that opens the chat page never carries the visitor's credentials: a page that
adopted them from a link would let anyone who sends one (with *their* visitor's
credentials) read what the victim writes there (session fixation). Instead:

1. the widget opens `/chat/<appId>#parley-handover` in the click (pop-up blockers allow
   only that), asks the server for a one-time token bound to its visitor, then moves the
   new tab to `#parley-handover=<token>` (`#parley-handover=` alone: it got none);
2. the chat page waits for that fragment, takes it out of the address bar at once, and
   exchanges the token with the server for the visitor's credentials, once.

Anything else that looks like a handover, such as the raw `#parley=<id>.<token>` links
of before, gives the page a fresh visitor.
"""

PENDING = "#parley-handover"
TOKEN_MIN, TOKEN_MAX = 20, 128


def handover_fragment(token):
    """The fragment that gives the chat page `token` (None: the widget has none to give)."""
    return PENDING + "=" + (token or "")


def _token_chars(text):
    return all(c.isalpha() or c.isdigit() or c in "-_" for c in text)


def read_fragment(fragment):
    """What a chat page's `location.hash` says, as (kind, token):

    (None, None) nothing of ours; ('pending', None) a token is on its way;
    ('token', token); ('failed', None) the widget could not get one;
    ('refused', None) a link in a form that is not accepted (raw credentials, a broken token).
    """
    if not isinstance(fragment, str) or not fragment.startswith("#parley"):
        return None, None
    if fragment == PENDING:
        return "pending", None
    if fragment.startswith(PENDING + "="):
        token = fragment[len(PENDING) + 1:]
        if not token:
            return "failed", None
        if TOKEN_MIN <= len(token) <= TOKEN_MAX and _token_chars(token):
            return "token", token
        return "refused", None
    if fragment.startswith("#parley="):
        return "refused", None
    return None, None
