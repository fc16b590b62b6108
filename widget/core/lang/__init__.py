"""One module per widget language, each a `TABLE` of every string by key (widget.core.i18n)."""
