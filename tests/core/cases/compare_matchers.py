# Every matcher of the spec, with the case rules, on both interpreters.
from widget.core.compare import JS_NULL, MATCHERS, compare

print(MATCHERS)

CASES = [
    # (value, matcher, expected, result)
    ("US", "=", "us", True),
    ("US", "=", "USA", False),
    ("Привет", "=", "пРИВЕТ", True),
    ("École", "=", "école", True),
    ("ΣΟΦΙΑ", "=", "σοφια", True),
    ("Straße", "=", "STRASSE", False),
    ("US", "!=", "us", False),
    ("US", "!=", "CA", True),
    ("https://Example.com/Pricing", "contains", "example.com/pricing", True),
    ("https://example.com/", "contains", "pricing", False),
    ("abc", "contains", "", True),
    ("ŁÓDŹ city", "contains", "łódź", True),
    ("https://example.com/", "!contains", "PRICING", True),
    ("https://example.com/pricing", "!contains", "PRICING", False),
    (10, "gt", 9, True),
    (10, ">", 10, False),
    (9, "lt", 10, True),
    (10, "<", 10, False),
    (10, "gte", 10, True),
    (10, ">=", 11, False),
    (10, "lte", 10, True),
    (11, "<=", 10, False),
    (2.5, "gt", 2, True),
    (-1, "lt", 0, True),
]


def show(value):
    # repr() escapes non-ASCII text on MicroPython only; quote strings ourselves.
    return "'" + value + "'" if isinstance(value, str) else repr(value)


for value, matcher, expected, result in CASES:
    got = compare(value, matcher, expected)
    print(show(value), matcher, show(expected), got)
    assert got is result, (value, matcher, expected, got)

# The negative matchers are always the exact negation of the positive ones.
for value, expected in [
    ("a", "A"),
    (None, None),
    (None, "x"),
    (JS_NULL, "x"),
    (1, "1"),
    ([1], [1]),
]:
    for positive, negative in (("=", "!="), ("contains", "!contains")):
        assert compare(value, positive, expected) is not compare(value, negative, expected)
print("negations hold")

# An unknown matcher is an error naming it and the valid ones.
for bad in ("==", "equals", None, 3):
    try:
        compare("a", bad, "a")
    except ValueError as error:
        message = str(error)
        print(message)
        assert "valid matchers: =, !=, contains" in message
    else:
        raise AssertionError(f"no error for {bad!r}")
