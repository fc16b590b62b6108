from widget.core.events import EventEmitter

errors = []
emitter = EventEmitter(lambda name, error: errors.append((name, str(error))))
seen = []


def first(payload):
    seen.append(("first", payload["visitorId"]))


def broken(payload):
    raise ValueError("host bug")


def last(payload):
    seen.append(("last", payload["visitorId"]))


print(emitter.on("ready", first))
print(emitter.on("ready", broken))
print(emitter.on("ready", last))
print(emitter.on("no.such.event", first))
print(emitter.on("ready", 42))
print(emitter.emit("ready", {"visitorId": "v1"}))
print(seen)
print(errors)
print(emitter.emit("chat.started"))
