"""Start-up phase marks for the bench (bench/trace.py reads them from a CDP trace).

User Timing marks in the runtime iframe's own timeline: the host page's
`performance` entries stay the site's. One cheap JS call each.
"""

import js


def mark(name):
    try:  # noqa: SIM105 (MicroPython's build has no contextlib)
        js.performance.mark("parley:" + name)
    except Exception:  # no User Timing here: the widget works the same
        pass
