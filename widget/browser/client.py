"""`chaport.client`: the headless client API in the page (docs/client.md, "Browser").

Built on first use (`chaport.client` is a lazy property, so start-up never loads this
module) and bound to the running Widget: it shares its socket, its outbox (a message sent
here is kept and resent like one typed in the window) and its session, so the client and
the widget see one conversation. Every call returns a Promise of the host page; rejections
are `{code, message, details?, parleyCode?, retryAfter?}` with widget.core.client's codes.

How answers find their call (docs/protocol.md, `sync`): a request goes out between two
`sync` frames. The server answers a socket's frames in order, so what comes between the
first `synced` and the second is this request's answer, whatever the widget itself asked
before (the widget's own answers come before the first `synced`).
"""

import js
import parley_js

from widget.browser import console
from widget.browser.hostjs import HostCallbackError, host_callable, later, to_host, to_py
from widget.browser.uploads import Upload, visitor_headers
from widget.core import client as rules
from widget.core.i18n import LANGUAGES

REQUEST_TIMEOUT_MS = 15000
SYNC_PREFIX = "pc-"
# connection_unstable / connection_recovered: a `sync` goes every PING_EVERY_MS while the
# page has a client; no `synced` within UNSTABLE_AFTER_MS is an unstable connection (the
# Python client's ping timing). Only pages that use chaport.client send them.
PING_EVERY_MS = 10000
UNSTABLE_AFTER_MS = 4000
# A message refused with these stays refused: it leaves the outbox (rate limits and the
# like are worth another try, and the outbox makes it).
NEVER_STORED = ("PARLEY_E_NOT_FOUND", "PARLEY_E_BAD_FRAME", "PARLEY_E_FORBIDDEN")
# restore() resolves with this when the page had no session to restore.
NO_SESSION = "none"


class _Request:
    def __init__(self, number, frame, want, context, done, failed):
        self.fence = "%s%d-a" % (SYNC_PREFIX, number)
        self.nonce = "%s%d-b" % (SYNC_PREFIX, number)
        self.frame = frame
        self.want = want
        self.context = context
        self.done = done
        self.failed = failed
        self.open = False  # the first synced came: what follows is this request's answer
        self.answer = None
        self.error = None
        self.settled = False

    def settle(self, value=None, problem=None):
        if self.settled:
            return
        self.settled = True
        if problem is not None:
            self.failed(problem)
        else:
            self.done(value)


class _Pending:
    """What a call returns to _method: run(resolve, reject) settles the page's Promise."""

    def __init__(self, run, cancel=None):
        self.run = run
        self.cancel = cancel


class Client:
    def __init__(self, widget):
        self.widget = widget
        self.listeners = {}  # event name -> [[host function, once]]
        self.waiters = []  # [event name, predicate, callback]: the calls' own waits
        self.inflight = []  # requests sent, in order
        self.unsent = []  # requests waiting for the connection
        self.numbers = 0
        self.sending = {}  # clientId -> (resolve, reject, a file?) of sendEvent/startChat
        self.message_ids = set()
        self.up = widget.started and widget.socket is not None and widget.socket.connected
        self.visitor_id = widget.visitor_id if widget.started else None
        self.last_seq = widget.timeline.last_seq if widget.started else None
        self.availability = "online" if widget.online else "offline"
        self.pings = 0  # sync ids of the heartbeat
        self.ping_round = 0  # a new connection: the last one's timers do nothing
        self.ping_waiting = None  # the heartbeat's sync id not answered yet
        self.unstable = False
        self.object = self._build()
        if self.up:
            self._start_pings()

    # -- the host object ---------------------------------------------------------------
    def _build(self):
        target = parley_js.hostObject()
        calls = {
            "on": self.on,
            "once": self.once,
            "off": self.off,
            "connect": self.connect,
            "disconnect": self.disconnect,
            "restore": self.restore,
            "getCustomer": self.get_customer,
            "updateCustomer": self.update_customer,
            "setCustomerSessionFields": self.set_customer_session_fields,
            "updateCustomerPage": self.update_customer_page,
            "startChat": self.start_chat,
            "resumeChat": self.resume_chat,
            "deactivateChat": self.deactivate_chat,
            "getChat": self.get_chat,
            "listChats": self.list_chats,
            "getChatHistory": self.get_chat_history,
            "sendEvent": self.send_event,
            "uploadFile": self.upload_file,
            "markEventsAsSeen": self.mark_events_as_seen,
            "rateChat": self.rate_chat,
            "setLanguage": self.set_language,
            "cancelRate": self.cancel_rate,
            "setSneakPeek": self.set_sneak_peek,
            "getPredictedAgent": self.get_predicted_agent,
            "updateChatProperties": self.update_chat_properties,
            "deleteChatProperties": self.delete_chat_properties,
            "acceptGreeting": self.accept_greeting,
            "cancelGreeting": self.cancel_greeting,
        }
        for name in calls:
            if name in ("on", "once", "off"):
                parley_js.set(target, name, self._listener_method(calls[name]))
            elif name == "getChatHistory":
                parley_js.set(target, name, parley_js.answering(self._history_method))
            else:
                parley_js.set(target, name, self._method(name, calls[name]))
        return target

    def _listener_method(self, call):
        def method(name=None, listener=None):
            try:
                call(to_py(name), to_py(listener))
            except Exception as error:  # never throw into the host page
                console.error("chaport.client.on/off failed: %s" % error)
        return method

    def _history_method(self, give, chat_id=None, options=None):
        # give(answer), not `return answer`: see parley_js.answering in boot.mjs.
        answer = None
        try:
            answer = self.get_chat_history(to_py(chat_id), to_py(options))
        except Exception as error:  # never throw into the host page
            console.error("chaport.client.getChatHistory failed: %s" % error)
        give(answer)

    def _method(self, name, call):
        """The page's function: a Promise settled by what `call` returns (a _Pending)."""
        def method(js_resolve, js_reject, set_cancel, *args):
            def resolve(value=None):
                js_resolve(to_host(value))

            def reject(problem):
                js_reject(to_host(problem))
            try:
                pending = call(*[to_py(arg) for arg in args])
                pending.run(resolve, reject)
                if pending.cancel is not None:
                    set_cancel(pending.cancel)  # handed over, not returned: parley_js.answering
            except Exception as error:  # never throw into the host page
                console.error("chaport.client.%s failed: %s" % (name, error))
                reject(rules.error(rules.INTERNAL, str(error)))
        return parley_js.promising(method)

    def _promise(self, run, cancel=None):
        """A call's outcome: run(resolve, reject) settles the page's Promise (plain values)."""
        return _Pending(run, cancel)

    def _fail(self, code, message, details=None):
        return self._rejected(rules.error(code, message, details))

    def _rejected(self, problem):
        return self._promise(lambda _resolve, reject: reject(problem))

    def _resolved(self, value=None):
        return self._promise(lambda resolve, _reject: resolve(value))

    # -- events ------------------------------------------------------------------------
    def _listen(self, name, listener, once):
        if name not in rules.CLIENT_EVENTS:
            console.error("chaport.client.on: unknown event '%s'; known events: %s"
                          % (name, ", ".join(rules.CLIENT_EVENTS)))
            return None
        if parley_js.kind(listener) != "function":
            console.error("chaport.client.on: the listener for '%s' must be a function" % name)
            return None
        self.listeners.setdefault(name, []).append([listener, once])
        return None

    def on(self, name=None, listener=None):
        return self._listen(name, listener, False)

    def once(self, name=None, listener=None):
        return self._listen(name, listener, True)

    def off(self, name=None, listener=None):
        if listener is None:
            self.listeners.pop(name, None)
            return None
        entries = self.listeners.get(name) or []
        self.listeners[name] = [e for e in entries if not parley_js.same(e[0], listener)]
        return None

    def _emit(self, name, payload=None):
        for waiter in list(self.waiters):
            if waiter[0] == name and waiter in self.waiters and waiter[1](payload):
                self.waiters.remove(waiter)
                waiter[2](payload)
        entries = self.listeners.get(name) or []
        if not entries:
            return
        self.listeners[name] = [e for e in entries if not e[1]]
        host_payload = to_host(payload)
        for entry in entries:
            try:
                if payload is None:
                    host_callable(entry[0])()
                else:
                    host_callable(entry[0])(host_payload)
            except HostCallbackError as error:
                console.error("a chaport.client '%s' listener threw: %s" % (name, error))

    def _wait(self, name, predicate, callback, timeout_ms=REQUEST_TIMEOUT_MS, on_timeout=None):
        waiter = [name, predicate, callback]
        self.waiters.append(waiter)

        def expired():
            if waiter in self.waiters:
                self.waiters.remove(waiter)
                if on_timeout is not None:
                    on_timeout()
        later(expired, timeout_ms)
        return waiter

    # -- requests ----------------------------------------------------------------------
    def _request(self, frame, want, done, failed, context=None):
        self.numbers += 1
        request = _Request(self.numbers, frame, want, context, done, failed)

        def expired():
            if request in self.unsent:
                self.unsent.remove(request)
            # One sent stays in `inflight`, settled: its late answer is absorbed, not given
            # to the next request.
            request.settle(problem=rules.error(rules.REQUEST_TIMEOUT, "no answer within %d s"
                                               % (REQUEST_TIMEOUT_MS // 1000)))
        later(expired, REQUEST_TIMEOUT_MS)
        if not self._send_request(request):
            if not self.widget.session_running:
                request.settle(problem=rules.error(rules.CONNECTION_LOST, "not connected: connect() first"))
                return
            self.unsent.append(request)

    def _send_request(self, request):
        socket = self.widget.socket
        if not self.up or socket is None or not socket.connected:
            return False
        socket.send({"type": "sync", "id": request.fence})
        socket.send(dict(request.frame))
        socket.send({"type": "sync", "id": request.nonce})
        self.inflight.append(request)
        return True

    def _call(self, frame, want=None, context=None, answer=None):
        """A promise of the request's answer frame (or of answer(frame) when given)."""
        def run(resolve, reject):
            def done(found):
                resolve(answer(found) if answer is not None else None)
            self._request(frame, want, done, reject, context)
        return self._promise(run)

    def claims(self, frame):
        """True when the frame answers one of this client's requests (the widget then
        leaves it alone). Called before the widget sees the frame."""
        kind = frame.get("type")
        if kind == "synced":
            sync_id = frame.get("id")
            if not isinstance(sync_id, str) or not sync_id.startswith(SYNC_PREFIX):
                return False
            if sync_id == self.ping_waiting:
                self._pong()
                return True
            for request in self.inflight:
                if request.fence == sync_id:
                    request.open = True
                    break
                if request.nonce == sync_id:
                    self.inflight.remove(request)
                    self._settle(request)
                    break
            return True
        if kind == "error" and frame.get("clientId") in self.sending:
            # A message of this client was refused (it stays in the outbox and goes again).
            client_id = frame.get("clientId")
            waiting = self.sending.pop(client_id)
            waiting[1](rules.error_from_frame(frame, "file" if waiting[2] else None))
            if frame.get("code") in NEVER_STORED:
                self.widget.drop_unsent(client_id)  # else resent on every reconnect, refused each time
            return True
        current = None
        for request in self.inflight:
            if request.open:
                current = request
                break
        if current is None:
            return False
        if kind == "error" and not frame.get("clientId"):
            if current.error is None:
                current.error = frame
            return True
        if current.want is not None and kind == current.want and current.answer is None:
            current.answer = frame
            return True
        return False

    def _settle(self, request):
        if request.error is not None:
            request.settle(problem=rules.error_from_frame(request.error, request.context))
        elif request.want is not None and request.answer is None:
            request.settle(problem=rules.error(rules.INTERNAL, "no '%s' answer came" % request.want))
        else:
            request.settle(request.answer)

    # -- the connection (hooks of the Widget) -----------------------------------------------
    def down(self, code=None, manual=False):
        """The socket closed (code None: not known), or the session was stopped (manual)."""
        was_up, self.up = self.up, False
        self.ping_round += 1
        self.ping_waiting = None
        self.unstable = False  # `disconnected` says more
        inflight, self.inflight = self.inflight, []
        lost = rules.error(rules.CONNECTION_LOST, "the connection was lost")
        for request in inflight:
            request.settle(problem=lost)
        reason, reconnects = ("manual", False) if manual else rules.close_reason(code)
        if not reconnects:
            unsent, self.unsent = self.unsent, []
            for request in unsent:
                request.settle(problem=lost)
        if was_up or not reconnects:
            self._emit("disconnected", {"reason": reason, "code": code, "willReconnect": reconnects})

    def frame(self, frame):
        """Every frame, after the widget handled it."""
        kind = frame.get("type")
        if kind == "welcome":
            self._welcome(frame)
        elif kind == "event":
            self._event(frame)
        elif kind == "ack":
            message = frame.get("message")
            if isinstance(message, dict):
                self._sent(frame.get("clientId"), message)
        elif kind == "online":
            self.availability = "online" if frame.get("online") else "offline"
            self._emit("availability_updated", {"availability": self.availability})
        elif kind == "typing":
            operator = frame.get("operator") or {}
            self._emit("incoming_typing_indicator", {"chatId": frame.get("chatId"), "typingIndicator": {
                "authorId": operator.get("id"), "authorName": operator.get("name"),
                "isTyping": frame.get("typing") is not False}})
        elif kind == "queue":
            self._emit("queue_position_updated", {"chatId": frame.get("chatId"),
                                                  "queue": {"position": frame.get("position")}})
        elif kind == "reset":
            self.last_seq = frame.get("seq") or 0
            self._emit("history_reset", {"seq": self.last_seq})

    def _welcome(self, frame):
        visitor_id = frame.get("visitorId")
        known = self.visitor_id or self.widget.resumed_from
        new_visitor = visitor_id != known
        if new_visitor or self.last_seq is None:
            self.last_seq = frame.get("seq") or 0
        if new_visitor:
            self.message_ids = set()
        self.visitor_id = visitor_id
        self.availability = "online" if frame.get("online") else "offline"
        self.up = True
        self.unstable = False
        self._start_pings()
        if new_visitor:
            self._emit("customer_id", visitor_id)
        unsent, self.unsent = self.unsent, []
        for request in unsent:
            if not request.settled and not self._send_request(request):
                self.unsent.append(request)
        self._emit("connected", self._session())

    # -- the heartbeat: connection_unstable / connection_recovered ------------------------
    def _start_pings(self):
        self.ping_round += 1
        self.ping_waiting = None
        self._next_ping(self.ping_round)

    def _next_ping(self, round_):
        later(lambda: self._ping(round_), PING_EVERY_MS)

    def _ping(self, round_):
        socket = self.widget.socket
        if round_ != self.ping_round or not self.up or socket is None or not socket.connected:
            return
        self.pings += 1
        ping_id = SYNC_PREFIX + "ping-%d" % self.pings
        self.ping_waiting = ping_id
        socket.send({"type": "sync", "id": ping_id})
        later(lambda: self._ping_late(round_, ping_id), UNSTABLE_AFTER_MS)

    def _ping_late(self, round_, ping_id):
        if round_ == self.ping_round and self.ping_waiting == ping_id and not self.unstable:
            self.unstable = True
            self._emit("connection_unstable")

    def _pong(self):
        self.ping_waiting = None
        if self.unstable:
            self.unstable = False
            self._emit("connection_recovered")
        self._next_ping(self.ping_round)

    def _session(self):
        return {"customerId": self.visitor_id, "availability": self.availability, "chat": self._open_chat()}

    def _event(self, frame):
        seq = frame.get("seq")
        if not isinstance(seq, int) or (self.last_seq is not None and seq <= self.last_seq):
            return
        self.last_seq = seq
        body = frame.get("event") or {}
        kind = body.get("type")
        chat = body.get("chat") if isinstance(body.get("chat"), dict) else {}
        if kind == "message":
            self._message(body.get("message") or {})
        elif kind in ("chat.started", "chat.reopened"):
            self._emit("incoming_chat", {"chat": chat, "startedBy": body.get("startedBy"),
                                         "reopened": kind == "chat.reopened"})
        elif kind == "chat.closed":
            self._emit("chat_deactivated", {"chatId": chat.get("id"), "chat": chat})
        elif kind == "seen":
            self._emit("events_marked_as_seen", {"chatId": body.get("chatId"), "seenUpTo": body.get("upTo"),
                                                 "by": body.get("by")})
        elif kind == "chat.rated":
            self._emit("chat_rated", {"chatId": chat.get("id"), "chat": chat})

    def _message(self, message):
        if message.get("id") in self.message_ids:
            return
        self.message_ids.add(message.get("id"))
        self._sent(message.get("clientId"), message)
        self._emit("incoming_event", {"chatId": message.get("chatId"), "event": message})
        system = message.get("system") or {}
        if system.get("code") == "assigned" and system.get("operatorId"):
            # The visitor's log has no chat.assigned: the system line is how an operator comes.
            self._emit("user_added_to_chat", {"chatId": message.get("chatId"),
                                              "user": {"id": system["operatorId"], "type": "agent"}})
        if system.get("code") == "assigned" and system.get("by"):
            self._emit("chat_transferred", {
                "chatId": message.get("chatId"), "requesterId": system["by"],
                "transferredTo": {"agentIds": [system.get("operatorId")],
                                  "groupIds": [system["teamId"]] if system.get("teamId") else []}})

    def greeting(self, trigger, text):
        """An invitation shows (a trigger of the app's, or the page's setActiveTrigger)."""
        trigger = trigger if isinstance(trigger, dict) else {}
        self._emit("incoming_greeting", {"id": trigger.get("id"), "text": text,
                                         "kind": trigger.get("kind") or "invitation"})

    def _sent(self, client_id, message):
        if client_id in self.sending:
            self.sending.pop(client_id)[0](message)

    # -- state ------------------------------------------------------------------------
    def _open_chat(self):
        for chat in self.widget.chats.values():
            if isinstance(chat, dict) and chat.get("status") == "open":
                return chat
        return None

    def _open_chat_id(self):
        chat = self._open_chat()
        return chat.get("id") if chat is not None else None

    # -- connecting ----------------------------------------------------------------------
    def connect(self):
        """Resolves with {customerId, availability, chat} once the session is up (starting
        it when the page stopped it or never started it: session.autoStart false)."""
        if self.up:
            return self._resolved(self._session())

        def run(resolve, reject):
            self._wait("connected", lambda _p: True, resolve,
                       on_timeout=lambda: reject(_timeout("not connected within 15 s")))
            self._wait("disconnected", lambda p: not p["willReconnect"],
                       lambda p: reject(_refusal(p)))
            if not self.widget.session_running:
                self.widget.start_session()
        return self._promise(run)

    def disconnect(self):
        """Stops the session (Chaport's stopSession): the socket closes, nothing reconnects."""
        if self.widget.session_running:
            self.widget.stop_session()
        return self._resolved()

    def restore(self):
        """Genesys' restoreChat: resolves with the session ({customerId, availability, chat})
        when the page's stored session came back, with "none" when there was none, and
        rejects (SESSION_NOT_RESTORED, or the server's refusal) when it existed but could
        not be restored."""
        widget = self.widget

        def outcome(resolve, reject):
            if widget.resumed_from is None:
                resolve(NO_SESSION)
            elif widget.resumed_from == self.visitor_id:
                resolve(self._session())
            else:
                reject(rules.error(rules.SESSION_NOT_RESTORED, "the server did not know the stored session: "
                                   "this is a new visitor", {"customerId": self.visitor_id}))

        def run(resolve, reject):
            if self.up:
                outcome(resolve, reject)
                return
            self._wait("connected", lambda _p: True, lambda _p: outcome(resolve, reject),
                       on_timeout=lambda: reject(_timeout("not connected within 15 s")))
            self._wait("disconnected", lambda p: not p["willReconnect"],
                       lambda p: reject(_refusal(p)))
            if not widget.session_running:
                widget.start_session()
        return self._promise(run)

    # -- the customer ------------------------------------------------------------------
    def get_customer(self):
        return self._call({"type": "visitor.get"}, "visitor", answer=lambda f: f.get("visitor"))

    def update_customer(self, fields=None):
        data, problem = rules.customer_data(fields)
        if problem:
            return self._rejected(problem)

        def answer(found):
            visitor = found.get("visitor")
            self._emit("customer_updated", visitor)
            return visitor
        return self._call({"type": "visitor.update", "data": data}, "visitor", answer=answer)

    def set_customer_session_fields(self, fields=None):
        if isinstance(fields, dict) and isinstance(fields.get("sessionFields"), dict):
            fields = fields["sessionFields"]
        return self.update_customer({"sessionFields": fields if fields is not None else "missing"})

    def update_customer_page(self, page=None):
        if isinstance(page, str):
            page = {"url": page}
        if not isinstance(page, dict) or not isinstance(page.get("url"), str) or not page["url"]:
            return self._fail(rules.VALIDATION, "updateCustomerPage takes {url, title?, referrer?}")
        frame = {"type": "page.view", "url": page["url"]}
        for key in ("title", "referrer"):
            if isinstance(page.get(key), str):
                frame[key] = page[key]
        return self._call(frame)

    # -- chats -------------------------------------------------------------------------
    def start_chat(self, options=None):
        """Parley's chats start with their first message: {chat, message}."""
        open_id = self._open_chat_id()
        if open_id is not None:
            return self._fail(rules.CHAT_ALREADY_ACTIVE, "the visitor already has an active chat",
                              {"openChatId": open_id})
        event = rules.start_chat_event(options)
        if event is None:
            return self._fail(rules.VALIDATION, "startChat needs the first message: "
                              "{chat: {thread: {events: [{type: 'message', text}]}}} or {text}")

        def run(resolve, reject):
            def sent(message):
                chat_id = message.get("chatId")
                chat = self.widget.chats.get(chat_id)
                if chat is not None:
                    resolve({"chat": chat, "message": message})
                    return
                self._wait("incoming_chat", lambda p: p["chat"].get("id") == chat_id,
                           lambda p: resolve({"chat": p["chat"], "message": message}),
                           on_timeout=lambda: reject(_timeout("the chat's start was not announced in time")))
            self._send(event, sent, reject)
        return self._promise(run)

    def resume_chat(self, options=None):
        chat_id = _chat_id(options)
        if chat_id is not None and chat_id == self._open_chat_id():
            return self._fail(rules.CHAT_ALREADY_ACTIVE, "the chat is already active")
        return self._fail(rules.NOT_SUPPORTED, "a visitor can't reopen a closed chat; "
                          "startChat (or sendEvent) starts a new one")

    def deactivate_chat(self, options=None):
        chat_id = _chat_id(options)
        open_id = self._open_chat_id()
        if open_id is None or (chat_id is not None and chat_id != open_id):
            return self._fail(rules.MISSING_CHAT, "no active chat with that id")

        def run(resolve, reject):
            self._request_and_event({"type": "chat.close"}, "chat_deactivated",
                                    lambda p: p["chatId"] == open_id, resolve, reject,
                                    "the chat's end was not announced in time")
        return self._promise(run)

    def _request_and_event(self, frame, name, predicate, resolve, reject, what):
        """Sends `frame`; resolves with the CHAT of the event it causes, once both the
        request's answer and the event came (the event may come first)."""
        state = {"heard": None, "answered": False}

        def heard(payload):
            state["heard"] = payload
            if state["answered"]:
                resolve(payload["chat"])

        def asked(_answer):
            state["answered"] = True
            if state["heard"] is not None:
                resolve(state["heard"]["chat"])

        def failed(problem):
            if waiter in self.waiters:
                self.waiters.remove(waiter)
            reject(problem)
        waiter = self._wait(name, predicate, heard, on_timeout=lambda: reject(_timeout(what)))
        self._request(frame, None, asked, failed)

    def get_chat(self, chat_id=None):
        chat_id = _chat_id(chat_id)
        chat = self.widget.chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            return self._fail(rules.MISSING_CHAT, "no such chat known to this page")
        return self._resolved(chat)

    def list_chats(self):
        return self._resolved(rules.known_chats(self.widget.chats))

    def get_chat_history(self, chat_id=None, options=None):
        """An async iterator of pages (arrays of MESSAGE, oldest first), newest page first:
        `for await (const page of chaport.client.getChatHistory(chatId))` or `next()`."""
        if isinstance(chat_id, dict):
            chat_id, options = chat_id.get("chatId"), chat_id
        size = rules.page_size(options.get("pageSize") if isinstance(options, dict) else None)
        return History(self, chat_id, size).object

    # -- events ------------------------------------------------------------------------
    def send_event(self, event=None, chat_id=None):
        """Sends a message or a file (to the active chat; without one it starts a chat).
        It goes through the widget's outbox: kept until acknowledged, resent after every
        reconnect, stored once. Resolves with the stored MESSAGE."""
        if isinstance(event, dict) and "event" in event and "type" not in event:
            chat_id, event = event.get("chatId"), event.get("event")
        if chat_id is not None and chat_id != self._open_chat_id():
            return self._fail(rules.MISSING_CHAT, "not the visitor's active chat (a closed chat "
                              "takes no messages; send without chatId to start a new one)")
        return self._promise(lambda resolve, reject: self._send(event, resolve, reject))

    def _send(self, event, resolve, reject):
        text, file, problem = rules.event_to_send(event)
        if problem:
            reject(problem)
            return
        if not self.widget.session_running:
            reject(rules.error(rules.CONNECTION_LOST, "not connected: call connect() first"))
            return
        client_id = self.widget._queue_message(text, file)
        self.sending[client_id] = (resolve, reject, file is not None)

    def upload_file(self, file=None, options=None):
        """Uploads a File or Blob: resolves with the FILE for sendEvent({type: 'file', file}).
        options.onProgress(0..1) as it goes; the promise has cancel()."""
        if isinstance(file, dict) and "file" in file:
            options, file = file, file.get("file")
        widget = self.widget
        if parley_js.kind(file) != "instance" or not isinstance(getattr(file, "size", None), (int, float)):
            return self._fail(rules.VALIDATION, "uploadFile takes a File or a Blob")
        if not widget.visitor_id or not widget.visitor_token:
            return self._fail(rules.CONNECTION_LOST, "connect first: uploads belong to a visitor")
        progress = options.get("onProgress") if isinstance(options, dict) else None
        uploads = []

        def run(resolve, reject):
            def moved(percent):
                if progress is not None:
                    try:
                        host_callable(progress)(percent / 100)
                    except HostCallbackError as error:
                        console.error("uploadFile's onProgress threw: %s" % error)

            def failed(status):
                reject(rules.upload_error(status, bool(uploads) and uploads[0].cancelled))
            endpoint = js.URL.new("../api/visitor/files", widget.base_url).href
            headers = visitor_headers(widget.config["appId"], widget.visitor_id, widget.visitor_token)
            uploads.append(Upload(endpoint, headers, file, moved, resolve, failed))
        def cancel(*_args):
            if uploads:
                uploads[0].cancel()
        return self._promise(run, cancel)

    def mark_events_as_seen(self, options=None):
        up_to = options.get("seenUpTo") if isinstance(options, dict) else options
        if isinstance(up_to, bool) or not isinstance(up_to, int):
            return self._fail(rules.VALIDATION, "markEventsAsSeen takes {seenUpTo: <message id>}")
        return self._call({"type": "seen", "upTo": up_to})

    def rate_chat(self, options=None):
        frame, problem = rules.rating_frame(options)
        if problem:
            return self._rejected(problem)
        chat_id = frame.get("chatId")

        def run(resolve, reject):
            self._request_and_event(frame, "chat_rated", lambda p: chat_id is None or p["chatId"] == chat_id,
                                    resolve, reject, "the rating was not announced in time")
        return self._promise(run)

    def cancel_rate(self, _options=None):
        return self._fail(rules.NOT_SUPPORTED, "a Parley rating can be changed by rating "
                          "again, not taken back")

    def set_sneak_peek(self, options=None):
        text = options.get("sneakPeekText") if isinstance(options, dict) else options
        socket = self.widget.socket
        if isinstance(text, str) and self.up and socket is not None:
            socket.send({"type": "typing", "text": text[:rules.MAX_TEXT]})
        return self._resolved()

    def set_language(self, options=None):
        """onWebChat's runtime language switch: the widget's texts in that language from
        now on, redrawn at once (not kept for the next page: call it on each page, as
        chaportConfig.language is set on each page)."""
        code = rules.language_code(options, LANGUAGES)
        if code is None:
            return self._fail(rules.VALIDATION, "setLanguage takes a language code the widget "
                                                "has: " + ", ".join(LANGUAGES))
        return self._resolved({"language": self.widget.set_language(code)})

    def launcher_clicked(self, state):
        self._emit("launcher_clicked", {"state": state})

    def visitor_typing(self, is_typing):
        self._emit("visitor_typing", {"chatId": self._open_chat_id(), "isTyping": is_typing})

    def get_predicted_agent(self, options=None):
        frame = {"type": "agent.predict"}
        assignees = options.get("assignees") if isinstance(options, dict) else None
        if isinstance(assignees, list) and assignees:
            frame["assignees"] = assignees
        return self._call(frame, "agent.predicted",
                          answer=lambda f: {"agent": f.get("operator"), "queue": bool(f.get("queued"))})

    def update_chat_properties(self, options=None):
        properties = options.get("properties") if isinstance(options, dict) and "properties" in options \
            else options
        if not isinstance(properties, dict):
            return self._fail(rules.VALIDATION, "updateChatProperties takes {properties: {...}}")

        def answer(found):
            self._emit("chat_properties_updated", {"chatId": found.get("chatId"),
                                                   "properties": found.get("properties")})
            return found.get("properties") or {}
        frame = {"type": "chat.properties", "properties": properties}
        return self._call(frame, "chat.properties", answer=answer)

    def delete_chat_properties(self, options=None):
        keys = options.get("properties") if isinstance(options, dict) else options
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            return self._fail(rules.VALIDATION, "deleteChatProperties takes {properties: [keys]}")
        return self.update_chat_properties({"properties": {key: None for key in keys}})

    def _greeting(self, action, options):
        greeting_id = options.get("greetingId") if isinstance(options, dict) else options
        if not isinstance(greeting_id, str) or not greeting_id:
            return self._fail(rules.VALIDATION, "takes {greetingId}: a trigger's id")
        return self._call({"type": "greeting", "action": action, "triggerId": greeting_id})

    def accept_greeting(self, options=None):
        return self._greeting("accept", options)

    def cancel_greeting(self, options=None):
        return self._greeting("cancel", options)


class History:
    """getChatHistory's iterator: next() pages back through the visitor's messages."""

    def __init__(self, client, chat_id, size):
        self.client = client
        self.chat_id = chat_id
        self.size = size
        self.before = None
        self.finished = False
        target = parley_js.hostObject()
        parley_js.set(target, "next", client._method("next", self.next))
        parley_js.set(target, "return", client._method("return", self.stop))
        self.object = parley_js.asyncIterable(target)

    def stop(self, *_args):
        self.finished = True
        return self.client._resolved({"value": None, "done": True})

    def next(self, *_args):
        client = self.client
        if self.size is None:
            return client._rejected(rules.error(rules.VALIDATION, "pageSize is 1..100"))

        def run(resolve, reject):
            self._page(resolve, reject)
        return client._promise(run)

    def _page(self, resolve, reject):
        if self.finished:
            resolve({"value": None, "done": True})
            return
        frame = {"type": "history", "limit": self.size}
        if self.before is not None:
            frame["before"] = self.before

        def answered(found):
            messages = found.get("messages") or []
            chat = found.get("chat")
            if isinstance(chat, dict) and chat.get("id"):
                self.client.widget.chats.setdefault(chat["id"], chat)
            page = [m for m in messages if self.chat_id is None or m.get("chatId") == self.chat_id]
            if not found.get("hasMore") or not messages:
                self.finished = True
            else:
                self.before = messages[0].get("id")
            if page:
                resolve({"value": page, "done": False})
            elif self.finished:
                resolve({"value": None, "done": True})
            else:
                self._page(resolve, reject)  # nothing of this chat here: the page before
        self.client._request(frame, "history", answered, reject)


def _chat_id(options):
    if isinstance(options, dict):
        options = options.get("chatId") or options.get("id")
    return options if isinstance(options, str) and options else None


def _timeout(what):
    return rules.error(rules.REQUEST_TIMEOUT, what)


def _refusal(disconnected):
    reason = disconnected["reason"]
    code = "BAD_TOKEN" if reason == "identity_mismatch" else reason.upper()
    return rules.error(code, "the server refused the session (close %s)" % disconnected["code"])
