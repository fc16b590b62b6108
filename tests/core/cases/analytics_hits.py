from widget.core.analytics import choose_api, hit

google = {"id": None, "api": None, "apiObject": None, "enabled": True}
print(choose_api(google, {}))
print(choose_api(google, {"ga": True, "gtm": True}))
print(choose_api(google, {"gaq": True, "gtag": True}))
print(choose_api({"api": "ga", "enabled": True}, {"gtag": True}))
print(choose_api({"api": "ga", "enabled": True}, {"ga": True, "gtag": True}))
print(choose_api({"enabled": False}, {"gtag": True}))
print(choose_api(None, {"gtag": True}))

kind, args = hit("gtag", "expanded", "G-1")
print(kind, args[0], args[1], sorted(args[2].items()))
kind, value = hit("gtm", "chat.started")
print(kind, sorted(value.items()))
print(hit("ga", "collapsed"))
print(hit("gaq", "chat.autoInvitation"))
print(hit("gtag", "unreadMessage"))
print(hit("nope", "expanded"))
