"""What an uploaded file is, from its bytes, never its name: the allow-list of kinds.

`detect(data)` asks `filetype` (magic numbers) and then proves the answer with a real
parser: `zipfile` for zip-based documents, the PDF header and trailer, strict UTF-8 for
text (images are proved by parley.image_cleaning, which decodes every pixel). Anything
not on the allow-list raises `FileRejected` with a stable error code.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import filetype

from parley import protocol


class FileRejected(Exception):
    """An upload that is refused: HTTP `status`, a stable protocol `code`, a clear `message`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def wrong_type(message: str) -> FileRejected:
    """The refusal of content that is not an accepted type (HTTP 415)."""
    return FileRejected(415, protocol.E_FILE_TYPE, message)


ACCEPTED = ("send an image (PNG, JPEG, GIF, WebP), a PDF, plain UTF-8 text, "
            "or a ZIP or Office document (docx, xlsx, pptx, odt, ods, odp)")


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str  # added to a name whose extension does not fit the content
    extensions: frozenset[str]  # name extensions that fit this content
    pil_format: str | None = None  # images: the Pillow format they are re-encoded in

    @property
    def is_image(self) -> bool:
        return self.pil_format is not None


def _kind(content_type: str, *extensions: str, pil_format: str | None = None) -> Kind:
    return Kind(content_type, extensions[0], frozenset(extensions), pil_format)


PNG = _kind("image/png", "png", "apng", pil_format="PNG")
JPEG = _kind("image/jpeg", "jpg", "jpeg", "jpe", "jfif", pil_format="JPEG")
GIF = _kind("image/gif", "gif", pil_format="GIF")
WEBP = _kind("image/webp", "webp", pil_format="WEBP")
PDF = _kind("application/pdf", "pdf")
TEXT = _kind("text/plain; charset=utf-8", "txt", "text", "log", "md", "markdown", "csv", "tsv", "json",
             "yaml", "yml", "toml", "ini", "cfg", "conf", "rst", "srt", "vtt", "tex", "diff", "patch")
ZIP = _kind("application/zip", "zip")
DOCX = _kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = _kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
PPTX = _kind("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")
ODT = _kind("application/vnd.oasis.opendocument.text", "odt")
ODS = _kind("application/vnd.oasis.opendocument.spreadsheet", "ods")
ODP = _kind("application/vnd.oasis.opendocument.presentation", "odp")

# filetype's answer for the image formats we take (APNG is a PNG with an animation chunk).
_IMAGES = {"image/png": PNG, "image/apng": PNG, "image/jpeg": JPEG, "image/gif": GIF, "image/webp": WEBP}
_OOXML_MAIN_PARTS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX),
                     ("ppt/presentation.xml", PPTX))
_ODF = {kind.content_type: kind for kind in (ODT, ODS, ODP)}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a first local file header, or an empty archive
# Markup at the start of a "text" file: HTML, SVG, XML (browsers may sniff these as documents).
_MARKUP = re.compile(r"[\ufeff\s]*<[!?/a-zA-Z]")


def detect(data: bytes) -> Kind:
    """The allowed kind these bytes are, from their content alone; raises FileRejected."""
    if not data:
        raise FileRejected(400, protocol.E_BAD_FRAME, "the file is empty")
    guess = filetype.guess(data)
    mime = guess.mime if guess is not None else None
    if mime in _IMAGES:
        return _IMAGES[mime]  # reencode_image proves it by decoding every pixel
    if mime == "application/pdf":
        return _pdf(data)
    if data.startswith(_ZIP_MAGIC):
        return _zip_kind(data)
    problem = _text_problem(data)
    if problem is None:
        return TEXT
    if mime is not None:
        raise wrong_type(f"{mime} files are not accepted: {ACCEPTED}")
    raise wrong_type(problem)


def _pdf(data: bytes) -> Kind:
    # A PDF starts with its header and ends with %%EOF (readers allow a little trailing junk).
    if not re.match(rb"%PDF-[12]\.\d", data) or b"%%EOF" not in data[-2048:]:
        raise wrong_type("this is not a complete PDF (no %PDF- header or %%EOF trailer)")
    return PDF


def _zip_kind(data: bytes) -> Kind:
    """A zip archive, or the OOXML/ODF document it is; refuses damaged or prefixed archives."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            # Data before the first entry (a self-extracting exe, an HTML+zip polyglot) is refused.
            if infos and min(info.header_offset for info in infos) != 0:
                raise wrong_type("this zip archive has data before its first entry")
            names = {info.filename for info in infos}
            first = infos[0] if infos else None
            if first is not None and first.filename == "mimetype" and first.file_size <= 100:
                declared = archive.read(first).decode("ascii", "replace").strip()
                if declared in _ODF:
                    return _ODF[declared]
            if "[Content_Types].xml" in names:
                for part, kind in _OOXML_MAIN_PARTS:
                    if part in names:
                        return kind
    except FileRejected:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            NotImplementedError, RuntimeError, KeyError):
        raise wrong_type("this zip archive is damaged") from None
    return ZIP


def _text_problem(data: bytes) -> str | None:
    """None for plain UTF-8 text; else why these bytes are not accepted as text."""
    if b"\x00" in data:
        return f"this type is not accepted (and it is not plain text: it holds NUL bytes): {ACCEPTED}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f"this type is not accepted (and it is not UTF-8 text): {ACCEPTED}"
    if _MARKUP.match(text):
        return "HTML, SVG and XML documents are not accepted; zip them to send them"
    return None
