from widget.core.conversation import (
    SEEN,
    SENDING,
    UNREAD,
    OperatorTyping,
    Receipts,
    after_chat,
    human_size,
    system_text,
    transcript_problem,
    upload_problem,
)
from widget.core.i18n import Translator

t = Translator("en").t
receipts = Receipts()
mine = {"id": 5, "authorKind": "visitor"}
print(receipts.status(mine, True) == SENDING, receipts.status({"authorKind": "visitor"}, False) == SENDING)
print(receipts.status(mine, False) == UNREAD)
# The spec's three words (Sending, Unread, Read), translated like every other string.
print(t(SENDING), "|", t(UNREAD), "|", t(SEEN))
print(Translator("de").t(UNREAD), "|", Translator("ja").t(UNREAD))
print(receipts.learn_event({"type": "seen", "upTo": 5, "by": "operator"}),
      receipts.status(mine, False) == SEEN)
print(receipts.learn_event({"upTo": 4, "by": "operator"}), receipts.learn_event({"upTo": "x"}))
later = {"id": 9, "authorKind": "visitor", "seenAt": "2025-01-01T00:00:00Z"}
print(receipts.learn_message(later), receipts.operator_seen_up_to)

reply = {"id": 7, "authorKind": "operator"}
line = {"id": 8, "authorKind": "system"}
print(receipts.to_report([mine, reply]), receipts.to_report([mine, reply]), receipts.to_report([reply, line]))
print(receipts.learn_event({"upTo": 12, "by": "visitor"}),
      receipts.to_report([{"id": 11, "authorKind": "operator"}]))
print(receipts.learn_message({"id": 20, "authorKind": "operator", "seenAt": "x"}), receipts.reported_up_to)

typing = OperatorTyping()
print(repr(typing.text(0, t)))
typing.frame({"typing": True, "operator": {"id": "o1", "name": "Ann"}}, 1000)
print(typing.text(1500, t), repr(typing.text(7000, t)))
typing.frame({"typing": True, "operator": {"id": "o1", "name": ""}}, 8000)
print(typing.text(8001, t))
typing.message({"authorKind": "operator", "authorId": "o2"})
print(typing.text(8002, t))
typing.message({"authorKind": "operator", "authorId": "o1"})
print(repr(typing.text(8003, t)))
typing.frame({"typing": True, "operator": {"id": "o1", "name": "Ann"}}, 9000)
typing.frame({"typing": False, "operator": {"id": "o1", "name": "Ann"}}, 9001)
print(repr(typing.text(9002, t)))

names = {"o1": "Ann"}
print(system_text({"code": "assigned", "operatorId": "o1"}, names, t))
print(system_text({"code": "assigned", "operatorId": "zz"}, names, t))
print(system_text({"code": "closed", "by": "visitor"}, names, t), system_text({"code": "new"}, names, t),
      system_text(None, names, t))
print(Translator("de").t("operator_joined", name="Ann"))
print(system_text({"code": "reopened", "by": "o1"}, names, t), "|",
      Translator("fr").t("chat_reopened"), "|", Translator("he").t("chat_reopened"))

print(after_chat(None), after_chat({"status": "open"}), after_chat({"status": "closed"}),
      after_chat({"status": "closed", "rating": "bad"}))
print(human_size(999), human_size(1000), human_size(1234567), human_size(10 ** 10), repr(human_size(-1)))
print(upload_problem(413, 10000000, t))
print(upload_problem(415, 0, t), "|", upload_problem(500, 0, t), "|", upload_problem(0, 0, t))
print(transcript_problem("PARLEY_E_FORBIDDEN", t), "|", transcript_problem("PARLEY_E_CONFLICT", t))
print(transcript_problem("PARLEY_E_RATE_LIMIT", t), "|", transcript_problem("PARLEY_E_NOT_FOUND", t))
print(transcript_problem("PARLEY_E_FORBIDDEN", Translator("ja").t))
