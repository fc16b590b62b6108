# Type rules of compare: numbers, numeric strings, booleans, missing values, objects.
from widget.core.compare import JS_NULL, compare, fold, parse_number

CASES = [
    # numeric strings against numbers compare numerically
    ("10", "gt", 9, True),
    ("10", "=", 10, True),
    ("10.0", "=", 10, True),
    (" 7 ", "=", 7, True),
    ("1e3", "=", 1000, True),
    ("abc", "=", 0, False),
    ("abc", "gt", 0, False),
    ("", "=", 0, False),
    (12.0, "contains", "12", True),
    (12345, "contains", 234, True),
    # two strings: text for =, numbers for ordering when both are numeric
    ("007", "=", "7", False),
    ("10", "gt", "9", True),
    ("b", "gt", "A", True),
    ("apple", "lt", "Banana", True),
    ("10", "gt", "abc", False),
    # booleans: equality only
    (True, "=", True, True),
    (True, "=", False, False),
    (True, "=", "TRUE", True),
    ("false", "=", False, True),
    (True, "=", 1, False),
    (1, "=", True, False),
    (0, "=", False, False),
    (True, "gt", False, False),
    (True, "contains", "t", False),
    (True, "!=", 1, True),
    # missing values never match a positive matcher
    (None, "=", None, False),
    (None, "!=", None, True),
    (None, "=", "x", False),
    (None, "!=", "x", True),
    ("x", "=", None, False),
    (None, "contains", "", False),
    (None, "!contains", "a", True),
    (None, "gt", 0, False),
    (None, "lte", 0, False),
    (JS_NULL, "=", JS_NULL, False),
    (JS_NULL, "!=", "x", True),
    # lists and dicts: equality only, never "contain"
    ([1, 2], "=", [1, 2], True),
    ({"a": 1}, "=", {"a": 1}, True),
    (["a"], "contains", "a", False),
    ([1], "gt", 0, False),
    ("[1]", "=", [1], False),
    # NaN and infinity
    (float("nan"), "=", float("nan"), False),
    (float("nan"), "gt", 0, False),
    (float("inf"), "gt", 10**30, True),
]


def show(value):
    # repr() escapes non-ASCII text on MicroPython only; quote strings ourselves.
    return "'" + value + "'" if isinstance(value, str) else repr(value)


for value, matcher, expected, result in CASES:
    got = compare(value, matcher, expected)
    print(show(value), matcher, show(expected), got)
    assert got is result, (value, matcher, expected, got)

# Ordering matchers are complementary whenever two values can be ordered.
for left, right in [(1, 2), (2, 2), ("10", 9), ("a", "B"), (-0.5, "-1")]:
    assert compare(left, "gt", right) is not compare(left, "lte", right)
    assert compare(left, "lt", right) is not compare(left, "gte", right)
print("ordering complements hold")

numbers = [
    "5.",
    ".5",
    ".",
    "-",
    "+5",
    "007",
    "1e3",
    "1e",
    "1e+2",
    "inf",
    " 10 ",
    "1_0",
    "1e999",
    "١٢",
    "0x10",
]
print([parse_number(text) for text in numbers])
assert parse_number("007") == 7 and parse_number("١٢") is None and parse_number("1_0") is None

print(fold("ÀÉÎÕÜ ĀĞŁŒŽ Ÿ ΆΈΣς ЁЖЯ ABC"))
assert fold("ΣΑΣ") == fold("σας") == "σασ"
assert fold("Ÿ") == "ÿ" and fold("ĸ") == "ĸ"
