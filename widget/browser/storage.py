"""What the widget keeps in the visitor's browser, per app (`session` option).

Credentials go in the host origin's localStorage, or in a cookie only when
`session.cookieDomain` asks for one, and nowhere with `persist: false`
(widget.core.credentials decides). The same switch covers the widget's own
records (unsent messages, window state, shown triggers).
"""

import json

from widget.browser import console
from widget.core.credentials import decode_cookie, encode_cookie, expire_cookie, storage_kind

STORAGE_PREFIX = "parley:"


class BrowserStorage:
    def __init__(self, host, app_id, session):
        self.host = host
        self.app_id = app_id
        self.session = session
        self.prefix = STORAGE_PREFIX + app_id

    @property
    def kind(self):
        # Read each time: the session option is the widget's live config.
        return storage_kind(self.session)

    # -- credentials -----------------------------------------------------
    def load_credentials(self):
        """{'visitorId', 'visitorToken'} kept from an earlier page, or {}."""
        kind = self.kind
        if kind == "none":
            return {}
        if kind == "cookie":
            visitor_id, token = decode_cookie(self.app_id, self.host.document.cookie)
            return {"visitorId": visitor_id, "visitorToken": token} if visitor_id else {}
        data = self.load(None)
        return data if isinstance(data, dict) else {}

    def save_credentials(self, visitor_id, token):
        kind = self.kind
        if kind == "none":
            return
        if kind == "cookie":
            cookie = encode_cookie(self.app_id, visitor_id, token, self.session["cookieDomain"],
                                   self.host.location.protocol == "https:")
            if cookie:
                self.host.document.cookie = cookie
            return
        if not self._set(self.prefix, json.dumps({"visitorId": visitor_id, "visitorToken": token})):
            console.error_once(
                "storage", "cannot store the visitor id (storage blocked); chat lasts this page only")

    def forget_credentials(self):
        if self.kind == "cookie":
            self.host.document.cookie = expire_cookie(self.app_id, self.session["cookieDomain"])
            return
        self._set(self.prefix, None)

    # -- the widget's own records ----------------------------------------
    def load(self, name):
        """The JSON value stored under `name` (None: the credentials key), or None."""
        if self.kind == "none":
            return None
        try:
            text = self.host.localStorage.getItem(self._key(name))
            return json.loads(text) if text else None
        except Exception:  # blocked storage or a value someone else wrote
            return None

    def save(self, name, value):
        """Stores `value` as JSON under `name`; an empty value removes the key."""
        if self.kind == "none":
            return
        if not self._set(self._key(name), json.dumps(value) if value else None):
            console.error_once("storage-" + name,
                               "cannot keep the chat across pages (storage blocked)")

    def _key(self, name):
        return self.prefix if name is None else self.prefix + ":" + name

    def _set(self, key, text):
        try:
            if text is None:
                self.host.localStorage.removeItem(key)
            else:
                self.host.localStorage.setItem(key, text)
            return True
        except Exception:
            return False
