"""Small checks of what a visitor types."""


def looks_like_email(text):
    """A plausible email address: one @, a dot in the domain, no spaces, sane length."""
    if not isinstance(text, str):
        return False
    text = text.strip()
    if not 3 <= len(text) <= 320 or " " in text or text.count("@") != 1:
        return False
    local, domain = text.split("@")
    if not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        return False
    return ".." not in domain
