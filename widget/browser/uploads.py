"""One file upload to the Parley server, with progress and cancel (XMLHttpRequest:
fetch() cannot report upload progress)."""

import json

import js


class Upload:
    def __init__(self, endpoint, headers, file, on_progress, on_done, on_failed):
        """Starts at once. on_progress(percent), on_done(file dict), on_failed(status)
        where status is the HTTP status (0: network error or cancelled)."""
        self._on_progress = on_progress
        self._on_done = on_done
        self._on_failed = on_failed
        self.cancelled = False
        self.name = file.name
        xhr = js.XMLHttpRequest.new()
        self.xhr = xhr
        xhr.open("POST", endpoint + "?name=" + js.encodeURIComponent(file.name))
        for name in headers:
            xhr.setRequestHeader(name, headers[name])
        xhr.upload.onprogress = self._progress
        xhr.onload = self._loaded
        xhr.onerror = self._error
        xhr.onabort = self._error
        xhr.send(file)

    def cancel(self):
        self.cancelled = True
        self.xhr.abort()

    def _progress(self, event):
        if event.lengthComputable and event.total:
            self._on_progress(int(event.loaded * 100 / event.total))

    def _loaded(self, _event):
        status = self.xhr.status
        if status != 201:
            self._on_failed(status)
            return
        try:
            file = json.loads(self.xhr.responseText)["file"]
        except Exception:
            self._on_failed(500)
            return
        self._on_done(file)

    def _error(self, _event):
        self._on_failed(0)


def visitor_headers(app_id, visitor_id, token):
    """The upload's proof of who the visitor is (a plain dict of header strings)."""
    return {"X-Parley-App": app_id, "X-Parley-Visitor": visitor_id, "X-Parley-Visitor-Token": token}
