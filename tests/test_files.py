"""Attachments: type detection from the content, image re-encoding, names, storage, and the HTTP API."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select
from starlette.testclient import TestClient

from parley import file_kinds, file_names, file_store, files, image_cleaning
from parley.storage import app_queries, operator_queries, visitor_store
from parley.storage.models import File
from parley.web.app import create_app
from tests.helpers.db import run

ORIGIN = "https://shop.example"
SERVER = "http://testserver"


@pytest.fixture(autouse=True)
def data_folder(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("PARLEY_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("PARLEY_MAX_UPLOAD_BYTES", raising=False)
    return tmp_path / "data"


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png(width: int = 30, height: int = 20, color="red") -> bytes:
    return encode(Image.new("RGB", (width, height), color), "PNG")


def zipped(entries: list[tuple[str, str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


def refused(data: bytes, name: str = "x") -> file_kinds.FileRejected:
    with pytest.raises(file_kinds.FileRejected) as caught:
        files.prepare(data, name)
    return caught.value


# -- detection: the content decides, never the name ----------------------------------

def test_a_png_named_exe_is_a_png_and_gets_a_fitting_extension():
    prepared = files.prepare(png(), "holiday.exe")
    assert prepared.content_type == "image/png"
    assert (prepared.width, prepared.height) == (30, 20)
    assert prepared.name == "holiday.exe.png"
    assert prepared.sha256 == hashlib.sha256(prepared.data).hexdigest()
    assert Image.open(io.BytesIO(prepared.data)).format == "PNG"


@pytest.mark.parametrize("document", [
    b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
    b"\xef\xbb\xbf  <html><body onload=alert(1)>",
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    b"<svg><script>alert(1)</script></svg>",
    b"\n\n<script>alert(1)</script>",
])
def test_html_svg_and_xml_are_refused_whatever_the_name(document):
    error = refused(document, "cat.png")
    assert (error.status, error.code) == (415, "PARLEY_E_FILE_TYPE")
    assert "HTML" in error.message


@pytest.mark.parametrize(("data", "name", "content_type", "shown"), [
    (encode(Image.new("RGB", (8, 8)), "JPEG"), "a.jpeg", "image/jpeg", "a.jpeg"),
    (encode(Image.new("P", (8, 8)), "GIF"), "a", "image/gif", "a.gif"),
    (encode(Image.new("RGB", (8, 8)), "WEBP"), "a.webp", "image/webp", "a.webp"),
    (b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", "report.PDF", "application/pdf", "report.PDF"),
    ("Grüße, 你好\n".encode(), "notes.txt", "text/plain; charset=utf-8", "notes.txt"),
    (b"a,b\n1,2\n", "data.csv", "text/plain; charset=utf-8", "data.csv"),
    (b"< 5 items left\n", "stock.log", "text/plain; charset=utf-8", "stock.log"),
    (b"echo hi\n", "run.bat", "text/plain; charset=utf-8", "run.bat.txt"),
    (zipped([("a.txt", "hi")]), "tool.jar", "application/zip", "tool.jar.zip"),
    (zipped([("[Content_Types].xml", "<Types/>"), ("_rels/.rels", ""), ("word/document.xml", "<w/>")]),
     "cv.docx", file_kinds.DOCX.content_type, "cv.docx"),
    (zipped([("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<w/>")]),
     "sheet.xlsx", file_kinds.XLSX.content_type, "sheet.xlsx"),
    (zipped([("[Content_Types].xml", "<Types/>"), ("ppt/presentation.xml", "<p/>")]),
     "deck.pptx", file_kinds.PPTX.content_type, "deck.pptx"),
    (zipped([("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", "<x/>")]),
     "letter.odt", file_kinds.ODT.content_type, "letter.odt"),
    # An OOXML name on a plain zip is a zip.
    (zipped([("a.txt", "hi")]), "fake.docx", "application/zip", "fake.docx.zip"),
])
def test_accepted_types(data, name, content_type, shown):
    prepared = files.prepare(data, name)
    assert prepared.content_type == content_type
    assert prepared.name == shown
    if not content_type.startswith("image/"):
        assert prepared.data == data  # documents are stored byte for byte
        assert prepared.width is None and prepared.height is None


@pytest.mark.parametrize(("data", "why"), [
    (bytes(range(256)) * 16, "random binary"),
    (b"MZ\x90\x00\x03" + b"\x00" * 300, "a Windows executable"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 300, "an ELF executable"),
    ("café".encode("latin-1"), "latin-1, not UTF-8 text"),
    (b"hello\x00world", "text with a NUL"),
    (encode(Image.new("RGB", (8, 8)), "BMP"), "BMP is not on the list"),
    (encode(Image.new("RGB", (8, 8)), "TIFF"), "TIFF is not on the list"),
    (b"GIF89a/*\x00\x00*/=alert(document.domain)//;", "GIF header + JavaScript (GIFAR-style polyglot)"),
    (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", "PNG signature + HTML"),
    (png(300, 200)[:-40], "a truncated PNG"),
    (b"%PDF-1.4\n<html><script>alert(1)</script></html>", "PDF header + HTML, no trailer"),
    (b"<html><script>alert(1)</script></html>" + zipped([("a.txt", "hi")]), "HTML + zip polyglot"),
    (b"PK\x03\x04junk" + zipped([("a.txt", "hi")]), "data before the zip's first entry"),
    (b"PK\x03\x04" + b"\x00" * 100, "a damaged zip"),
])
def test_polyglots_and_garbage_are_refused(data, why):
    error = refused(data)
    assert (error.status, error.code) == (415, "PARLEY_E_FILE_TYPE"), why
    assert error.message


def test_an_empty_file_is_refused():
    error = refused(b"")
    assert (error.status, error.code) == (400, "PARLEY_E_BAD_FRAME")


def test_a_valid_png_with_a_payload_after_it_is_served_without_the_payload():
    payload = b"<html><script>alert(1)</script></html>" + zipped([("evil.js", "alert(1)")])
    prepared = files.prepare(png() + payload, "a.png")
    assert prepared.content_type == "image/png"
    assert b"<script" not in prepared.data and b"evil.js" not in prepared.data


# -- images are re-encoded ---------------------------------------------------------------

def test_jpeg_exif_and_gps_are_stripped_and_orientation_applied():
    image = Image.new("RGB", (40, 20), "red")
    image.paste((0, 0, 255), (20, 0, 40, 20))  # left half red, right half blue
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0112] = 6  # Orientation: shown rotated 90° clockwise
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}  # GPSInfo
    original = encode(image, "JPEG", exif=exif.tobytes(), comment=b"private note")
    assert b"SecretCam" in original and b"private note" in original

    prepared = files.prepare(original, "photo.jpg")
    assert prepared.content_type == "image/jpeg"
    assert b"SecretCam" not in prepared.data and b"private note" not in prepared.data
    assert b"Exif" not in prepared.data
    clean = Image.open(io.BytesIO(prepared.data))
    assert dict(clean.getexif()) == {}
    assert "comment" not in clean.info and "exif" not in clean.info
    # Rotated upright: 20 wide, 40 tall, the red (left) half now on top.
    assert (prepared.width, prepared.height) == clean.size == (20, 40)
    top, bottom = clean.convert("RGB").getpixel((10, 5)), clean.convert("RGB").getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_png_text_chunks_and_colour_profiles_are_dropped():
    from PIL import ImageCms, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Secret")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = encode(Image.new("RGBA", (10, 10), (0, 128, 0, 128)), "PNG", pnginfo=info, icc_profile=profile)
    prepared = files.prepare(original, "a.png")
    clean = Image.open(io.BytesIO(prepared.data))
    assert b"Jane Secret" not in prepared.data
    assert "icc_profile" not in clean.info and "Author" not in clean.info
    assert clean.mode == "RGBA" and clean.getpixel((5, 5))[3] == 128  # alpha kept


def test_big_images_are_scaled_down_to_4096_pixels():
    prepared = files.prepare(png(5000, 1000), "wide.png")
    assert (prepared.width, prepared.height) == (4096, 819)
    assert Image.open(io.BytesIO(prepared.data)).size == (4096, 819)


def test_decompression_bombs_are_refused_before_decoding():
    bomb = encode(Image.new("1", (8000, 8000)), "PNG")  # 64 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    error = refused(bomb, "bomb.png")
    assert (error.status, error.code) == (413, "PARLEY_E_FILE_TOO_LARGE")


def animated_gif(frames: int = 3) -> bytes:
    colours = ["red", "green", "blue", "white", "black"]
    images = [Image.new("RGB", (16, 16), colours[i % len(colours)]) for i in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)


def test_animated_gifs_stay_animated():
    prepared = files.prepare(animated_gif(3), "dance.gif")
    clean = Image.open(io.BytesIO(prepared.data))
    assert prepared.content_type == "image/gif"
    assert clean.n_frames == 3 and clean.info["loop"] == 0 and clean.info["duration"] == 80


def test_too_long_animations_keep_their_first_frame(monkeypatch):
    monkeypatch.setattr(image_cleaning, "MAX_FRAMES", 2)
    prepared = files.prepare(animated_gif(3), "long.gif")
    clean = Image.open(io.BytesIO(prepared.data))
    assert getattr(clean, "n_frames", 1) == 1
    assert clean.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


# -- names ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "clean"), [
    (None, "file"),
    ("", "file"),
    ("   ", "file"),
    ("..", "file"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\ann\\Desktop\\photo.png", "photo.png"),
    ("dir/", "file"),
    ("a\x00b\x07c.txt", "abc.txt"),
    ("two\nlines\tand  spaces.txt", "two lines and spaces.txt"),
    ("invoice\u202egnp.exe", "invoicegnp.exe"),  # the right-to-left override is gone
    ("\u2066x\u2069.pdf\u200b", "x.pdf"),
    ("Отчёт за май 📄.pdf", "Отчёт за май 📄.pdf"),
    ("e\u0301te\u0301.txt", "été.txt"),  # NFC
    ("family 👨\u200d👩\u200d👧.png", "family 👨\u200d👩\u200d👧.png"),  # ZWJ kept
    ("trailing dots... ", "trailing dots"),
])
def test_clean_name(raw, clean):
    assert file_names.clean_name(raw) == clean


def test_long_names_keep_their_extension():
    name = file_names.clean_name("ä" * 300 + ".pdf")
    assert len(name) == 255 and name.endswith("ä.pdf")
    fitted = file_names.name_for("b" * 255, file_kinds.TEXT)
    assert len(fitted) == 255 and fitted.endswith("b.txt")


def test_content_disposition_has_an_ascii_fallback_and_the_exact_utf8_name():
    header = file_names.content_disposition('Отчёт "q";.pdf', inline=False)
    assert header == ("attachment; filename=\"_____ _q__.pdf\"; "
                      "filename*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82%20%22q%22%3B.pdf")
    assert file_names.content_disposition("a.png", inline=True).startswith("inline; ")


# -- limits and storage ----------------------------------------------------------------------

def test_the_size_limit_comes_from_the_environment(monkeypatch):
    assert files.max_upload_bytes() == files.MAX_UPLOAD_BYTES == 10 * 1024 * 1024
    monkeypatch.setenv("PARLEY_MAX_UPLOAD_BYTES", "100")
    assert files.max_upload_bytes() == 100
    error = refused(b"x" * 101)
    assert (error.status, error.code) == (413, "PARLEY_E_FILE_TOO_LARGE")
    monkeypatch.setenv("PARLEY_MAX_UPLOAD_BYTES", "lots")
    assert files.max_upload_bytes() == files.MAX_UPLOAD_BYTES


def test_bytes_are_written_atomically_and_deleted(data_folder):
    file_id = file_store.new_file_id()
    assert len(file_id) == 32 and file_store.FILE_ID.fullmatch(file_id)
    path = file_store.write_file_bytes(file_id, b"hello")
    assert path == data_folder / "files" / file_id and path.read_bytes() == b"hello"
    file_store.write_file_bytes(file_id, b"again")
    assert path.read_bytes() == b"again"
    assert sorted(p.name for p in path.parent.iterdir()) == [file_id]  # no temporary left
    assert file_store.delete_file_bytes(file_id) is True
    assert file_store.delete_file_bytes(file_id) is False
    assert file_store.delete_file_bytes("../parley.db") is False
    with pytest.raises(ValueError):
        file_store.file_path("../../etc/passwd")


# -- HTTP ------------------------------------------------------------------------------------

@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A minimal dist/ (no widget build needed for these endpoints)."""
    folder = tmp_path / "dist"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"build_id": "test", "files": {}}))
    return folder


@pytest.fixture
def http(database, dist) -> Iterator[TestClient]:
    with TestClient(create_app(database, dist)) as client:
        yield client


@pytest.fixture
def shop(database):
    return run(database, lambda s: app_queries.create_app(s, "Shop", [ORIGIN]))


def new_visitor(database, app_id: str):
    return run(database, lambda s: visitor_store.resume_or_register_visitor(s, app_id, None, None))


def visitor_headers(app_id: str, visitor, origin: str | None = ORIGIN, token: str | None = None) -> dict:
    headers = {"X-Parley-App": app_id, "X-Parley-Visitor": visitor.id,
               "X-Parley-Visitor-Token": visitor.token if token is None else token,
               "Content-Type": "application/octet-stream"}
    if origin is not None:
        headers["Origin"] = origin
    return headers


def operator_cookie(database, app_id: str, email: str = "ann@shop.example") -> dict:
    async def work(session):
        operator = await operator_queries.create_operator(session, app_id, email, "correct horse battery",
                                                          "Ann")
        return operator, await operator_queries.create_operator_session(session, operator)
    _operator, token = run(database, work)
    return {"Cookie": f"parley_session={token}", "Origin": SERVER}


def stored(database, file_id: str) -> File | None:
    return run(database, lambda s: s.get(File, file_id))


def upload(http, headers, data: bytes = b"hello\n", name: str | None = "notes.txt",
           path: str = "/api/visitor/files"):
    params = {"name": name} if name is not None else {}
    return http.post(path, params=params, content=data, headers=headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["v"] == 1 and body["type"] == "error" and body["code"] == code and body["message"]
    return body


def test_visitor_upload_and_download(http, database, shop, data_folder):
    visitor = new_visitor(database, shop.id)
    response = upload(http, visitor_headers(shop.id, visitor), png(), "Отпуск.exe")
    assert response.status_code == 201, response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "Origin" in response.headers["vary"]
    assert "access-control-allow-credentials" not in response.headers
    body = response.json()["file"]
    file_id = body["id"]
    assert body == {"id": file_id, "name": "Отпуск.exe.png", "contentType": "image/png",
                    "size": body["size"], "width": 30, "height": 20,
                    "url": f"/files/{file_id}/%D0%9E%D1%82%D0%BF%D1%83%D1%81%D0%BA.exe.png"}
    row = stored(database, file_id)
    assert (row.app_id, row.visitor_id, row.uploader_kind, row.uploader_id) == (
        shop.id, visitor.id, "visitor", visitor.id)
    on_disk = (data_folder / "files" / file_id).read_bytes()
    assert len(on_disk) == body["size"] == row.size and hashlib.sha256(on_disk).hexdigest() == row.sha256

    download = http.get(body["url"])
    assert download.status_code == 200 and download.content == on_disk
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert download.headers["content-disposition"].startswith("inline; ")
    assert download.headers["cross-origin-resource-policy"] == "cross-origin"
    assert download.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert download.headers["etag"] == f'"{row.sha256}"'
    again = http.get(body["url"], headers={"If-None-Match": download.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_documents_download_as_attachments(http, database, shop):
    visitor = new_visitor(database, shop.id)
    body = upload(http, visitor_headers(shop.id, visitor), "прайс\n".encode(), "page.html").json()["file"]
    assert body["contentType"] == "text/plain; charset=utf-8" and body["name"] == "page.html.txt"
    assert body["width"] is None and body["height"] is None
    download = http.get(body["url"])
    assert download.status_code == 200 and download.text == "прайс\n"
    assert download.headers["content-type"] == "text/plain; charset=utf-8"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"page.html.txt\"; filename*=UTF-8''page.html.txt")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "default-src 'none'; sandbox"
    # The name in the URL is decoration: the id alone finds the file.
    assert http.get(f"/files/{body['id']}/other.exe").content == "прайс\n".encode()


def test_unknown_files_are_404(http):
    assert_error(http.get(f"/files/{'0' * 32}/x.png"), 404, "PARLEY_E_NOT_FOUND")
    assert_error(http.get("/files/not-an-id/x.png"), 404, "PARLEY_E_NOT_FOUND")
    assert http.get("/files/..%2F..%2Fparley.db/x").status_code == 404


def test_a_file_without_a_name_is_called_file(http, database, shop):
    visitor = new_visitor(database, shop.id)
    body = upload(http, visitor_headers(shop.id, visitor), b"hi", name=None).json()["file"]
    assert body["name"] == "file.txt"


def test_visitor_auth_failures(http, database, shop):
    visitor = new_visitor(database, shop.id)
    other_app = run(database, lambda s: app_queries.create_app(s, "Other", ["https://other.example"]))
    stranger = new_visitor(database, other_app.id)
    good = visitor_headers(shop.id, visitor)
    body = assert_error(upload(http, {**good, "X-Parley-Visitor-Token": "wrong"}), 403, "PARLEY_E_AUTH")
    assert "token" in body["message"]
    assert_error(upload(http, {**good, "X-Parley-Visitor-Token": ""}), 403, "PARLEY_E_AUTH")
    assert_error(upload(http, {**good, "X-Parley-Visitor": "0" * 24}), 403, "PARLEY_E_AUTH")
    # Another app's visitor, with its own valid token, cannot upload into this app...
    assert_error(upload(http, visitor_headers(shop.id, stranger)), 403, "PARLEY_E_AUTH")
    # ...nor can this app's visitor upload as the other app (from either site).
    assert_error(upload(http, visitor_headers(other_app.id, visitor, origin="https://other.example")),
                 403, "PARLEY_E_AUTH")
    assert_error(upload(http, visitor_headers(other_app.id, visitor)), 403, "PARLEY_E_ORIGIN")
    # A foreign page, a missing Origin (the app has origins), an unknown app.
    response = upload(http, visitor_headers(shop.id, visitor, origin="https://evil.example"))
    assert_error(response, 403, "PARLEY_E_ORIGIN")
    assert "access-control-allow-origin" not in response.headers
    assert_error(upload(http, visitor_headers(shop.id, visitor, origin="https://shop.example.evil.com")),
                 403, "PARLEY_E_ORIGIN")
    assert_error(upload(http, visitor_headers(shop.id, visitor, origin=None)), 403, "PARLEY_E_ORIGIN")
    assert_error(upload(http, {**good, "X-Parley-App": "nope"}), 404, "PARLEY_E_UNKNOWN_APP")
    assert_error(upload(http, {"Origin": ORIGIN}), 404, "PARLEY_E_UNKNOWN_APP")
    assert run(database, lambda s: s.scalar(select(File.id))) is None


def test_origins_as_on_the_visitor_socket(http, database, shop):
    anywhere = run(database, lambda s: app_queries.create_app(s, "Anywhere", []))
    visitor = new_visitor(database, anywhere.id)
    response = upload(http, visitor_headers(anywhere.id, visitor, origin="https://any.example"))
    assert response.status_code == 201 and response.headers["access-control-allow-origin"] == "https://any.example"
    assert upload(http, visitor_headers(anywhere.id, visitor, origin=None)).status_code == 201
    # Parley's own chat page (/chat/<appId>) may always upload for its app.
    shopper = new_visitor(database, shop.id)
    response = upload(http, visitor_headers(shop.id, shopper, origin=SERVER))
    assert response.status_code == 201 and response.headers["access-control-allow-origin"] == SERVER
    assert upload(http, visitor_headers(shop.id, shopper, origin=ORIGIN + "/")).status_code == 201


def test_cors_preflight(http):
    response = http.options("/api/visitor/files?name=a.png", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-parley-app, x-parley-visitor, x-parley-visitor-token"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"x-parley-app", "x-parley-visitor", "x-parley-visitor-token", "content-type"} <= allowed
    assert "Origin" in response.headers["vary"]
    assert "access-control-allow-credentials" not in response.headers


def test_errors_after_the_origin_check_are_readable_by_the_page(http, database, shop, monkeypatch):
    visitor = new_visitor(database, shop.id)
    response = upload(http, visitor_headers(shop.id, visitor), b"\x00\x01\x02garbage")
    assert_error(response, 415, "PARLEY_E_FILE_TYPE")
    assert response.headers["access-control-allow-origin"] == ORIGIN
    response = upload(http, visitor_headers(shop.id, visitor, token="wrong"))
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_type_refused_with_415(http, database, shop):
    visitor = new_visitor(database, shop.id)
    assert_error(upload(http, visitor_headers(shop.id, visitor), b"<html><script>alert(1)</script>", "a.png"),
                 415, "PARLEY_E_FILE_TYPE")
    assert_error(upload(http, visitor_headers(shop.id, visitor), b"MZ\x90\x00" + b"\x00" * 64, "a.pdf"),
                 415, "PARLEY_E_FILE_TYPE")
    assert_error(upload(http, visitor_headers(shop.id, visitor), b""), 400, "PARLEY_E_BAD_FRAME")


def test_size_limit_413(http, database, shop, monkeypatch, data_folder):
    monkeypatch.setenv("PARLEY_MAX_UPLOAD_BYTES", "1000")
    visitor = new_visitor(database, shop.id)
    headers = visitor_headers(shop.id, visitor)
    assert upload(http, headers, b"a" * 1000).status_code == 201
    response = upload(http, headers, b"a" * 1001)
    body = assert_error(response, 413, "PARLEY_E_FILE_TOO_LARGE")
    assert "1000" in body["message"] and response.headers["access-control-allow-origin"] == ORIGIN
    # No Content-Length (chunked): the streamed body is cut off at the limit.
    chunks = (b"a" * 400 for _ in range(5))
    assert_error(http.post("/api/visitor/files", content=chunks, headers=headers),
                 413, "PARLEY_E_FILE_TOO_LARGE")
    assert len(list((data_folder / "files").iterdir())) == 1


async def test_the_body_is_not_read_past_the_limit(database, dist, shop, monkeypatch):
    monkeypatch.setenv("PARLEY_MAX_UPLOAD_BYTES", "1000")
    async with database.session() as session:
        visitor = await visitor_store.resume_or_register_visitor(session, shop.id, None, None)
        await session.commit()
    app = create_app(database, dist)
    sent = []

    async def body():
        for _ in range(100):
            sent.append(1)
            yield b"a" * 500

    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=SERVER) as client:
                response = await client.post("/api/visitor/files", content=body(),
                                             headers=visitor_headers(shop.id, visitor))
    finally:
        await database.engine.dispose()
    assert response.status_code == 413
    assert len(sent) <= 4  # stopped at the third 500-byte chunk, not after all 100


def test_declared_content_length_over_the_limit_is_refused_at_once(http, database, shop, monkeypatch):
    monkeypatch.setenv("PARLEY_MAX_UPLOAD_BYTES", "1000")
    visitor = new_visitor(database, shop.id)
    headers = {**visitor_headers(shop.id, visitor), "Content-Length": "50000000"}
    assert_error(http.post("/api/visitor/files", content=b"tiny", headers=headers),
                 413, "PARLEY_E_FILE_TOO_LARGE")


def test_visitor_upload_rate_limit_429(http, database, shop):
    visitor = new_visitor(database, shop.id)
    other = new_visitor(database, shop.id)
    for _ in range(10):
        assert upload(http, visitor_headers(shop.id, visitor)).status_code == 201
    response = upload(http, visitor_headers(shop.id, visitor))
    assert_error(response, 429, "PARLEY_E_RATE_LIMIT")
    assert 1 <= int(response.headers["retry-after"]) <= 61
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "Retry-After" in response.headers["access-control-expose-headers"]
    assert upload(http, visitor_headers(shop.id, other)).status_code == 201  # per visitor


def test_operator_upload(http, database, shop):
    headers = operator_cookie(database, shop.id)
    response = upload(http, headers, png(), "screenshot.png", path="/api/operator/files")
    assert response.status_code == 201, response.text
    body = response.json()["file"]
    assert body["contentType"] == "image/png" and body["name"] == "screenshot.png"
    assert "access-control-allow-origin" not in response.headers
    row = stored(database, body["id"])
    assert (row.app_id, row.visitor_id, row.uploader_kind) == (shop.id, None, "operator")
    assert http.get(body["url"]).status_code == 200


def test_operator_upload_needs_a_session_and_this_servers_origin(http, database, shop):
    headers = operator_cookie(database, shop.id)
    path = "/api/operator/files"
    assert_error(upload(http, {"Origin": SERVER}, path=path), 401, "PARLEY_E_AUTH")
    assert_error(upload(http, {"Origin": SERVER, "Cookie": "parley_session=forged"}, path=path),
                 401, "PARLEY_E_AUTH")
    assert_error(upload(http, {**headers, "Origin": ORIGIN}, path=path), 403, "PARLEY_E_ORIGIN")
    no_origin = {key: value for key, value in headers.items() if key != "Origin"}
    assert_error(upload(http, no_origin, path=path), 403, "PARLEY_E_ORIGIN")
    assert_error(upload(http, headers, b"\x7fELF" + b"\x00" * 64, path=path), 415, "PARLEY_E_FILE_TYPE")
    # A visitor's credentials are no operator session.
    visitor = new_visitor(database, shop.id)
    assert_error(upload(http, {**visitor_headers(shop.id, visitor), "Origin": SERVER}, path=path),
                 401, "PARLEY_E_AUTH")
