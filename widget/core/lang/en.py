"""English strings of the widget: the reference table, and the fallback for a key
another language lacks. widget.core.i18n imports it at module level."""

# English: the reference table. Keys are grouped by where the text appears.
TABLE = {
    # launcher and header
    "launcher_open": "Open chat",
    "launcher_close": "Close chat",
    "header_title": "Chat with us",
    "status_online": "We're online",
    "status_offline": "We're away",
    "reply_time": "We usually reply within {minutes} minutes",
    "minimize": "Minimize chat",
    "invitation_close": "Dismiss",
    "invitation_title": "Chat invitation",
    # welcome messages
    "welcome_online": "Hi! How can we help you today?",
    "welcome_offline": "We're away right now. Leave a message and we'll get back to you.",
    # composer
    "composer_placeholder": "Type your message…",
    "send": "Send",
    "attach_file": "Attach a file",
    # message list
    "message_sending": "Sending",
    "message_read": "Read",
    "message_unread": "Unread",
    "message_failed": "Not sent. Click to retry.",
    "retry": "Retry",
    "operator_typing": "Operator is typing…",
    "named_typing": "{name} is typing…",
    "you": "You",
    "operator": "Operator",
    "new_message": "New message",
    "new_messages": "{count} new messages",
    # offline form
    "offline_form_title": "Leave your email and we'll get back to you",
    "name_placeholder": "Your name",
    "email_placeholder": "Your email",
    "email_invalid": "Please enter a valid email address",
    "submit": "Submit",
    "offline_thanks": "Thanks! We'll get back to you soon.",
    # rating and end of chat
    "rate_title": "How was this chat?",
    "rate_good": "Good",
    "rate_bad": "Bad",
    "rate_comment_placeholder": "Add a comment (optional)",
    "rate_thanks": "Thanks for your feedback!",
    "transcript_request": "Request transcript",
    "transcript_sent": "We'll send the transcript to {email}",
    "transcript_refused": "The transcript can't be sent to this address",
    "transcript_already": "The transcript of this chat has already been requested",
    "transcript_later": "Too many requests. Please try again later.",
    "chat_ended": "Chat ended",
    "chat_reopened": "Chat reopened",
    "new_chat": "Start a new chat",
    # connection and errors
    "reconnecting": "Reconnecting…",
    "file_too_large": "The file is too large (maximum {max})",
    "file_type_not_allowed": "This file type isn't allowed",
    "upload_failed": "The file couldn't be uploaded",
    "send_failed": "Your message couldn't be sent",
    "error_generic": "Something went wrong. Please try again.",
    # footer
    "powered_by": "Powered by Parley",
    "operator_joined": '{name} joined the chat',
    "uploading": 'Uploading {name}… {percent}%',
    "cancel": 'Cancel',
    "queue_position": "You're number {position} in line. An operator will be with you soon.",
}
