"""Small checks of what a visitor types."""


def looks_like_email(text):
    """A plausible email address: one @, a dot in the domain and no empty label around it,
    no whitespace, 3 to 320 characters. The one rule of the widget, the server
    (parley.rules.email) and the admin screens (which get this file as it is)."""
    if not isinstance(text, str):
        return False
    text = text.strip()
    if not 3 <= len(text) <= 320 or text.count("@") != 1:
        return False
    if any(char in text for char in " \t\r\n"):
        return False
    local, domain = text.split("@")
    if not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        return False
    return ".." not in domain
