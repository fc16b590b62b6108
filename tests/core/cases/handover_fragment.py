from widget.core.handover import PENDING, handover_fragment, read_fragment

token = "Xy_9-" * 8 + "abc"  # 43 url-safe characters, like the server's
print(handover_fragment(token))
print(handover_fragment(None))
print(read_fragment(handover_fragment(token)) == ("token", token))
print(read_fragment(PENDING))
print(read_fragment(handover_fragment(None)))
# The raw credentials of before, and broken tokens, are refused, never adopted.
print(read_fragment("#parley=0123456789abcdef01234567.secret-token_value-1234567890"))
print(read_fragment("#parley-handover=short"))
print(read_fragment("#parley-handover=" + "a" * 200))
print(read_fragment("#parley-handover=" + "a" * 30 + ".b"))
print(read_fragment("#parley-handover=" + "a" * 30 + "&x=1"))
# Not ours: left alone.
print(read_fragment(""))
print(read_fragment("#section-2"))
print(read_fragment("#parleyvous"))
print(read_fragment(None))
