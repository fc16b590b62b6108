# The inbox page's model (static/inbox/model.py) runs in the operator's browser on
# MicroPython: the same steps must give the same answers on both Pythons.
import sys

sys.path.insert(0, "/lib/static/inbox")  # MicroPython (tests/mpy_run.mjs mounts static/ there)
sys.path.insert(0, "static/inbox")  # CPython, run from the repository's root

import model
import strings

t = strings.t


def message(id_, kind="visitor", text="hi", chat="c1", **extra):
    found = {"id": id_, "chatId": chat, "authorKind": kind, "authorId": "x", "text": text,
             "clientId": None, "createdAt": "2025-01-01T10:00:00.000Z"}
    found.update(extra)
    return found


def api_chat(id_="c1", last=None, unread=0):
    return {"id": id_, "visitorId": "v" + id_, "status": "open", "operatorIds": [],
            "startedAt": "2025-01-01T09:00:00.000Z", "endedAt": None,
            "visitor": {"id": "v" + id_, "name": None, "email": None, "country": None},
            "lastMessage": last, "unread": unread}


# Unread counts, the order of the list, duplicates (an ack and the live event).
inbox = model.Inbox()
inbox.load_chats([api_chat("c1", message(5), unread=2), api_chat("c2", message(7, chat="c2"), unread=1)])
print("listed", [c["id"] for c in inbox.listed("open")], "unread", inbox.total_unread())
print("added", inbox.add_message("c1", message(9)), "again", inbox.add_message("c1", message(9)))
print("listed", [c["id"] for c in inbox.listed("open")], "c1 unread", inbox.unread(inbox.chats["c1"]))
inbox.select("c1")
print("seen to send", inbox.seen_to_send("c1"))
inbox.mark_read("c1", 9)
print("after read", inbox.unread(inbox.chats["c1"]), inbox.seen_to_send("c1"))
print("seen by another tab", inbox.seen("c2", 7, "operator"), inbox.unread(inbox.chats["c2"]))

# The outbox keeps client ids until acked.
first = inbox.queue("c1", "hello", 1700000000000, "ab")
second = inbox.queue("c1", "again", 1700000000000, "ab")
print("distinct ids", first["clientId"] != second["clientId"], len(first["clientId"]) <= 64)
inbox.failed(second["clientId"], "retry", "slow down")
print("to resend", [item["text"] for item in inbox.to_resend()])
acked = message(10, kind="operator", text="hello")
acked["clientId"] = first["clientId"]
inbox.acked(first["clientId"], acked)
print("pending", [item["text"] for item in inbox.pending("c1")])
inbox.failed(second["clientId"], "failed", "no")
inbox.drop_failed("c1")
print("outbox", inbox.outbox)

# Receipts and typing previews.
reply = message(11, kind="operator")
inbox.add_message("c1", reply)
print("status", inbox.status(reply), inbox.seen("c1", 11, "visitor"), inbox.status(reply))
print("typing", inbox.visitor_typing(None, "vc2", "Do you"), sorted(inbox.typing.items()))
inbox.add_message("c2", message(12, chat="c2"))
print("typing after a message", inbox.typing)

# Words from codes; previews; sizes and thumbnails.
inbox.set_operators([{"id": "o1", "name": "Ann"}])
print(inbox.system_text({"code": "assigned", "operatorId": "o1"}, t))
print(inbox.system_text({"code": "closed", "by": "visitor"}, t))
print(inbox.system_text({"code": "from-the-future"}, t))
png = {"id": "f" * 32, "name": "dot.png", "contentType": "image/png", "size": 1234, "width": 4,
       "height": 3, "url": "/files/" + "f" * 32 + "/dot.png"}
print(inbox.preview(None, t), "|", inbox.preview({"authorKind": "operator", "text": "", "file": png}, t))
print([model.human_size(n, t) for n in (0, 999, 1000, 1234, 1240000, 3000000000, None)])
print(model.thumb_size(4800, 1200), model.thumb_size(1000, 3000), model.thumb_size(None, 3))
urls = (png["url"], "javascript:alert(1)", "//evil.example/x", None)
print([model.safe_file_url({"url": url}) for url in urls])
print(model.upload_problem(413, {"code": "PARLEY_E_FILE_TOO_LARGE"}, 12500000, t))
print(model.upload_problem(0, None, 10, t))

# The operator's own typing: at most every two seconds.
typing = model.TypingOut()
for text, now in (("H", 1000), ("He", 1500), ("Hel", 3100)):
    frames = typing.changed("c1", text, now)
    print([sorted(frame.items()) for frame in frames])  # MicroPython's dicts print in another order
