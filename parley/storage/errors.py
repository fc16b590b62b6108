"""What storage refuses, as domain exceptions: callers translate them into their own
answers (an HTTP status, a frame error, a CLI message). Storage never speaks the wire."""

from __future__ import annotations


class StorageError(Exception):
    """A write storage refused; nothing was changed."""


class NotFound(StorageError):
    """The row does not exist, or belongs to another app (the same answer: nothing leaks)."""


class Conflict(StorageError):
    """The write contradicts what is stored (a closed chat, a taken name)."""


class LimitReached(StorageError):
    """The app already has as many of these rows as it may."""
