"""Where the visitor's credentials are kept in the browser (`session` option).

No cookie unless the site asks for one with `session.cookieDomain` (to share
the visitor across subdomains); otherwise the host origin's localStorage; and
nothing at all with `session.persist: false`.
"""

COOKIE_MAX_AGE = 365 * 24 * 3600


def storage_kind(session):
    """'none', 'cookie' or 'local' for the normalised `session` option."""
    if not session.get("persist", True):
        return "none"
    if session.get("cookieDomain"):
        return "cookie"
    return "local"


def cookie_name(app_id):
    return "parley_" + "".join(c for c in app_id if c.isalpha() or c.isdigit())


def _cookie_safe(text):
    # Credentials are ids and url-safe tokens; refuse anything that could break the header.
    return all(c.isalpha() or c.isdigit() or c in "-_" for c in text)


def encode_cookie(app_id, visitor_id, token, domain, secure):
    """The document.cookie assignment for these credentials, or None if unsafe."""
    if not (isinstance(visitor_id, str) and isinstance(token, str)):
        return None
    if not (_cookie_safe(visitor_id) and _cookie_safe(token)):
        return None
    if not isinstance(domain, str) or not domain or ";" in domain or "," in domain or " " in domain:
        return None
    parts = [
        "%s=%s.%s" % (cookie_name(app_id), visitor_id, token),
        "domain=" + domain,
        "path=/",
        "max-age=%d" % COOKIE_MAX_AGE,
        "SameSite=Lax",
    ]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def expire_cookie(app_id, domain):
    return "%s=; domain=%s; path=/; max-age=0; SameSite=Lax" % (cookie_name(app_id), domain)


def decode_cookie(app_id, cookie_header):
    """(visitor_id, token) from document.cookie, or (None, None)."""
    prefix = cookie_name(app_id) + "="
    for part in (cookie_header or "").split(";"):
        part = part.strip()
        if part.startswith(prefix):
            value = part[len(prefix):]
            dot = value.find(".")
            if dot > 0 and _cookie_safe(value[:dot]) and _cookie_safe(value[dot + 1:]):
                return value[:dot], value[dot + 1:]
    return None, None
