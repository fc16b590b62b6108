// Runs a Python script under the pinned MicroPython WebAssembly build (the
// same interpreter the widget uses in the browser), with widget/ and static/ mounted
// under /lib so `import widget.core...` works (static/<page> is for sys.path).
// Usage: node tests/mpy_run.mjs ROOT SCRIPT
// Prints the script's stdout; exits 1 with the traceback on an exception.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const [root, script] = process.argv.slice(2);
let out = "";
const mp = await loadMicroPython({
  heapsize: 16 * 1024 * 1024,
  stdout: (line) => { out += line + "\n"; },
  stderr: (line) => { out += line + "\n"; },
});

function mount(dir) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const target = "/lib/" + relative(root, full);
    if (statSync(full).isDirectory()) {
      if (name === "__pycache__") continue;
      mp.FS.mkdirTree(target);
      mount(full);
    } else if (name.endsWith(".py")) {
      mp.FS.writeFile(target, readFileSync(full));
    }
  }
}
mp.FS.mkdirTree("/lib/widget");
mount(join(root, "widget"));
// The operator pages' Python (static/inbox, static/admin) runs on MicroPython too.
mp.FS.mkdirTree("/lib/static");
mount(join(root, "static"));
try {
  mp.runPython("import sys\nsys.path.insert(0, '/lib')");
  mp.runPython(readFileSync(script, "utf8"));
  process.stdout.write(out);
} catch (err) {
  process.stdout.write(out);
  process.stderr.write(String(err && err.message ? err.message : err) + "\n");
  process.exit(1);
}
