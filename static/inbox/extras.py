"""The inbox's visitor features, each registering on App's hooks (hooks.py): live
visitors and proactive chats (visitors), the visitor details pane (details), search
(search), the operator's profile (operator_profile), notifications (notify) and the
operator's status: online / away / offline (status).
"""

import details
import notify
import operator_profile
import search
import status
import visitors
from dom import guarded


def install(app):
    for feature in (notify, visitors, details, search, operator_profile, status):
        guarded(feature.install)(app, app.hooks)  # one broken feature leaves the others working
    return app.hooks
