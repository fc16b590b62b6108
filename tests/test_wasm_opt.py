"""The runtime's .wasm goes through Binaryen's wasm-opt -Oz at build time (issue 16):
smaller, with the same exports and no import the pinned JS glue doesn't provide (wasm-opt
drops imports nothing calls), so the glue still fits it."""

from __future__ import annotations

import json
import shutil
import subprocess

import build

# Prints a .wasm's imports and exports as JSON (WebAssembly.Module reflection).
SHAPE = """
const fs = require("fs");
const module = new WebAssembly.Module(fs.readFileSync(process.argv[1]));
console.log(JSON.stringify({imports: WebAssembly.Module.imports(module),
                            exports: WebAssembly.Module.exports(module)}));
"""


def _shape(path) -> dict:
    done = subprocess.run([shutil.which("node"), "-e", SHAPE, str(path)], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def test_served_runtime_is_the_pinned_one_optimized_with_the_same_interface(built_dist):
    served = build.DIST / built_dist["widget"]["runtime_wasm"]
    pinned = build.MICROPYTHON_PKG / "micropython.wasm"
    assert served.read_bytes()[:4] == b"\0asm"
    assert served.stat().st_size < pinned.stat().st_size
    optimized, original = _shape(served), _shape(pinned)
    assert optimized["exports"] == original["exports"]
    assert all(item in original["imports"] for item in optimized["imports"])
    # The inbox's PyScript runs the same runtime bytes.
    assert (build.DIST / "inbox/pyscript/micropython.wasm").read_bytes() == served.read_bytes()


def test_optimizing_is_deterministic_through_the_cache():
    pinned = (build.MICROPYTHON_PKG / "micropython.wasm").read_bytes()
    assert build.optimize_wasm(pinned) == build.optimize_wasm(pinned)
