"""Pure widget logic: no `js` import, runs under CPython and MicroPython alike.

Rules for every module here (MicroPython compatibility):
- no `typing` at runtime, no dataclasses, no f-string `=` specifiers, no walrus in
  comprehensions, no `str.casefold`, no `dict | dict`; keep to the language
  subset both interpreters share;
- decisions return values (and warnings as lists of strings); no I/O.
"""
