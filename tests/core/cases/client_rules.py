from widget.core.client import (
    close_reason,
    customer_data,
    error_from_frame,
    event_to_send,
    known_chats,
    language_code,
    page_size,
    rating_frame,
    sdk_code,
    start_chat_event,
    upload_error,
)

# Parley's codes as the SDK's, by request where one code means several things.
print(sdk_code("PARLEY_E_NOT_FOUND"), sdk_code("PARLEY_E_NOT_FOUND", "file"), sdk_code("PARLEY_E_CONFLICT"))
print(sdk_code("PARLEY_E_RATE_LIMIT"), sdk_code("PARLEY_E_UNAVAILABLE"), sdk_code("PARLEY_E_BAD_FRAME"))
print(sdk_code("PARLEY_E_SOMETHING_NEW"), sdk_code(""), sdk_code(None))
frame = {"v": 1, "type": "error", "code": "PARLEY_E_RATE_LIMIT", "message": "slow down", "retryAfter": 3,
         "clientId": "c-1"}
print(sorted(error_from_frame(frame).items()))
print(sorted(error_from_frame({"type": "error", "code": "PARLEY_E_CONFLICT", "openChatId": "x"}).items()))
print(close_reason(1006), close_reason(4403), close_reason(4429), close_reason(None), close_reason(4999))
# sendEvent's events.
print(event_to_send({"type": "message", "text": "Hi"}))
print(event_to_send({"type": "message", "text": "  "})[2]["message"])
print(event_to_send({"type": "message", "text": "x" * 5001})[2]["code"])
print(event_to_send({"type": "file", "file": {"id": "f1"}})[2]["code"])
sent = event_to_send({"type": "file", "file": {"id": "0123456789abcdef" * 2, "name": "a.png"}, "text": "see"})
print(sent[0], sorted(sent[1].items()), sent[2])
print(event_to_send({"type": "file"})[2]["code"])
print(sorted(event_to_send({"type": "rich_message"})[2].items()))
print(event_to_send({"text": "no type"})[2]["code"], event_to_send("Hi")[2]["code"])
# startChat's forms.
print(sorted(start_chat_event("Hello").items()), sorted(start_chat_event({"text": "Hi"}).items()))
sdk = {"chat": {"thread": {"events": [{"type": "message", "text": "SDK"}]}}}
print(sorted(start_chat_event(sdk).items()))
print(start_chat_event({}), start_chat_event(3))
# rateChat.
print(sorted(rating_frame({"rating": {"score": 1}})[0].items()))
print(sorted(rating_frame({"chatId": "c1", "rating": {"score": 0, "comment": "slow"}})[0].items()))
print(rating_frame({"rating": {"score": 5}})[1]["message"])
print(rating_frame({"rating": {"score": True}})[1]["code"])
print(rating_frame(None)[1]["code"], rating_frame({"rating": {"score": 1, "comment": 3}})[1]["message"])
# updateCustomer.
print(sorted(customer_data({"name": "Ann", "sessionFields": {"plan": "pro"}})[0].items()))
print(customer_data({"name": 3})[1]["message"], customer_data({"age": 3})[1]["message"])
# getChatHistory's page size.
print(page_size(None), page_size(10), page_size(0), page_size(101), page_size(True), page_size("5"))
print([c["id"] for c in known_chats({"a": {"id": "a", "startedAt": "2025-01-01"},
                                     "b": {"id": "b", "startedAt": "2025-02-01"}, "c": None})])
print(upload_error(413)["code"], upload_error(415)["code"], upload_error(0)["code"])
print(upload_error(0, True)["code"], upload_error(500)["code"])
# setLanguage's argument: a code, a tag or {language}; None for what the widget lacks.
HAVE = ("en", "de", "pt", "ar")
ASKED = ("de", "de-AT", "pt_BR", " AR ", {"language": "de"}, "xx", "", 42, None, {"lang": "de"}, ["de"])
print([language_code(v, HAVE) for v in ASKED])
assert language_code("de-AT", HAVE) == "de" and language_code("xx", HAVE) is None
