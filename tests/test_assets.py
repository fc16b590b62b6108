"""dist/ is served with the right types, encodings, caching and CORS."""

from __future__ import annotations


def _widget(built_dist, key):
    return "/" + built_dist["widget"][key]


def test_wasm_is_served_as_wasm_precompressed_and_cached_forever(client, built_dist):
    response = client.get(_widget(built_dist, "runtime_wasm"), headers={"Accept-Encoding": "br"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/wasm"
    assert response.headers["content-encoding"] == "br"
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.content[:4] == b"\0asm"  # httpx decodes br: the real wasm came back


def test_gzip_when_brotli_is_not_accepted(client, built_dist):
    response = client.get(_widget(built_dist, "boot"), headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"].startswith("text/javascript")
    assert b"loadMicroPython" in response.content


def test_loader_has_a_stable_name_and_short_cache(client):
    response = client.get("/widget/loader.js", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.headers["cache-control"] == "public, max-age=300"


def test_etag_revalidation(client):
    first = client.get("/widget/loader.js")
    again = client.get("/widget/loader.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_only_built_files_are_served(client):
    for path in ("/widget/nope.js", "/widget/../pyproject.toml", "/widget/%2e%2e/build.py",
                 "/widget/manifest.json", "/static/../../etc/passwd"):
        assert client.get(path).status_code == 404, path


def test_health_and_readiness(client):
    assert client.get("/healthz").text == "ok"
    assert client.get("/readyz").json() == {"ready": True}


def test_build_is_deterministic(built_dist, tmp_path):
    import build

    again = build.build(tmp_path / "dist")
    assert again["files"] == built_dist["files"]
    assert again["build_id"] == built_dist["build_id"]


def test_widget_download_stays_small(built_dist):
    import build

    sizes = build.widget_download_sizes(built_dist)
    # A guard against accidents (a source map, an unminified dependency), not a benchmark.
    assert sizes["brotli"] < 300 * 1024, sizes


def test_widget_ships_as_bytecode_for_every_widget_module(built_dist):
    from pathlib import Path

    import build

    data = (Path(build.DIST) / built_dist["widget"]["bundle"]).read_bytes()
    later = (Path(build.DIST) / built_dist["widget_later"]["bundle"]).read_bytes()
    files, later_files = build.unpack_bundle(data), build.unpack_bundle(later)
    sources = build.widget_sources()
    # Every module in one of the two bundles, none in both; the second is the window's code.
    assert not set(files) & set(later_files)
    assert sorted({**files, **later_files}) == sorted(p[:-3] + ".mpy" for p in sources)
    assert "widget/browser/window.mpy" in later_files and "widget/browser/main.mpy" in files
    assert all(blob[:1] == b"M" for blob in {**files, **later_files}.values())  # the .mpy magic byte
    assert build.pack_bundle(files) == data and build.pack_bundle(later_files) == later


def test_a_changed_source_makes_the_build_stale(built_dist, tmp_path, monkeypatch):
    import shutil

    import build

    assert build.is_current()
    # A copy of the inputs in a scratch root: change one file, the digest changes.
    for name in build.INPUTS:
        source = build.ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    monkeypatch.setattr(build, "ROOT", tmp_path)
    before = build.source_digest()
    (tmp_path / "widget" / "core" / "state.py").write_text("# changed\\n", encoding="utf-8")
    assert build.source_digest() != before


def test_the_operator_pages_get_the_widgets_shared_rules_as_they_are(client, built_dist):
    """The admin screens import the widget's colour and email rules (build.SHARED_WITH_PAGES):
    the very files of widget/core, compiled for the page, not copies kept in step by hand."""
    from build import ROOT, SHARED_WITH_PAGES, compile_widget
    admin_files = {target: url for url, target in built_dist["pages"]["admin"]["files"].items()}
    for name in SHARED_WITH_PAGES:
        source = (ROOT / "widget" / "core" / f"{name}.py").read_text(encoding="utf-8")
        response = client.get(admin_files[f"./{name}.mpy"], headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200, name
        assert response.content == compile_widget({f"{name}.py": source})[f"{name}.mpy"]
        # The source too, at the URL it always had (read by people, not by the page).
        response = client.get(f"/static/shared/{name}.py", headers={"Accept-Encoding": "identity"})
        assert response.content == (ROOT / "widget" / "core" / f"{name}.py").read_bytes()
