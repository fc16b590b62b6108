"""Parts of the chat window below the messages: the upload bar and the end-of-chat panel.

Built with DOM calls into the window's own document; every text is set as
text (textContent / attributes), never parsed as HTML.
"""

PANELS_CSS = """
.upload{display:flex;align-items:center;gap:8px;padding:6px 12px;border-top:1px solid #d0d7de;font-size:13px;
color:#1f2328}
.upload[hidden],.upload-error[hidden]{display:none}
.upload span{flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.upload progress{width:80px;height:8px;accent-color:var(--accent)}
.upload button,.end button{font-family:inherit;font-size:14px;border-radius:8px;cursor:pointer;
padding:6px 10px;border:1px solid #8c959f;background:#fff;color:#1f2328}
.upload button:focus-visible,.end button:focus-visible{outline:3px solid #1a73e8}
.upload-error{color:#b42318;font-size:13px;padding:4px 12px}
.end{border:1px solid #d0d7de;border-radius:12px;padding:12px;margin-top:8px;display:flex;
flex-direction:column;gap:8px;color:#1f2328}
.end[hidden],.end [hidden]{display:none}
.end h2{font-size:15px;margin:0}
.end .choices{display:flex;gap:8px}
.end .choices button{font-size:20px;padding:4px 14px}
.end .choices button[aria-pressed=true]{background:var(--accent);color:var(--on-accent);
border-color:var(--accent)}
.end textarea,.end input{box-sizing:border-box;width:100%;border:1px solid #8c959f;border-radius:8px;
padding:6px 8px;font-family:inherit;font-size:16px;color:#1f2328;background:#fff}
.end .row{display:flex;gap:8px}
.end .row input{flex:1}
.end .send{background:var(--accent);color:var(--on-accent);border-color:var(--accent);font-weight:600}
.end p{margin:0;font-size:14px}
.end .problem{color:#b42318;font-size:13px}
"""


def _element(doc, tag, class_name=None, text=None):
    element = doc.createElement(tag)
    if class_name:
        element.className = class_name
    if text is not None:
        element.textContent = text
    return element


def _button(doc, text, on_click, class_name=None):
    button = _element(doc, "button", class_name, text)
    button.setAttribute("type", "button")
    button.addEventListener("click", lambda _event: on_click())
    return button


class UploadBar:
    """'Uploading x… 42%' with a progress bar and Cancel; below it, the last upload problem."""

    def __init__(self, doc, cancel_text, on_cancel):
        self.element = _element(doc, "div", "upload")
        self.element.hidden = True
        self.label = _element(doc, "span")
        self.label.setAttribute("role", "status")
        self.progress = _element(doc, "progress")
        self.progress.setAttribute("max", "100")
        self.element.appendChild(self.label)
        self.element.appendChild(self.progress)
        self.element.appendChild(_button(doc, cancel_text, on_cancel))
        self.error = _element(doc, "div", "upload-error")
        self.error.setAttribute("role", "alert")
        self.error.hidden = True

    def show(self, text, percent):
        self.element.hidden = False
        self.error.hidden = True
        self.label.textContent = text
        self.progress.value = percent

    def hide(self):
        self.element.hidden = True

    def problem(self, text):
        self.hide()
        self.error.textContent = text or ""
        self.error.hidden = not text


class EndOfChat:
    """After the chat ended: rate it (good/bad + comment) and ask for the transcript by email."""

    def __init__(self, doc, texts, on_rate, on_transcript):
        self._on_rate = on_rate
        self._on_transcript = on_transcript
        self.texts = texts
        self.rating = None
        self.element = _element(doc, "section", "end")
        self.element.setAttribute("aria-label", texts["rate_title"])
        self.element.hidden = True
        self.rate_part = _element(doc, "div")
        self.rate_part.appendChild(_element(doc, "h2", None, texts["rate_title"]))
        choices = _element(doc, "div", "choices")
        self.good = _button(doc, "\U0001F44D", lambda: self._choose("good"))
        self.good.setAttribute("aria-label", texts["rate_good"])
        self.good.setAttribute("aria-pressed", "false")
        self.bad = _button(doc, "\U0001F44E", lambda: self._choose("bad"))
        self.bad.setAttribute("aria-label", texts["rate_bad"])
        self.bad.setAttribute("aria-pressed", "false")
        choices.appendChild(self.good)
        choices.appendChild(self.bad)
        self.rate_part.appendChild(choices)
        self.comment = _element(doc, "textarea")
        self.comment.setAttribute("rows", "2")
        self.comment.setAttribute("maxlength", "2000")
        self.comment.setAttribute("aria-label", texts["rate_comment"])
        self.comment.setAttribute("placeholder", texts["rate_comment"])
        self.comment.hidden = True
        self.rate_part.appendChild(self.comment)
        self.send_rating = _button(doc, texts["send"], self._rate, "send")
        self.send_rating.hidden = True
        self.rate_part.appendChild(self.send_rating)
        self.element.appendChild(self.rate_part)
        self.thanks = _element(doc, "p", None, texts["rate_thanks"])
        self.thanks.setAttribute("role", "status")
        self.thanks.hidden = True
        self.element.appendChild(self.thanks)
        self.element.appendChild(self._transcript_part(doc, texts))

    def _transcript_part(self, doc, texts):
        part = _element(doc, "div")
        label = _element(doc, "label", None, texts["transcript_request"])
        label.setAttribute("for", "parley-transcript")
        part.appendChild(label)
        row = _element(doc, "div", "row")
        self.email = _element(doc, "input")
        self.email.setAttribute("id", "parley-transcript")
        self.email.setAttribute("type", "email")
        self.email.setAttribute("autocomplete", "email")
        self.email.setAttribute("placeholder", texts["email_placeholder"])
        row.appendChild(self.email)
        row.appendChild(_button(doc, texts["send"], self._transcript, "send"))
        part.appendChild(row)
        self.transcript_note = _element(doc, "p")
        self.transcript_note.setAttribute("role", "status")
        part.appendChild(self.transcript_note)
        return part

    def _choose(self, rating):
        self.rating = rating
        self.good.setAttribute("aria-pressed", "true" if rating == "good" else "false")
        self.bad.setAttribute("aria-pressed", "true" if rating == "bad" else "false")
        self.comment.hidden = False
        self.send_rating.hidden = False

    def _rate(self):
        if self.rating is not None:
            self._on_rate(self.rating, self.comment.value.strip())

    def _transcript(self):
        self._on_transcript(self.email.value.strip())

    def show(self, mode):
        """mode: None (hidden), 'rate' or 'rated'."""
        self.element.hidden = mode is None
        self.rate_part.hidden = mode != "rate"
        self.thanks.hidden = mode != "rated"
        if mode == "rate" and self.rating is None:
            self.comment.hidden = True
            self.send_rating.hidden = True

    def transcript_result(self, text, problem=False):
        self.transcript_note.textContent = text or ""
        self.transcript_note.className = "problem" if problem else ""
