"""Parley's website widget: Python that runs in the visitor's browser (MicroPython)."""
