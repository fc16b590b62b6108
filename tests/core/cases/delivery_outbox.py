from widget.core.delivery import Outbox, Timeline, new_client_id

print(new_client_id(123456789, 1), new_client_id(0, 2))
outbox = Outbox()
outbox.add("a", "hello")
outbox.add("b", "are you there?")
print([f["clientId"] for f in outbox.pending()])
print(outbox.acknowledge("a"), outbox.acknowledge("a"), [f["clientId"] for f in outbox.pending()])
outbox.restore([{"clientId": "b", "text": "dup"}, {"clientId": "c", "text": "new"}, {"bad": 1}, None])
print([(f["clientId"], f["text"]) for f in outbox.pending()])

timeline = Timeline()
print(timeline.add({"id": 2, "text": "second"}), timeline.add({"id": 1, "text": "first"}))
print(timeline.add({"id": 2, "text": "again"}), timeline.add({"text": "no id"}))
print([m["text"] for m in timeline.messages()])
print(timeline.saw_seq(1), timeline.saw_seq(1), timeline.saw_seq(3), timeline.saw_seq(2), timeline.last_seq)

files = Outbox()
queued = files.add("f", "", {"id": "ab" * 16, "name": "a.png"})
print(queued["fileId"], queued["file"]["name"], "fileId" in files.add("g", "x", {"name": "no id"}))
again = Outbox()
again.restore(files.pending())
print([(f["clientId"], f.get("fileId")) for f in again.pending()])
