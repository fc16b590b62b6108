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
    "list.file": "📎 {name}",
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
    "conv.attach": "Attach a file",
    "chat.rating.good": "👍 Rated good",
    "chat.rating.bad": "👎 Rated bad",
    "chat.rating.comment": "“{comment}”",
    "chat.transcript": "Transcript requested to {email}",
    "msg.sending": "Sending…",
    "msg.sent": "Sent",
    "msg.seen": "Seen",
    "msg.retry": "Not sent yet, retrying…",
    "msg.failed": "Not sent: {reason}",
    "author.visitor": "Visitor",
    "author.operator": "Operator",
    "author.system": "Parley",
    # system lines (the server sends codes; the inbox words them)
    "system.assigned": "{name} joined the chat",
    "system.assigned.someone": "An operator joined the chat",
    "system.closed": "Chat closed",
    "system.closed.visitor": "Chat closed by the visitor",
    # attachments
    "file.open": "Open image {name} in a new tab",
    "file.download": "Download {name} ({size})",
    "size.b": "{n} B",
    "size.kb": "{n} KB",
    "size.mb": "{n} MB",
    "size.gb": "{n} GB",
    "upload.progress": "Uploading {name}… {percent}%",
    "upload.cancel": "Cancel",
    "upload.too_large": "This file is too large to send ({size}). Send a smaller one.",
    "upload.type": "This type of file cannot be sent. Send an image, a PDF, plain text, "
                   "or a ZIP or Office document.",
    "upload.rate": "Too many uploads in a short time. Wait a minute and try again.",
    "upload.network": "The upload failed: cannot reach the server. Try again.",
    "upload.failed": "The upload failed: {reason}",
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
