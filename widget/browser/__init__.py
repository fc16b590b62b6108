"""Browser-only parts of the widget: host-page binding, DOM, transport (MicroPython + js)."""
