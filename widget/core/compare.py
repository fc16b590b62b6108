"""`chaport.compare(value, matcher, expected)`: the matchers of assignment rules.

Rules (the spec only names the matchers; everything else here is our decision):

- Missing values: `None` (JS `undefined`/`null`, also `JS_NULL`) on EITHER side never
  matches a positive matcher (`=`, `contains`, `gt`, ...), not even another missing
  value; the negative matchers `!=` and `!contains` are always the exact negation of
  `=` and `contains`, so they DO match a missing value.
- Case: `=`, `!=`, `contains`, `!contains` and text ordering ignore letter case.
  Chaport documents `=`/`!=` as case-insensitive; `contains` follows suit so a rule
  like ['page_url', 'contains', 'Pricing'] behaves as a reader expects. Case folding
  is done here, not with `str.lower()`, because MicroPython's `lower()` only folds
  ASCII: we fold ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic letters the
  same way on both interpreters; other scripts compare exactly.
- Numbers: ints and floats compare numerically. A number against a numeric string
  compares numerically too (compare('10', 'gt', 9) is True, compare('10.0', '=', 10)
  is True). Two strings are compared as text by `=`/`contains` ('007' != '7', postal
  codes stay text) but numerically by the ordering matchers when BOTH are numeric
  ('10' > '9'); otherwise ordering compares folded text. NaN is not a number.
- Booleans compare by equality only: against a boolean or the strings 'true'/'false'
  (any case). Ordering with a boolean never matches, nor does `contains`.
- `contains` needs text on both sides: strings, or numbers (by their decimal text,
  12.0 -> '12'). Lists, dicts and other objects never "contain"; they are `=` only
  when Python `==` says so.
- An unknown matcher raises ValueError (the binding reports it as a console error).
"""

MATCHERS = ("=", "!=", "contains", "!contains", "gt", ">", "lt", "<", "gte", ">=", "lte", "<=")


class _JsNull:
    """JS `null` as passed by the browser binding, distinct from `None` (JS `undefined`).

    Falsy like JS null. Only the assignment `resolve` step tells the two apart; for
    comparisons both are a missing value.
    """

    def __bool__(self):
        return False

    def __repr__(self):
        return "JS_NULL"


JS_NULL = _JsNull()

# Offsets from an upper-case letter to its lower-case one, per code point range
# (inclusive). Ranges with pairs (upper even, lower odd or vice versa) are below.
_FOLD_RANGES = (
    (0x41, 0x5A, 32),  # A-Z
    (0xC0, 0xD6, 32),  # À-Ö
    (0xD8, 0xDE, 32),  # Ø-Þ
    (0x388, 0x38A, 37),  # Έ-Ί
    (0x38E, 0x38F, 63),  # Ύ-Ώ
    (0x391, 0x3A1, 32),  # Α-Ρ
    (0x3A3, 0x3AB, 32),  # Σ-Ϋ
    (0x400, 0x40F, 80),  # Ѐ-Џ
    (0x410, 0x42F, 32),  # А-Я
)
_FOLD_SINGLE = {0x386: 0x3AC, 0x38C: 0x3CC, 0x3C2: 0x3C3, 0x178: 0xFF}


def _fold_char(c):
    code = ord(c)
    if code < 0x41:
        return c
    for low, high, offset in _FOLD_RANGES:
        if low <= code <= high:
            return chr(code + offset)
    mapped = _FOLD_SINGLE.get(code)
    if mapped is not None:
        return chr(mapped)
    if 0x100 <= code <= 0x17F:
        # Latin Extended-A: upper/lower pairs; the parity of the upper case flips
        # between 0x138 and 0x149 and again after 0x178.
        if 0x139 <= code <= 0x148 or 0x179 <= code <= 0x17E:
            return chr(code + 1) if code % 2 == 1 else c
        if code % 2 == 0 and code != 0x130 and code != 0x138 and code != 0x178:
            return chr(code + 1)
    return c


def fold(text):
    """Case-fold `text` identically on CPython and MicroPython (see module docstring)."""
    try:
        ascii_only = len(text.encode()) == len(text)
    except ValueError:  # lone surrogates (CPython can't encode them)
        ascii_only = False
    if ascii_only:  # lower() is exact and the same on both interpreters
        return text.lower()
    return "".join([_fold_char(c) for c in text])


def _is_missing(value):
    return value is None or value is JS_NULL


def _is_number(value):
    """A real number: int or float but not bool, and not NaN."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value == value


_DIGITS = "0123456789"


def _digits(text, start):
    """Index just past the ASCII digits starting at `start`."""
    end = start
    while end < len(text) and text[end] in _DIGITS:
        end += 1
    return end


def parse_number(text):
    """The number a decimal string spells ('12', ' -3.5 ', '1e3', '.5'), else None.

    Strict on purpose: no 'inf', 'nan', '0x10', '1_000', and no non-ASCII digits
    (which `float()` would accept differently on the two interpreters).
    """
    text = text.strip()
    i = 0
    if i < len(text) and text[i] in "+-":
        i += 1
    whole_end = _digits(text, i)
    is_int = True
    frac_end = whole_end
    if frac_end < len(text) and text[frac_end] == ".":
        frac_end = _digits(text, frac_end + 1)
        is_int = False
        if frac_end - whole_end == 1 and whole_end == i:
            return None  # a lone "." or "-."
    elif whole_end == i:
        return None
    end = frac_end
    if end < len(text) and text[end] in "eE":
        exp_start = end + 1
        if exp_start < len(text) and text[exp_start] in "+-":
            exp_start += 1
        end = _digits(text, exp_start)
        if end == exp_start:
            return None
        is_int = False
    if end != len(text):
        return None
    if is_int:
        return int(text)
    number = float(text)
    return number if number - number == 0 else None  # "1e999" overflows to inf


def _as_number(value):
    """`value` as a number when it is one or a numeric string, else None."""
    if _is_number(value):
        return value
    if isinstance(value, str):
        return parse_number(value)
    return None


def _as_text(value):
    """Text form used by `contains`, or None when `value` has none."""
    if isinstance(value, str):
        return value
    if _is_number(value):
        if isinstance(value, float) and value - value == 0 and value == int(value):
            return str(int(value))  # JS prints 12.0 as "12"
        return str(value)
    return None


def _bool_of(value):
    """A boolean, or the string 'true'/'false' in any case, as a bool; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = fold(value.strip())
        if word == "true":
            return True
        if word == "false":
            return False
    return None


def _equal(value, expected):
    if _is_missing(value) or _is_missing(expected):
        return False
    if isinstance(value, bool) or isinstance(expected, bool):
        left = _bool_of(value)
        right = _bool_of(expected)
        return left is not None and left == right
    if isinstance(value, str) and isinstance(expected, str):
        return fold(value) == fold(expected)
    if _is_number(value) or _is_number(expected):
        left = _as_number(value)
        right = _as_number(expected)
        return left is not None and right is not None and left == right
    if isinstance(value, str) or isinstance(expected, str):
        return False
    return value == expected


def _contains(value, expected):
    if _is_missing(value) or _is_missing(expected):
        return False
    haystack = _as_text(value)
    needle = _as_text(expected)
    if haystack is None or needle is None:
        return False
    return fold(needle) in fold(haystack)


def _order(value, expected):
    """-1, 0 or 1 comparing `value` with `expected`; None when they can't be ordered."""
    if _is_missing(value) or _is_missing(expected):
        return None
    if isinstance(value, bool) or isinstance(expected, bool):
        return None
    left = _as_number(value)
    right = _as_number(expected)
    if left is not None and right is not None:
        return (left > right) - (left < right)
    if isinstance(value, str) and isinstance(expected, str):
        left = fold(value)
        right = fold(expected)
        return (left > right) - (left < right)
    return None


def compare(value, matcher, expected):
    """True when `value <matcher> expected` holds under the rules in the module docstring.

    Raises ValueError naming the matcher and the valid ones when `matcher` is unknown.
    """
    if not isinstance(matcher, str) or matcher not in MATCHERS:
        raise ValueError(
            "unknown matcher {}; valid matchers: {}".format(_quote(matcher), ", ".join(MATCHERS))
        )
    if matcher == "=":
        return _equal(value, expected)
    if matcher == "!=":
        return not _equal(value, expected)
    if matcher == "contains":
        return _contains(value, expected)
    if matcher == "!contains":
        return not _contains(value, expected)
    order = _order(value, expected)
    if order is None:
        return False
    if matcher == "gt" or matcher == ">":
        return order > 0
    if matcher == "lt" or matcher == "<":
        return order < 0
    if matcher == "gte" or matcher == ">=":
        return order >= 0
    return order <= 0  # lte / <=


def _quote(value):
    if isinstance(value, str):
        return f"'{value}'"
    if value is None:
        return "undefined"
    return repr(value)
