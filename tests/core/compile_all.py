# Compiled by MicroPython in test_both_pythons: every widget/ and static/ (operator pages)
# file must parse on the browser's interpreter (CPython-only syntax such as [*a, b] must
# not slip in).
import os


def walk(folder):
    for name in sorted(os.listdir(folder)):
        path = folder + "/" + name
        if name.endswith(".py"):
            yield path
        elif "." not in name and name != "__pycache__":
            try:
                os.listdir(path)
            except OSError:
                continue
            yield from walk(path)


count = 0
for folder in ("/lib/widget", "/lib/static"):
    for path in walk(folder):
        with open(path) as source:
            compile(source.read(), path, "exec")
        count += 1
print("compiled", count)
