"""The Chaport spec's own code examples, verbatim (only appId and the script URL changed).

Hypothetical helpers the examples call (getUserDetails, yourUser, isVIP, $) are
defined by the test page the way a site would define them.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from e2e.helpers import (
    API_READY,
    RECORD_EVENTS,
    console_caught_up,
    frames_received,
    snippet_with_config,
    wait_ready,
    wait_until,
)

SITE_HELPERS = """
var yourUser = { role: 'lead' };
function isVIP() { return false; }
var parameterValue = 'yourValue';
window.spec = { posted: [], logs: [] };
var $ = { post: function (url, data) { window.spec.posted.push([url, data]); } };
console.log = (function (log) { return function () { window.spec.logs.push(Array.from(arguments)); log.apply(console, arguments); }; })(console.log);
"""


def user_details_helper(secret: str) -> str:
    data = {"email": "jane@example.com", "name": "Jane Roe"}
    signed = hashlib.sha1((secret + json.dumps(data, separators=(",", ":"))).encode()).hexdigest()
    return ("function getUserDetails(cb) { cb({ email: 'jane@example.com', name: 'Jane Roe' }, '%s'); }"
            % signed)


# The spec's "More complete example", both interfaces, verbatim after the snippet.
MORE_COMPLETE_TRADITIONAL = """window.chaport.on('ready', function() {
// Below is a hypothetical function to retrieve user details
getUserDetails(function(userDetails, hash) {
window.chaport.setVisitorData({ email: userDetails.email, name: userDetails.name }, hash);
});
document.querySelector('#your-chat-button').addEventListener('click', function() {
window.chaport.open();
});
});"""
MORE_COMPLETE_QUEUE = """getUserDetails(function(userDetails, hash) {
window.chaport.q('setVisitorData', [
{ email: userDetails.email, name: userDetails.name },
hash
]);
});
document.querySelector('#your-chat-button').addEventListener('click', function() {
window.chaport.q('open');
});"""
MORE_COMPLETE_CONFIG = """language: { // Show widget in english regardless of the user browser language preference
use: 'en'
},
devices: {
mobile: {
appearance: { // Shift chat button up on mobile
position: ['right', 0, 50],
}
}
}"""

# Method examples from the spec, Traditional then Command Queue.
METHOD_EXAMPLES = [
    """var cpt = window.chaport;
cpt.on('ready', function () {
cpt.setVisitorData({
name: 'John Doe',
});
cpt.open();
});""",
    """var cpt = window.chaport.q;
cpt('setVisitorData', [{
name: 'John Doe',
}]);
cpt('open');""",
    "window.chaport.on('ready', function () {\nwindow.chaport.close();\n});",
    "window.chaport.q('close');",
    "window.chaport.on('ready', function () {\nwindow.chaport.compare(parameterValue, '=', 'yourValue');\n});",
    "window.chaport.q('compare', [parameterValue, '=', 'yourValue']);",
    "window.chaport.on('ready', function () {\nwindow.chaport.disableTriggers();\n});",
    "window.chaport.q('disableTriggers');",
    "window.chaport.on('ready', function () {\nwindow.chaport.disableTriggers(['trigger-id-1', 'trigger-id-2']);\n});",
    "window.chaport.q('disableTriggers', ['trigger-id-1', 'trigger-id-2']);",
    "window.chaport.on('ready', function () {\nwindow.chaport.enableTriggers();\n});",
    "window.chaport.q('enableTriggers');",
    "window.chaport.on('ready', function () {\nwindow.chaport.enableTriggers(['trigger-id-1', 'trigger-id-2']);\n});",
    "window.chaport.q('enableTriggers', ['trigger-id-1', 'trigger-id-2']);",
    """window.chaport.on('ready', function () {
var activeTrigger = window.chaport.getActiveTrigger();
console.log(activeTrigger);
});""",
    """var activeTrigger = window.chaport.q('getActiveTrigger');
console.log(activeTrigger);""",
    """window.chaport.on('ready', function () {
var pageUrl = window.chaport.getParameterValue('page_url');
console.log(pageUrl);
});""",
    """window.chaport.on('ready', function () {
var pageUrl = window.chaport.q('getParameterValue', ['page_url']);
console.log(pageUrl);
});""",
    """window.chaport.on('ready', function () {
var trigger = window.chaport.getTriggerById('5820a1375ddf087b2e54921d');
console.log(trigger);
});""",
    """window.chaport.on('ready', function () {
var state = window.chaport.getWidgetState();
if (state === 'unreadMessage') {
setTimeout(function() {
var stateNow = window.chaport.getWidgetState();
if (state === stateNow) {
window.chaport.close();
}
}, 5000);
}
});""",
    "window.chaport.on('ready', function () {\nwindow.chaport.hideLauncher();\n});",
    "window.chaport.q('hideLauncher');",
    """window.chaport.on('ready', function () {
window.chaport.isOnline(function (isOnline) {
console.log(isOnline ? 'Operators are online' : 'Operators are offline');
});
});""",
    """window.chaport.q('isOnline', [function (isOnline) {
console.log(isOnline ? 'Operators are online' : 'Operators are offline');
}]);""",
    """window.chaport.on('ready', function () {
window.chaport.newPageView({
url: 'http://example.com/page2',
title: 'My test page',
});
});""",
    """window.chaport.q('newPageView', [{
url: 'http://example.com/page2',
title: 'My test page',
}]);""",
    "window.chaport.on('ready', function () {\nwindow.chaport.newPageView();\n});",
    "window.chaport.q('newPageView');",
    "window.chaport.on('ready', function () {\nwindow.chaport.open();\n});",
    "window.chaport.q('open');",
    "window.chaport.on('ready', function () {\nwindow.chaport.openIn({ selector: '#chat-container' });\n});",
    "window.chaport.q('openIn', [{ selector: '#chat-container' }]);",
    "window.chaport.on('ready', function () {\nwindow.chaport.showLauncher();\n});",
    "window.chaport.q('showLauncher');",
    """window.chaport.on('ready', function () {
window.chaport.setActiveTrigger({ message: "Custom message" });
});""",
    """window.chaport.q('setActiveTrigger', [{ message: "Custom message" }]);""",
    """window.chaport.on('ready', function () {
window.chaport.setAssignmentRules({
rules: [
{ 'sales-team-id': ['page_url', 'contains', 'pricing'] },
{ 'sales-team-id': ['message_text', 'contains', 'pricing'] },
{ 'support-team-id': true },
],
defaultRules: [], // Disable default rules
});
});""",
    """window.chaport.q('setAssignmentRules', [{
rules: [
{ 'sales-team-id': ['page_url', 'contains', 'pricing'] },
{ 'sales-team-id': ['message_text', 'contains', 'pricing'] },
{ 'support-team-id': true },
],
defaultRules: [], // Disable default rules
}]);""",
    """window.chaport.on('ready', function () {
window.chaport.stopSession();
});""",
    "window.chaport.q('stopSession');",
    "window.chaport.on('ready', function () {\nwindow.chaport.toggle();\n});",
    "window.chaport.q('toggle');",
    """window.chaport.on('ready', function () {
window.chaport.updatePosition(['right', 0, 100], function() {
console.log('position changed');
});
});""",
    "window.chaport.q('updatePosition', [['right', 0, 100]]);",
    """window.chaport.on('chat.autoInvitation', function(autoInvitationDetails) {
console.log(autoInvitationDetails);
});""",
    """window.chaport.q('on', ['chat.autoInvitation', function(autoInvitationDetails) {
console.log(autoInvitationDetails);
}]);""",
    """window.chaport.on('ready', function (data) {
if (data.visitorId) {
// Send visitor ID to your server, example using jQuery
$.post('/chaport-visitor-id', { chaportVisitorId: data.visitorId })
}
});""",
]

CONFIG_EXAMPLES = [
    """assignments: {
rules: [
// Assign to the example.com team if a visitor is on example.com
{ 'example.com-team-id': ['page_url', 'contains', 'example.com'] },
// Assign to the sales team if the visitor's role in your system is 'lead' (hypothetical example)
{ 'sales-team-id': function (cp) { return cp.compare(yourUser.role, '=', 'lead') } },
// Assign to the VIP team if your isVIP function returns true
{ 'vip-team-id': function (cp) { return isVIP() } },
// Assign to the US Sales team if visitor country is US
{ 'us-sales-team-id': ['country', '=', 'US'] },
// Assign to Spanish support if visitor language is Spanish
{ 'es-support-team-id': ['language', '=', 'es'] },
// Fallback: assign everything else to John
{ 'john-id': true },
],
},""",
    """assignments: {
resolve: function(cp) {
// If page url contains example.com
if (cp.compare(cp.getParameterValue('page_url'), 'contains', 'example.com')) {
// Assign to the example.com team
return 'example.com-team-id';
}
// Use your own variables with cp.compare
if (cp.compare(yourUser.role, '=', 'lead')) {
return 'sales-team-id';
}
// Apply your own checks
if (isVIP()) {
return 'vip-team-id';
}
if (cp.compare(cp.getParameterValue('country'), '=', 'US')) {
return 'us-sales-team-id';
}
if (cp.compare(cp.getParameterValue('language'), '=', 'es')) {
return 'es-support-team-id';
}
// Return an array to let the server choose
return ['john-id', 'mary-id'];
},
},""",
    "analytics: {\ngoogle: {\nid: 'G-...',\n},\n},",
    "analytics: {\ngoogle: {\nid: 'G-...',\napi: 'gtm', // Required if you also pass apiObject\n"
    "apiObject: window.yourDataLayerVariable,\n},\n},",
    "appearance: {\nwindowColor: '#a077bc',\nteamName: 'My test team',\nonlineWelcome: 'Hello, we are online!',\n"
    "offlineWelcome: 'We are not online.',\nposition: ['left', 20, 20],\ntextStatuses: true,\n},",
    "assignments: {\ndefaultRules: [],\n},",
    "closeButton: false,",
    "countries: {\ninclude: ['US'],\n},",
    "devices: {\nconfigs: {\nmobile: {\nappearance: {\nposition: ['right', 0, 50],\n},\n},\n},\n},",
    "history: false,",
    "init: {\nevent: 'load',\nmaxDelay: 5000,\ndelayAfterEvent: 500,\n},",
    "language: {\nsource: 'html',\n},",
    "language: {\nuse: 'en',\n},",
    "launcher: {\nshow: false,\n},",
    "openIn: {\nselector: '#chat-container',\n},",
    "operators: ['operator-id-1', 'operator-name-2'],",
    "responsive: true,",
    "session: {\nautoStart: false,\n},",
    "triggers: {\nenabled: false,\n},",
    "triggers: {\ndisabled: true,\n},",
    "triggers: false,",
    "triggers: {\ndisabled: ['trigger-id'],\n},",
    "triggers: {\nenabled: ['trigger-id'],\n},",
    "visitor: {\nname: 'John Doe',\nemail: '[email protected]',\ncustom: {\nsubscriptionPlan: 'pro',\n"
    "balance: 1000,\n},\n},",
]


def page_with(host_site, parley, app, name, config, after, secret):
    snippet = snippet_with_config(f"appId : '{app['appId']}',\n{config}", parley.loader)
    body = (f"<button id='your-chat-button'>Chat</button><div id='chat-container' style='height:400px'></div>"
            f"<script>window.yourDataLayerVariable = [];{SITE_HELPERS}{user_details_helper(secret)}</script>"
            f"<script>{snippet}</script><script>{after}</script>")
    return host_site.page(name, body)


def run_example(page, page_log, url, autostart=True, on_ready=False):
    """The page's [parley] console errors once the example ran: its queued calls run in the
    task that installs the API, its `ready` listeners in the task that handles the welcome."""
    frames = frames_received(page)
    page.goto(url)
    if autostart:
        wait_ready(page)  # drawn at the end of the task that fires `ready`
    else:
        page.wait_for_function(API_READY)
        if on_ready:
            wait_until(page, lambda: any(f["type"] == "welcome" for f in frames), what="the welcome")
    console_caught_up(page, page_log)
    return page_log.parley("error")


def test_more_complete_example_traditional(page, host_site, parley, app, page_log):
    url = page_with(host_site, parley, app, "spec-more-trad", MORE_COMPLETE_CONFIG, MORE_COMPLETE_TRADITIONAL,
                    app["secret"])
    assert run_example(page, page_log, url) == []
    page.click("#your-chat-button")
    assert page.evaluate("chaport.getWidgetState()") == "expanded"


def test_more_complete_example_command_queue(page, host_site, parley, app, page_log):
    url = page_with(host_site, parley, app, "spec-more-queue", MORE_COMPLETE_CONFIG, MORE_COMPLETE_QUEUE,
                    app["secret"])
    assert run_example(page, page_log, url) == []
    page.click("#your-chat-button")
    page.wait_for_function("chaport.getWidgetState() === 'expanded'")


@pytest.mark.parametrize("index", range(len(METHOD_EXAMPLES)))
def test_method_example_runs_verbatim(page, host_site, parley, app, page_log, index):
    code = METHOD_EXAMPLES[index]
    url = page_with(host_site, parley, app, f"spec-method-{index}", "", code, app["secret"])
    stops = "stopSession" in code  # the session stops at ready: no launcher to wait for
    assert run_example(page, page_log, url, autostart=not stops, on_ready="on('ready'" in code) == [], code
    if code.startswith("window.chaport.on('ready', function () {\nwindow.chaport.stopSession"):
        assert page.locator("iframe[data-parley=launcher]").count() == 0
    if "$.post" in code:
        assert page.evaluate("window.spec.posted[0][1].chaportVisitorId")


@pytest.mark.parametrize("index", range(len(CONFIG_EXAMPLES)))
def test_config_example_runs_verbatim(page, host_site, parley, app, page_log, index):
    config = CONFIG_EXAMPLES[index]
    url = page_with(host_site, parley, app, f"spec-config-{index}", config, "", app["secret"])
    errors = run_example(page, page_log, url, autostart="autoStart: false" not in config
                         and "include: ['US']" not in config and "show: false" not in config)
    if "[email protected]" in config:
        # The spec's mangled address is no email: left out, the rest saved, one error says so.
        errors = wait_until(page, lambda: page_log.parley("error"), what="the [parley] error")
        assert ["PARLEY_E_INVALID_EMAIL" in error for error in errors] == [True], errors
    else:
        assert errors == [], config
    assert page_log.parley("warning") == [], config


# -- the examples whose placeholders must be real values to do anything -------------------------
# Verbatim but for the placeholders a site fills in: the integrity hash ('a1b2c3d4e5f6') and the
# visitor token ('visitor-token'), which the spec means to be computed with the site's secret.

SET_VISITOR_DATA_EXAMPLES = [
    """window.chaport.on('ready', function () {
window.chaport.setVisitorData({
name: 'John Doe',
email: '[email protected]',
custom: {
subscriptionPlan: 'pro',
balance: 1000,
},
}, 'a1b2c3d4e5f6');
});""",
    """window.chaport.q('setVisitorData', [ {
name: 'John Doe',
email: '[email protected]',
custom: {
subscriptionPlan: 'pro',
balance: 1000,
},
}, 'a1b2c3d4e5f6' ]);""",
]
# What the examples send, in their key order: the hash is over this JSON (sha1(salt . json)).
SPEC_VISITOR_DATA = {"name": "John Doe", "email": "[email protected]",
                     "custom": {"subscriptionPlan": "pro", "balance": 1000}}

START_SESSION_WITH_CREDENTIALS = """window.chaport.q('startSession', {
id: 'visitor-id',
token: 'visitor-token',
});"""
START_LATER_QUEUE = "window.chaport.q('startSession');"
START_LATER_TRADITIONAL = "window.chaport.on('ready', function () {\nwindow.chaport.startSession();\n});"
AUTO_START_OFF = "session: {\nautoStart: false,\n},"


def visitor_frames(frames: list) -> list:
    return [f["visitor"] for f in frames if f["type"] == "visitor"]


@pytest.mark.parametrize("form", ["traditional", "queue"])
def test_set_visitor_data_example_with_a_real_hash(page, host_site, parley, app, page_log, form):
    hashed = hashlib.sha1((app["secret"] + json.dumps(SPEC_VISITOR_DATA, separators=(",", ":"))).encode())
    code = SET_VISITOR_DATA_EXAMPLES[form == "queue"].replace("a1b2c3d4e5f6", hashed.hexdigest())
    frames = frames_received(page)
    url = page_with(host_site, parley, app, f"spec-hash-{form}", "", code, app["secret"])
    run_example(page, page_log, url)
    visitor = wait_until(page, lambda: [v for v in visitor_frames(frames) if v.get("name")], what="the visitor")[-1]
    # Signed: the name is taken and marked verified; the custom fields arrive as given. The
    # spec's email is a mangled "[email protected]" (no address): it is left out, the rest
    # saved, and the page gets one [parley] error saying so.
    assert (visitor["name"], visitor["verified"]) == ("John Doe", True)
    assert visitor["custom"] == {"subscriptionPlan": "pro", "balance": 1000}
    assert not visitor.get("email"), visitor
    wait_until(page, lambda: page_log.parley("error"), what="the [parley] error")
    assert ["PARLEY_E_INVALID_EMAIL" in error for error in page_log.parley("error")] == [True]


@pytest.mark.parametrize("form", ["traditional", "queue"])
def test_set_visitor_data_example_with_its_placeholder_hash_is_refused(page, host_site, parley, app, page_log,
                                                                         form):
    frames = frames_received(page)
    url = page_with(host_site, parley, app, f"spec-placeholder-hash-{form}", "",
                    SET_VISITOR_DATA_EXAMPLES[form == "queue"], app["secret"])
    run_example(page, page_log, url)
    wait_until(page, lambda: [f for f in frames if f.get("code") == "PARLEY_E_BAD_HASH"], what="BAD_HASH")
    wait_until(page, lambda: [e for e in page_log.parley("error") if "hash" in e.lower()], what="a [parley] error")
    assert not [v for v in visitor_frames(frames) if v.get("name") == "John Doe"]


def test_start_session_example_with_credentials(page, host_site, parley, app, page_log):
    code = RECORD_EVENTS + START_SESSION_WITH_CREDENTIALS.replace(
        "visitor-token", hashlib.sha1((app["secret"] + "visitor-id").encode()).hexdigest())
    url = page_with(host_site, parley, app, "spec-start-credentials", AUTO_START_OFF, code, app["secret"])
    assert run_example(page, page_log, url) == []
    page.wait_for_function("window.events.some(e => e[0] === 'ready')")
    assert page.evaluate("window.events.find(e => e[0] === 'ready')[1].visitorId") == "visitor-id"


def test_start_later_example_command_queue(page, host_site, parley, app, page_log):
    url = page_with(host_site, parley, app, "spec-start-later-queue", AUTO_START_OFF,
                    RECORD_EVENTS + START_LATER_QUEUE, app["secret"])
    assert run_example(page, page_log, url) == []
    page.wait_for_function("window.events.some(e => e[0] === 'ready')")
    wait_ready(page)


def test_start_later_example_traditional_waits_for_a_session_that_never_starts(page, host_site, parley, app,
                                                                               page_log):
    """The spec's `ready` fires once a session has started, so with `autoStart: false` the
    Traditional form of "start a session later" waits for itself: nothing starts (as the spec
    defines `ready`; the README's API table says so and points to `q('startSession')`)."""
    frames = frames_received(page)
    url = page_with(host_site, parley, app, "spec-start-later-trad", AUTO_START_OFF,
                    RECORD_EVENTS + START_LATER_TRADITIONAL, app["secret"])
    assert run_example(page, page_log, url, autostart=False) == []
    # A later direct call (the API exists now) starts it: the page is not stuck.
    page.evaluate("window.chaport.startSession()")
    page.wait_for_function("window.events.some(e => e[0] === 'ready')")
    assert [f for f in frames if f["type"] == "welcome"]
    # `ready` fired once, for the session the direct call started; the listener's own
    # startSession then found it running and did nothing.
    assert page.evaluate("window.events.filter(e => e[0] === 'ready').length") == 1
