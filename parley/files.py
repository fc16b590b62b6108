"""Chat attachments: what a file is (from its bytes, never its name), cleaning it, storing it.

`prepare(data, name)` is the whole check of an upload: it detects the type from
the content with `filetype` (magic numbers) and then proves it with a real
parser (Pillow for images, `zipfile` for zip-based documents, the PDF header and
trailer, strict UTF-8 for text). Images are re-encoded, so what is served is
pixels Pillow wrote: no EXIF/GPS, no comments, no trailing polyglot payload.
Anything not on the allow-list raises `FileRejected` with a stable error code.

The bytes live in `files_dir() / <file id>` (32 random hex digits, no name, no
extension); the database row (`File`) holds the cleaned name and the type.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import filetype
from PIL import Image, ImageCms, ImageSequence

from parley import protocol
from parley.settings import files_dir

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # 10 MiB; $PARLEY_MAX_UPLOAD_BYTES overrides it
MAX_IMAGE_SIDE = 4096  # longer images are scaled down to this many pixels
MAX_IMAGE_PIXELS = 40_000_000  # decoded pixels (after JPEG draft scaling); more is refused
MAX_FRAMES = 300  # animations with more frames keep only the first one
MAX_ANIMATION_PIXELS = 25_000_000  # frames x width x height of a kept animation
MAX_NAME = 255
DEFAULT_NAME = "file"
FILE_ID = re.compile(r"[0-9a-f]{32}")


def max_upload_bytes() -> int:
    """The upload limit in bytes: $PARLEY_MAX_UPLOAD_BYTES, else MAX_UPLOAD_BYTES."""
    raw = os.environ.get("PARLEY_MAX_UPLOAD_BYTES", "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value > 0:
            return value
    return MAX_UPLOAD_BYTES


class FileRejected(Exception):
    """An upload that is refused: HTTP `status`, a stable protocol `code`, a clear `message`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _wrong_type(message: str) -> FileRejected:
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


@dataclass(frozen=True)
class Prepared:
    """An accepted upload, ready to store: the bytes to keep and what they are."""

    data: bytes
    name: str
    content_type: str
    width: int | None
    height: int | None
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def prepare(data: bytes, name: str | None) -> Prepared:
    """Checks an upload and returns what to store; raises FileRejected.

    CPU-bound for images (decode + encode): call it in a worker thread.
    """
    limit = max_upload_bytes()
    if len(data) > limit:
        raise FileRejected(413, protocol.E_FILE_TOO_LARGE, f"files are limited to {limit} bytes")
    kind = detect(data)
    width = height = None
    if kind.is_image:
        data, width, height = reencode_image(data, kind)
    return Prepared(data=data, name=name_for(clean_name(name), kind), content_type=kind.content_type,
                    width=width, height=height, sha256=hashlib.sha256(data).hexdigest())


# -- what a file is -----------------------------------------------------------------

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
        raise _wrong_type(f"{mime} files are not accepted: {ACCEPTED}")
    raise _wrong_type(problem)


def _pdf(data: bytes) -> Kind:
    # A PDF starts with its header and ends with %%EOF (readers allow a little trailing junk).
    if not re.match(rb"%PDF-[12]\.\d", data) or b"%%EOF" not in data[-2048:]:
        raise _wrong_type("this is not a complete PDF (no %PDF- header or %%EOF trailer)")
    return PDF


def _zip_kind(data: bytes) -> Kind:
    """A zip archive, or the OOXML/ODF document it is; refuses damaged or prefixed archives."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            # Data before the first entry (a self-extracting exe, an HTML+zip polyglot) is refused.
            if infos and min(info.header_offset for info in infos) != 0:
                raise _wrong_type("this zip archive has data before its first entry")
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
        raise _wrong_type("this zip archive is damaged") from None
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


# -- images -----------------------------------------------------------------------

_ORIENTATION = 0x0112
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


def reencode_image(data: bytes, kind: Kind) -> tuple[bytes, int, int]:
    """Decodes and re-encodes an image in its own format: orientation applied, colours in
    sRGB, at most MAX_IMAGE_SIDE pixels a side, no metadata kept. Returns (bytes, width, height).

    Animated GIF, WebP and APNG stay animated when they have at most MAX_FRAMES frames
    and MAX_ANIMATION_PIXELS pixels in all; larger animations keep their first frame.
    """
    label = kind.pil_format
    try:
        with Image.open(io.BytesIO(data), formats=[label]) as image:
            if label == "JPEG":
                # Decode big JPEGs at 1/2, 1/4 or 1/8 scale right away: cheap and small.
                image.draft(None, (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
            width, height = image.size
            if width < 1 or height < 1:
                raise _wrong_type(f"this {label} image has no pixels")
            if width * height > MAX_IMAGE_PIXELS:
                raise FileRejected(413, protocol.E_FILE_TOO_LARGE,
                                   f"the image is {width}x{height} pixels; at most "
                                   f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels are accepted")
            transpose = _TRANSPOSE.get(image.getexif().get(_ORIENTATION))
            size = _fitted((height, width) if transpose in _SWAPS else (width, height))
            encode = {"JPEG": {"quality": 85, "optimize": True},
                      "WEBP": {"lossless": True} if _webp_lossless(data) else {"quality": 85}}.get(label, {})
            frames = getattr(image, "n_frames", 1)
            if 1 < frames <= MAX_FRAMES and frames * size[0] * size[1] <= MAX_ANIMATION_PIXELS:
                out = _animation(image, label, transpose, size, encode)
            else:
                out = _still(image, label, transpose, size, encode)
    except FileRejected:
        raise
    except Exception:  # untrusted input: whatever Pillow raises means "not a valid image"
        raise _wrong_type(f"this is not a valid {label} image") from None
    return out, size[0], size[1]


_SWAPS = {Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE,
          Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270}


def _fitted(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    longest = max(width, height)
    if longest <= MAX_IMAGE_SIDE:
        return width, height
    scale = MAX_IMAGE_SIDE / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _webp_lossless(data: bytes) -> bool:
    # A lossless WebP has a VP8L bitstream chunk; a lossy one (maybe with alpha) has VP8.
    head = data[12:4096]
    return b"VP8L" in head and b"VP8 " not in head


def _to_srgb(image: Image.Image, label: str) -> Image.Image:
    """A copy in a mode the format writes (L, RGB or RGBA) with sRGB colours: an embedded
    colour profile is applied, then dropped with the rest of the metadata."""
    if image.mode in ("L", "1", "I", "I;16", "I;16B", "I;16L") and label != "WEBP":
        target = "L"
    elif image.mode in ("RGB", "CMYK", "YCbCr", "L") or label == "JPEG":
        target = "RGB"
    else:
        target = "RGBA" if image.mode in _ALPHA_MODES or "transparency" in image.info else "RGB"
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                                  outputMode=target)
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # an unusable profile: keep the pixels as they are
    if image.mode.startswith("I"):
        image = image.point(lambda value: value / 256).convert("L")  # 16-bit grey to 8 bits
    return image.convert(target)


def _clean(image: Image.Image) -> Image.Image:
    """The same image object with no metadata at all (only palette transparency survives)."""
    image.info = {"transparency": image.info["transparency"]} if "transparency" in image.info else {}
    return image


def _still(image: Image.Image, label: str, transpose, size: tuple[int, int], encode: dict) -> bytes:
    image.seek(0)
    image.load()
    upright = (image.height, image.width) if transpose in _SWAPS else (image.width, image.height)
    keeps_mode = (label in ("PNG", "GIF") and image.mode in ("P", "1", "L", "LA")
                  and "icc_profile" not in image.info and upright == size)
    # Palette and grey images keep their mode when not scaled (smaller files, same pixels).
    frame = image.copy() if keeps_mode else _to_srgb(image, label)
    if transpose is not None:
        frame = frame.transpose(transpose)
    if frame.size != size:
        frame = frame.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    _clean(frame).save(buffer, format=label, **encode)
    return buffer.getvalue()


def _animation(image: Image.Image, label: str, transpose, size: tuple[int, int], encode: dict) -> bytes:
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        durations.append(int(frame.info.get("duration", 100)))
        out = frame.convert("RGBA")
        if transpose is not None:
            out = out.transpose(transpose)
        if out.size != size:
            out = out.resize(size, Image.Resampling.LANCZOS)
        frames.append(_clean(out))
    options = dict(encode, save_all=True, append_images=frames[1:], duration=durations)
    if "loop" in image.info:  # a GIF without a loop count plays once: keep it that way
        options["loop"] = int(image.info["loop"])
    if label == "GIF":
        options["disposal"] = 2  # every frame is the whole picture
    buffer = io.BytesIO()
    frames[0].save(buffer, format=label, **options)
    return buffer.getvalue()


# -- names -------------------------------------------------------------------------

# Characters that never belong in a shown name: bidi overrides/isolates (they disguise
# "gpj.exe" as "exe.jpg"), line separators. ZWJ/ZWNJ stay (emoji, Persian, Indic).
_KEEP_FORMAT = {"\u200c", "\u200d"}


def clean_name(raw: str | None) -> str:
    """A display name: the basename only, NFC, no control or bidi characters, at most
    255 characters (the extension kept when shortened), "file" when nothing is left."""
    if not raw:
        return DEFAULT_NAME
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if _shown(ch))
    name = " ".join(name.split())  # tabs, newlines and runs of spaces become one space
    name = name.strip(" .")  # no hidden dotfiles, no trailing dots (Windows drops them), no "." or ".."
    if not name:
        return DEFAULT_NAME
    return _fit(name)


def _shown(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Zl", "Zp"):
        return category == "Cc" and ch in "\t\n"  # whitespace controls become spaces later
    if category == "Cf":
        return ch in _KEEP_FORMAT or "\U000e0020" <= ch <= "\U000e007f"  # emoji tag sequences
    return True


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or not 1 <= len(extension) <= 16 or " " in extension:
        return name, ""
    return stem, "." + extension


def _fit(name: str, suffix: str = "") -> str:
    if len(name) + len(suffix) <= MAX_NAME:
        return name + suffix
    stem, extension = _split_extension(name)
    room = MAX_NAME - len(suffix) - len(extension)
    return stem[:room].rstrip(" .") + extension + suffix


def name_for(name: str, kind: Kind) -> str:
    """The name with an extension that fits the content: "invoice.exe" holding a PDF is
    shown and downloaded as "invoice.exe.pdf", "page.html" holding text as "page.html.txt"."""
    _stem, extension = _split_extension(name)
    if extension[1:].lower() in kind.extensions:
        return name
    return _fit(name, "." + kind.extension)


def url_for(file_id: str, name: str) -> str:
    """The download path of a file (relative to the server)."""
    return f"/files/{file_id}/{quote(name, safe='')}"


def file_dict(file) -> dict:
    """FILE as the HTTP API (and messages) show it; `file` is a models.File row."""
    return {"id": file.id, "name": file.name, "contentType": file.content_type, "size": file.size,
            "width": file.width, "height": file.height, "url": url_for(file.id, file.name)}


def content_disposition(name: str, inline: bool) -> str:
    """`inline` / `attachment` with an ASCII fallback name and the exact UTF-8 one (RFC 6266)."""
    fallback = "".join(ch if " " <= ch < "\x7f" and ch not in '"\\%;' else "_" for ch in name)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# -- bytes on disk -------------------------------------------------------------------

def new_file_id() -> str:
    """128 random bits as 32 hex digits: the file's id and the capability to fetch it."""
    return secrets.token_hex(16)


def file_path(file_id: str) -> Path:
    """Where a file's bytes live; raises ValueError for anything but a file id."""
    if not isinstance(file_id, str) or not FILE_ID.fullmatch(file_id):
        raise ValueError("not a file id")
    return files_dir() / file_id


def write_file_bytes(file_id: str, data: bytes) -> Path:
    """Stores the bytes atomically: a temporary file in the same folder, fsynced, renamed."""
    path = file_path(file_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def delete_file_bytes(file_id: str) -> bool:
    """Removes a file's bytes; False when there were none (or the id is not a file id)."""
    try:
        path = file_path(file_id)
    except ValueError:
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
