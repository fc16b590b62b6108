"""Parley: the server, storage, protocol and CLI."""

__version__ = "0.1.0"
