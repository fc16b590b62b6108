"""A generated XSS corpus for e2e/test_xss_corpus.py: well-known filter-evasion shapes,
written here and multiplied programmatically (no third-party list is copied).

Every payload tries to run `__xss(<its id>)` (in some spelling: `top.__xss`, `eval`, entity or
unicode escapes, template literals...). The test defines `__xss` in every frame, so a payload
that ever runs names itself. Ids are unique and appear in the payload text, so no two
payloads are equal and any rendered one can be traced back to its family.

Shapes: script elements, event-handler attributes, javascript:/data: URLs in every URL-taking
attribute, SVG/MathML (and mutation-XSS namespace confusion), broken and unclosed markup,
entity/percent/unicode tricks, template and format-string injection, CSS tricks, attribute
breakouts, links crafted against the widget's linkifier, and polyglots.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass

CANARY = "__xss"


@dataclass(frozen=True)
class Payload:
    id: int
    family: str
    text: str


# -- the canary call in many spellings --------------------------------------------------------
# "bare" spellings contain no space, quote or >, so they also work as unquoted attribute
# values and inside quoted ones of either kind; strings inside them use backticks.

def _bare_calls(n: int) -> list[str]:
    code = f"{CANARY}({n})"
    b64 = base64.b64encode(code.encode()).decode()
    chars = ",".join(str(ord(c)) for c in code)
    # 21 spellings: co-prime with the 10 handler syntaxes and the 16 URL schemes, so every
    # spelling meets every syntax and scheme somewhere in the corpus.
    return [
        code,
        f"top.{CANARY}({n})",
        f"parent.{CANARY}({n})",
        f"self[`{CANARY}`]({n})",
        f"window[`__x`+`ss`]({n})",
        f"(0,{CANARY})({n})",
        f"eval(`{code}`)",
        f"setTimeout(`{code}`)",
        f"Function(`{code}`)()",
        f"[].constructor.constructor(`{code}`)()",
        f"\\u005f\\u005fxss({n})",
        f"eval(atob(`{b64}`))",
        f"eval(String.fromCharCode({chars}))",
        f"{CANARY}`{n}`",
        f"Reflect.apply({CANARY},null,[{n}])",
        f"{CANARY}.call(null,{n})",
        f"globalThis.{CANARY}?.({n})",
        f"import(`data:text/javascript,{code}`)",
        f"new(Function)(`{code}`)()",
        f"{CANARY}.apply(this,[{n}])",
        f"[{n}].forEach({CANARY})",
    ]


def _call(n: int, variant: int) -> str:
    calls = _bare_calls(n)
    return calls[variant % len(calls)]


class _Corpus:
    """Numbers payloads as they are added; `js()` hands out the next canary spelling."""

    def __init__(self) -> None:
        self.items: list[Payload] = []
        self._variant = 0

    @property
    def next_id(self) -> int:
        return len(self.items) + 1

    def js(self) -> str:
        self._variant += 1
        return _call(self.next_id, self._variant)

    def add(self, family: str, make: Callable[[int, str], str]) -> None:
        """`make(id, js)` writes one payload around the canary call `js`."""
        n = self.next_id
        self.items.append(Payload(n, family, make(n, self.js())))


# -- 1. script elements -------------------------------------------------------------------------

_SCRIPT_WRAPPERS = [
    "<script>{js}</script>",
    "<SCRIPT>{js}</SCRIPT>",
    "<ScRiPt>{js}</sCrIpT>",
    '<script type="text/javascript">{js}</script>',
    "<script type=module>{js}</script>",
    "<script\n>{js}</script\n>",
    "<script/x>{js}</script>",
    "<script x>{js}</script x>",
    "<script>{js}</script  >",
    '<script src="data:,{js}"></script>',
    "<script src=data:text/javascript;base64,{b64}></script>",
    "<scr<script>ipt>{js}</scr</script>ipt>",
    "<<script>{js}//<</script>",
    "<script>{js}<!--",
    "<script>/*</script><script>*/{js}</script>",
    '"><script>{js}</script>',
    "'><script>{js}</script>",
    "</textarea><script>{js}</script>",
    "</title><script>{js}</script>",
    "</style><script>{js}</script>",
    "</noscript><script>{js}</script>",
    "--><script>{js}</script>",
    "]]><script>{js}</script>",
    "</script><script>{js}</script>",
    "</template><script>{js}</script>",
    "</iframe><script>{js}</script>",
    "</xmp><script>{js}</script>",
    "</option></select><script>{js}</script>",
    "<svg><script>{js}</script></svg>",
    '<svg><script href="data:,{js}"/></svg>',
    '<svg><script xlink:href="data:,{js}"></script></svg>',
    "<math><script>{js}</script></math>",
    '<iframe srcdoc="<script>{js}</script>"></iframe>',
    '<iframe srcdoc="&lt;script&gt;{js}&lt;/script&gt;"></iframe>',
    '<object data="data:text/html,<script>{js}</script>"></object>',
    '<embed src="data:text/html,<script>{js}</script>">',
    '<iframe src="data:text/html,<script>{js}</script>"></iframe>',
    "<script>\u2028{js}</script>",
    "<script>{{{js}}}</script>",
    "<noscript><script>{js}</script></noscript>",
]


def _scripts(corpus: _Corpus) -> None:
    for wrapper in _SCRIPT_WRAPPERS:
        for _ in range(3):
            corpus.add("script", lambda n, js, w=wrapper: w.format(
                js=js, b64=base64.b64encode(f"{CANARY}({n})".encode()).decode()))


# -- 2. event-handler attributes --------------------------------------------------------------

# (element with `{h}` where the handler goes, the events that fire there without a user)
_HANDLER_TAGS = [
    ("<img src=x {h}>", ["onerror"]),
    ("<img src {h}>", ["onerror"]),
    ("<image src=x {h}>", ["onerror"]),
    ("<img src=x:x {h}>", ["onerror"]),
    ("<picture><img src=x {h}></picture>", ["onerror"]),
    ("<input type=image src=x {h}>", ["onerror"]),
    ("<svg {h}>", ["onload"]),
    ("<svg><image href=x {h}></image></svg>", ["onerror"]),
    ("<body {h}>", ["onload", "onpageshow"]),
    ("<iframe {h}></iframe>", ["onload"]),
    ("<frameset {h}>", ["onload"]),
    ("<input autofocus {h}>", ["onfocus", "onfocusin"]),
    ("<textarea autofocus {h}></textarea>", ["onfocus"]),
    ("<select autofocus {h}></select>", ["onfocus"]),
    ("<button autofocus {h}>x</button>", ["onfocus"]),
    ("<div tabindex=1 autofocus {h}>x</div>", ["onfocus"]),
    ("<xss tabindex=1 autofocus {h}>x</xss>", ["onfocus"]),
    ("<details open {h}>x</details>", ["ontoggle"]),
    ("<video src=x {h}></video>", ["onerror"]),
    ("<video><source src=x {h}></video>", ["onerror"]),
    ("<audio src=x {h}></audio>", ["onerror"]),
    ("<object data=x {h}></object>", ["onerror"]),
    ("<style {h}></style>", ["onload"]),
    ("<link rel=stylesheet href=x {h}>", ["onerror"]),
    ("<marquee {h}>x</marquee>", ["onstart"]),
    ("<svg><animate {h} attributeName=x dur=1s></svg>", ["onbegin"]),
    ("<svg><set {h} attributeName=x to=1></svg>", ["onbegin"]),
    ('<div style="position:fixed;inset:0" {h}>x</div>', ["onmouseover", "onpointerenter"]),
    ("<math><maction actiontype=statusline {h}>x</maction></math>", ["onclick"]),
]

# How the attribute is spelled: separators, quotes, case, entity-encoded bodies.
_HANDLER_SYNTAX: list[Callable[[str, str], str]] = [
    lambda event, js: f"{event}={js}",
    lambda event, js: f'{event}="{js}"',
    lambda event, js: f"{event}='{js}'",
    lambda event, js: f"{event[:2].upper()}{event[2:].upper()}={js}",
    lambda event, js: f"{event}\n={js}",
    lambda event, js: f"/{event}={js}",
    lambda event, js: f"\x0c{event}={js}",
    lambda event, js: f'{event}="javascript:{js}"',
    lambda event, js: f"{event}={_entities(js)}",
    lambda event, js: f"{event}=`{js}`",
]


def _entities(text: str) -> str:
    """Every character as a decimal character reference: the HTML parser decodes them."""
    return "".join(f"&#{ord(c)};" for c in text)


def _handlers(corpus: _Corpus) -> None:
    for tag, events in _HANDLER_TAGS:
        for event in events:
            for syntax in _HANDLER_SYNTAX:
                corpus.add("handler", lambda n, js, t=tag, e=event, s=syntax: t.format(h=s(e, js)))


# -- 3. javascript: and data: URLs in every attribute that takes a URL -------------------------

_URL_SINKS = [
    '<a href="{u}">x</a>',
    "<a href={u}>x</a>",
    '<iframe src="{u}"></iframe>',
    '<form action="{u}"><button>x</button></form>',
    '<form id=f></form><button form=f formaction="{u}">x</button>',
    '<input type=image formaction="{u}" src=x>',
    '<object data="{u}"></object>',
    '<embed src="{u}">',
    '<math href="{u}">x</math>',
    '<svg><a xlink:href="{u}"><text y=20>x</text></a></svg>',
    '<svg><a href="{u}"><text y=20>x</text></a></svg>',
    '<meta http-equiv=refresh content="0;url={u}">',
    '<map name=m><area href="{u}" shape=default></map>',
    '<base href="{u}">',
    "[x]({u})",
    "<{u}>",
    "{u}",
    "https://ok.example/?next={u}",
]

_SCHEMES: list[Callable[[str], str]] = [
    lambda js: f"javascript:{js}",
    lambda js: f"JaVaScRiPt:{js}",
    lambda js: f" javascript:{js}",
    lambda js: f"\x01javascript:{js}",
    lambda js: f"java\tscript:{js}",
    lambda js: f"java\nscript:{js}",
    lambda js: f"java&#x09;script:{js}",
    lambda js: _entities("javascript:") + js,
    lambda js: f"&#x6A;avascript&#x3A;{js}",
    lambda js: f"javascript&colon;{js}",
    lambda js: "javascript:" + "".join(f"%{ord(c):02X}" if c in "_()" else c for c in js),
    lambda js: f"javascript://%0a{js}",
    lambda js: f"javascript:/*x*/{js}",
    lambda js: f"data:text/html,<script>{js}</script>",
    lambda js: "data:text/html;base64," + base64.b64encode(f"<script>{js}</script>".encode()).decode(),
    lambda js: f"vbscript:{js}",
]


def _urls(corpus: _Corpus) -> None:
    for sink in _URL_SINKS:
        for scheme in _SCHEMES:
            corpus.add("url", lambda n, js, k=sink, s=scheme: k.replace("{u}", s(js)))


# -- 4. SVG and MathML, mutation XSS ----------------------------------------------------------

_FOREIGN = [
    "<svg><foreignObject><img src=x onerror={js}></foreignObject></svg>",
    "<svg><desc><img src=x onerror={js}></desc></svg>",
    "<svg><title><img src=x onerror={js}></title></svg>",
    "<svg><style><img src=x onerror={js}></style></svg>",
    "<svg></p><style><a id=\"</style><img src=x onerror={js}>\">",
    "<math><mtext><table><mglyph><style><img src=x onerror={js}>",
    "<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title=\"</style>"
    "<img src=x onerror={js}>\">",
    "<form><math><mtext></form><form><mglyph><style></math><img src=x onerror={js}>",
    "<math><annotation-xml encoding=\"text/html\"><img src=x onerror={js}></annotation-xml></math>",
    "<math><mi><img src=x onerror={js}></mi></math>",
    "<svg><![CDATA[><img src=x onerror={js}>]]></svg>",
    "<table><svg><img src=x onerror={js}></svg></table>",
    "<select><style></select><img src=x onerror={js}></style>",
    "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"{js}\"/>",
    "<svg><use href=\"data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'>"
    "<image href='1' onerror='{js}'/></svg>#x\"/></svg>",
    "<svg><a><animate attributeName=href to=javascript:{js} /><text y=20>x</text></a></svg>",
    "<svg><animate attributeName=href values=javascript:{js} /><a id=x><text y=20>x</text></a></svg>",
    "<svg><set attributeName=onmouseover to={js} /></svg>",
    "<svg><handler xmlns:ev=\"http://www.w3.org/2001/xml-events\" ev:event=\"load\">{js}</handler></svg>",
    "<math><maction xlink:href=\"javascript:{js}\" actiontype=statusline>x</maction></math>",
    "<svg><discard onbegin={js} /></svg>",
    "<svg><feImage href=x onerror={js} /></svg>",
]


def _foreign(corpus: _Corpus) -> None:
    for template in _FOREIGN:
        for _ in range(4):
            corpus.add("svg-mathml", lambda n, js, t=template: t.format(js=js))


# -- 5. broken, unclosed and nested markup ----------------------------------------------------

_BROKEN = [
    "<img src=x onerror={js} ",
    "<img src=x onerror={js}//",
    "<img src=x onerror=\"{js}\"",
    "<img \"\"\"><script>{js}</script>\">",
    "<!--<img src=\"--><img src=x onerror={js}//\">",
    "<title><img src=</title><img src=x onerror={js}>>",
    "<img/src=x/onerror={js}>",
    "<img\nsrc=x\nonerror={js}>",
    "<img\tsrc=x\tonerror={js}>",
    "<img\x0csrc=x\x0conerror={js}>",
    "<<img src=x onerror={js}>>",
    "<img src=`x` onerror={js}>",
    "</br onmouseover={js}>",
    "<!--[if]><img src=x onerror={js}>-->",
    "<![CDATA[<img src=x onerror={js}>]]>",
    "<?xml version=\"1.0\"?><img src=x onerror={js}>",
    "<x:img src=x onerror={js}>",
    "<div><p>unclosed<b><i><img src=x onerror={js}",
    "\"/><img src=x onerror={js}>",
    "'/><img src=x onerror={js}>",
    "</a><img src=x onerror={js}>",
    "<a href=\"</a><img src=x onerror={js}>\">x</a>",
    "<textarea><img title=\"</textarea><img src=x onerror={js}>\">",
    "<xmp><img title=\"</xmp><img src=x onerror={js}>\">",
    "<noembed><img title=\"</noembed><img src=x onerror={js}>\">",
    "<noframes><img title=\"</noframes><img src=x onerror={js}>\">",
    "<iframe><img title=\"</iframe><img src=x onerror={js}>\">",
    "<style><img title=\"</style><img src=x onerror={js}>\">",
    "<noscript><p title=\"</noscript><img src=x onerror={js}>\">",
    "<template><img src=x onerror={js}></template><img src=x onerror={js}>",
    "<img src=x onerror={js}><plaintext>",
    "<!DOCTYPE html><html><body><img src=x onerror={js}>",
]


def _broken(corpus: _Corpus) -> None:
    for template in _BROKEN:
        for _ in range(2):
            corpus.add("broken", lambda n, js, t=template: t.format(js=js))


# -- 6. entity, percent and unicode tricks ----------------------------------------------------

_ENCODED: list[Callable[[int, str], str]] = [
    lambda n, js: f"&lt;img src=x onerror={js}&gt;",
    lambda n, js: f"&#60;img src=x onerror={js}&#62;",
    lambda n, js: f"&#x3c;script&#x3e;{js}&#x3c;/script&#x3e;",
    lambda n, js: f"&amp;lt;script&amp;gt;{js}&amp;lt;/script&amp;gt;",
    lambda n, js: f"\\u003cimg src=x onerror={js}\\u003e",
    lambda n, js: f"\\x3cscript\\x3e{js}\\x3c/script\\x3e",
    lambda n, js: f"%3Cimg%20src%3Dx%20onerror%3D{js}%3E",
    lambda n, js: f"%253Cscript%253E{js}%253C%252Fscript%253E",
    lambda n, js: f"\uff1cimg src=x onerror={js}\uff1e",
    lambda n, js: f"\uff1cscript\uff1e{js}\uff1c/script\uff1e",
    lambda n, js: f"<script\u200b>{js}</script>",
    lambda n, js: f"<scr\u00adipt>{js}</script>",
    lambda n, js: f"<img src=x one\u200drror={js}>",
    lambda n, js: f"\u202e<img src=x onerror={js}>",
    lambda n, js: f"\uff4a\uff41\uff56\uff41\uff53\uff43\uff52\uff49\uff50\uff54:{js}",
    lambda n, js: f"<\u017fcript>{js}</\u017fcript>",
    lambda n, js: f"<\u017fvg onload={js}>",
    lambda n, js: f"<\u0131mg src=x onerror={js}>",
    lambda n, js: f"+ADw-script+AD4-{js}+ADw-/script+AD4-",
    lambda n, js: f"\U0001f600<img src=x onerror={js}>",
    lambda n, js: f"e\u0301<svg onload={js}>",
    lambda n, js: f"<svg onload=&#95;&#95;xss({n})>",
    lambda n, js: f"<svg onload=&lowbar;&lowbar;xss({n})>",
    lambda n, js: f"<img src=x onerror=\"&#x5f;&#x5f;xss&#x28;{n}&#x29;\">",
    lambda n, js: "<a href=\"" + "".join(f"&#{ord(c):07d}" for c in "javascript:") + f"{js}\">x</a>",
    lambda n, js: f"\\\"><img src=x onerror={js}>",
    lambda n, js: f"\\'><img src=x onerror={js}>",
    lambda n, js: f"<IMG SRC=x ONERROR={js}>",
    lambda n, js: f"\u2028<img src=x onerror={js}>\u2029",
    lambda n, js: f"\ufeff<img src=x onerror={js}>",
    lambda n, js: f"<img src=x onerror={js}>\u0000".replace("\u0000", "\u2400"),
    lambda n, js: f"\u1680<img\u3000src=x\u3000onerror={js}>",
]


def _encoded(corpus: _Corpus) -> None:
    for make in _ENCODED:
        for _ in range(2):
            corpus.add("encoding", make)


# -- 7. template, format-string and script-context injection ----------------------------------

_TEMPLATES: list[Callable[[int, str], str]] = [
    lambda n, js: f"${{{js}}}",
    lambda n, js: f"`${{{js}}}`",
    lambda n, js: f"{{{{{js}}}}}",
    lambda n, js: f"{{{{constructor.constructor('{CANARY}({n})')()}}}}",
    lambda n, js: f"{{{{$on.constructor('{CANARY}({n})')()}}}}",
    lambda n, js: f"#{{{js}}}",
    lambda n, js: f"<%= {js} %>",
    lambda n, js: f"{{%{js}%}}",
    lambda n, js: f"[[${{{js}}}]]",
    lambda n, js: f"@{{{js}}}",
    lambda n, js: f"<div v-html=\"'<img src=x onerror={js}>'\"></div>",
    lambda n, js: f"<div ng-app><input autofocus ng-focus=\"$event.view.{CANARY}({n})\"></div>",
    lambda n, js: f"<div x-data x-init=\"{js}\"></div>",
    lambda n, js: f"{{text}}{{0}}{{comment}}{{name!r}}<img src=x onerror={js}>",
    lambda n, js: f"%(text)s%s%s%n<img src=x onerror={js}>",
    lambda n, js: f"'}};{js};//",
    lambda n, js: f"\";{js};//",
    lambda n, js: f"</script>\"}};{js};//",
    lambda n, js: f"\\u0027;{js};//",
    lambda n, js: f"\u2028{js}//",
    lambda n, js: f"'-{js}-'",
    lambda n, js: f"\"-{js}-\"",
    lambda n, js: f"*/{js}/*",
    lambda n, js: f"-->{js}<!--",
    lambda n, js: f"{{{{'a'.constructor.prototype.charAt=[].join;$eval('x={CANARY}({n})')}}}}",
]


def _templates(corpus: _Corpus) -> None:
    for make in _TEMPLATES:
        for _ in range(2):
            corpus.add("template", make)


# -- 8. CSS tricks -----------------------------------------------------------------------------

_CSS = [
    "<style>@import 'javascript:{js}';</style>",
    "<style>*{{background:url(\"javascript:{js}\")}}</style>",
    "<div style=\"background-image:url(javascript:{js})\">x</div>",
    "<div style=\"width:expression({js})\">x</div>",
    "<div style=\"x:\\65xpression({js})\">x</div>",
    "<style>@import url(\"data:text/css,*{{x:expression({js})}}\");</style>",
    "<link rel=stylesheet href=\"data:text/css,*{{background:url(javascript:{js})}}\">",
    "<style>*{{-moz-binding:url(\"data:text/xml,{js}\")}}</style>",
    "<div style=\"behavior:url(x.htc)\" onreadystatechange={js}>x</div>",
    "<style>@keyframes x{{}}</style><div style=\"animation-name:x\" onanimationstart={js}>x</div>",
    "<style>@keyframes y{{to{{left:1px}}}}</style><p style=\"animation:y 1ms\" onanimationend={js}>x</p>",
    "<div style=\"transition:all 1ms\" ontransitionrun={js}>x</div>",
    "<style>:root{{--x:\"</style><img src=x onerror={js}>\"}}</style>",
    "<svg><style>@import url(\"javascript:{js}\")</style></svg>",
    "x\" style=\"background:url(javascript:{js})",
    "</style><img src=x onerror={js}>",
    "<div style=\"content:'\\3c img src=x onerror={js}\\3e'\">x</div>",
    "<style>@font-face{{font-family:x;src:url(javascript:{js})}}</style>",
]


def _css(corpus: _Corpus) -> None:
    for template in _CSS:
        for _ in range(2):
            corpus.add("css", lambda n, js, t=template: t.format(js=js))


# -- 9. breaking out of attribute values (alt, title, aria-label, download) -------------------

_ATTRIBUTE = [
    "\" onmouseover=\"{js}",
    "\" autofocus onfocus=\"{js}\" x=\"",
    "' autofocus onfocus='{js}' x='",
    "\"><img src=x onerror={js}>",
    "'><img src=x onerror={js}>",
    "`><img src=x onerror={js}>",
    "\"/onmouseover=\"{js}",
    "x\" onerror=\"{js}",
    "\" onload=\"{js}",
    "\"><svg/onload={js}>",
    "\" accesskey=\"x\" onclick=\"{js}",
    "\" style=\"animation-name:x\" onanimationstart=\"{js}",
    "x onerror={js}",
    "\" src=x onerror=\"{js}",
    "\");{js};(\"",
]


def _attributes(corpus: _Corpus) -> None:
    for template in _ATTRIBUTE:
        for _ in range(3):
            corpus.add("attribute", lambda n, js, t=template: t.format(js=js))


# -- 10. links crafted against a linkifier (the widget turns http(s) URLs into links) --------

_LINKS = [
    "https://x.example/\"onmouseover=\"{js}",
    "https://x.example/'onfocus='{js}'autofocus='",
    "http://x.example/<img src=x onerror={js}>",
    "https://x.example/#<script>{js}</script>",
    "https://x.example/?q=</a><img src=x onerror={js}>",
    "https://javascript:{js}",
    "http://javascript:{js}",
    "hTtPs://x.example/\"><svg onload={js}>",
    "https://x.example/\u202e\"><img src=x onerror={js}>",
    "[click](https://x.example/\" onclick=\"{js})",
    "https://x.example/&quot;onmouseover=&quot;{js}",
    "https://x.example/`onmouseover=`{js}",
    "https://user:pw@x.example/javascript:{js}",
    "https://x.example/)<img src=x onerror={js}>",
]


def _links(corpus: _Corpus) -> None:
    for template in _LINKS:
        for _ in range(3):
            corpus.add("link", lambda n, js, t=template: t.format(js=js))


# -- 11. polyglots, written for this corpus ---------------------------------------------------

_POLYGLOTS = [
    "jaVasCript:/*--></tiTle></stYle></teXtarEa></scRipt><sVg/oNloAd={js}>*/{js}//",
    "'\"--></style></script><svg onload={js}>",
    "\"'><img src=x onerror={js}>{{{{{js}}}}}${{{js}}}",
    "</textarea></title></noscript></style></script><img src=x onerror={js}><!--",
    "javascript:\"/*'/*`/*--></noscript></title></textarea></style></template></script>"
    "<svg onload={js}>//",
    "--!><svg/onload={js}>\"'`><img src=x onerror={js}>",
    "<!--><svg onload={js}>--><img src=x onerror={js}>",
    "'\";}}</script><details open ontoggle={js}>",
]


def _polyglots(corpus: _Corpus) -> None:
    for template in _POLYGLOTS:
        for _ in range(3):
            corpus.add("polyglot", lambda n, js, t=template: t.format(js=js))


# -- 12. clobbering the widget's globals, then running ----------------------------------------

_CLOBBER = [
    "<form id=chaport><input name=on></form><img src=x onerror={js}>",
    "<img name=chaportConfig><img src=x onerror={js}>",
    "<a id=__xss></a><a id=__xss name=x href=\"javascript:{js}\">x</a>",
    "<iframe name=top></iframe><img src=x onerror={js}>",
    "<form name=parley><input name=appId></form><svg onload={js}>",
]


def _clobber(corpus: _Corpus) -> None:
    for template in _CLOBBER:
        for _ in range(2):
            corpus.add("clobber", lambda n, js, t=template: t.format(js=js))


_FAMILIES = [_scripts, _handlers, _urls, _foreign, _broken, _encoded, _templates, _css, _attributes,
             _links, _polyglots, _clobber]


def payloads() -> list[Payload]:
    """The corpus, the same on every call (ids 1..N in order)."""
    corpus = _Corpus()
    for family in _FAMILIES:
        family(corpus)
    return corpus.items


def pack(items: Iterable[Payload], limit: int, separator: str = "\n",
         size: Callable[[str], int] = len) -> list[list[Payload]]:
    """Payloads in order, grouped so each group joined by `separator` is at most `limit`
    (measured by `size`); a payload longer than `limit` is left out."""
    groups: list[list[Payload]] = []
    current: list[Payload] = []
    for item in items:
        if size(item.text) > limit:
            continue
        if current and size(separator.join([*(p.text for p in current), item.text])) > limit:
            groups.append(current)
            current = []
        current.append(item)
    if current:
        groups.append(current)
    return groups


def joined(group: list[Payload], separator: str = "\n") -> str:
    return separator.join(p.text for p in group)
