"""Which Google Analytics API to send widget events to, and what to send.

The spec: the widget detects GA on the page by itself (gtag, gtm, ga, gaq, in
that order of priority) unless `analytics.google.api` names one; `apiObject`
points at a non-default global; `enabled: false` turns it off. The spec does
not name the events, so Parley sends these (decision, documented in README):
"""

APIS = ("gtag", "gtm", "ga", "gaq")
# Default global names of each API on the host page.
GLOBAL_NAMES = {"gtag": "gtag", "gtm": "dataLayer", "ga": "ga", "gaq": "_gaq"}
CATEGORY = "Chaport"
# widget event -> (GA4-style event name, classic action label)
EVENTS = {
    "expanded": ("chaport_widget_expanded", "Widget expanded"),
    "collapsed": ("chaport_widget_collapsed", "Widget collapsed"),
    "chat.started": ("chaport_chat_started", "Chat started"),
    "chat.autoInvitation": ("chaport_auto_invitation", "Auto-invitation shown"),
    "chat.botSent": ("chaport_bot_sent", "Chatbot shown"),
}


def choose_api(google, present):
    """The API to use, or None. `google`: the normalised `analytics.google` option;
    `present`: api name -> True when the page has that API's object."""
    if not isinstance(google, dict) or google.get("enabled") is False:
        return None
    named = google.get("api")
    if named in APIS:
        return named if present.get(named) else None
    for api in APIS:
        if present.get(api):
            return api
    return None


def hit(api, event, measurement_id=None):
    """What to send for `event`: ('call', args) to call the API function with
    `args`, or ('push', value) to push `value` onto the API array; None when
    the event is not tracked."""
    names = EVENTS.get(event)
    if names is None or api not in APIS:
        return None
    ga4_name, action = names
    if api == "gtag":
        params = {"event_category": CATEGORY, "event_label": action}
        if measurement_id:
            params["send_to"] = measurement_id
        return ("call", ["event", ga4_name, params])
    if api == "gtm":
        value = {"event": ga4_name, "event_category": CATEGORY, "event_label": action}
        if measurement_id:
            value["send_to"] = measurement_id
        return ("push", value)
    if api == "ga":
        return ("call", ["send", "event", CATEGORY, action])
    return ("push", ["_trackEvent", CATEGORY, action])
