"""How a command says it cannot go on: UsageError (exit 2) and CommandError (exit 1)."""

from __future__ import annotations

from parley import rules


class UsageError(rules.InvalidInput):
    """A mistake in the command's input: printed as one clear line, exit 2. The input
    rules (parley.rules) raise InvalidInput naming the option, which is printed the same way."""

    def __init__(self, message: str) -> None:
        ValueError.__init__(self, message)
        self.field, self.message = "", message


class CommandError(Exception):
    """The input was fine but the command could not be done (database unreachable, port taken):
    printed as one clear line, exit 1."""


def first_line(error: BaseException) -> str:
    """The error's message in one line (its type's name when it has none)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
