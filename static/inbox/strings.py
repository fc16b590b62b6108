"""Every string the inbox shows, in one table (English first; translations replace it).

Values are `str.format` templates: `t("unread", count=3)`. Keys are stable; the
page's HTML refers to them with `data-t` (text), `data-t-label` (aria-label) and
`data-t-placeholder` attributes.
"""

STRINGS = {
    "app.title": "Parley inbox",
    "app.title.unread": "({count}) Parley inbox",
    "brand": "Parley",
    # login
    "login.heading": "Log in to your inbox",
    "login.email": "Email",
    "login.password": "Password",
    "login.app": "App ID",
    "login.app.hint": "Your email is in several apps: enter the ID of the app to open.",
    "login.submit": "Log in",
    "login.busy": "Logging in…",
    "login.failed": "Wrong email or password.",
    "login.failed.app": "Wrong app ID, email or password.",
    "login.missing": "Enter your email and password.",
    "login.rate": "Too many failed attempts. Try again in {seconds} seconds.",
    "login.origin": "Log in from this server's own address.",
    # header
    "header.logout": "Log out",
    "header.signed_in": "Signed in as {name}",
    "conn.connecting": "Connecting…",
    "conn.live": "Live",
    "conn.offline": "Offline, reconnecting in {seconds} s",
    "conn.reconnecting": "Reconnecting…",
    # chat list
    "list.label": "Chats",
    "tab.open": "Open",
    "tab.closed": "Closed",
    "tab.count": "{label} ({count})",
    "list.empty.open": "No open chats. New chats appear here as visitors write.",
    "list.empty.closed": "No closed chats yet.",
    "list.unread": "{count} unread",
    "list.closed": "closed",
    "list.no_messages": "No messages yet",
    "visitor.anonymous": "Visitor {short}",
    "you": "You",
    # conversation
    "conv.started": "Chat started at {time}",
    "conv.none": "Select a chat to see the conversation.",
    "conv.label": "Conversation",
    "conv.earlier": "Load earlier messages",
    "conv.loading": "Loading messages…",
    "conv.close": "Close chat",
    "conv.closing": "Closing…",
    "conv.closed": "This chat is closed.",
    "conv.typing": "Visitor is typing: {text}",
    "conv.reply": "Reply",
    "conv.reply.placeholder": "Type a reply. Enter sends, Shift+Enter adds a line.",
    "conv.send": "Send",
    "msg.sending": "Sending…",
    "msg.retry": "Not sent yet, retrying…",
    "msg.failed": "Not sent: {reason}",
    "author.visitor": "Visitor",
    "author.operator": "Operator",
    "author.system": "Parley",
    # errors
    "error.network": "Cannot reach the server. Check your connection and try again.",
    "error.session": "Your session has ended. Log in again.",
    "error.chats": "Could not load the chats: {reason}",
    "error.not_found": "This chat does not exist any more.",
    "error.rate": "You are sending too fast; the message goes out in {seconds} s.",
    "error.action": "That did not work: {reason}",
    "error.logout": "Could not log out: {reason}",
    "error.dismiss": "Dismiss",
}


def t(key, **values):
    """The text for `key`, filled with `values`; a missing key shows itself, never crashes."""
    text = STRINGS.get(key, key)
    return text.format(**values) if values else text
