// Run the core's tests and the Cloudflare adapters' tests under pytest inside real Pyodide
// (npm `pyodide`, pinned in package.json to the release the Worker's compatibility date selects).
//
//   node --experimental-wasm-jspi scripts/pyodide/run_tests.mjs [pytest args...]
//
// Normally started by scripts/pyodide/run.sh (Node 22 from node_modules, the provider emulator on
// loopback in EMULATOR_URL). Offline: Pyodide loads from node_modules; the pure-Python wheels come from
// .cache/pyodide-wheels/ (scripts/setup.sh downloads requirements/pyodide-wheels.txt there).
//
// What goes into Pyodide's (in-memory) filesystem under /app: pyproject.toml (pytest's configuration),
// src/, migrations/, d1_views.sql, and only the test folders listed in TEST_DIRS (not tests/conftest.py,
// which starts uvicorn and httpx for the CPython end-to-end tests). The process exits with pytest's exit
// code; the last line printed is pytest's own summary line.

import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { loadPyodide } from "pyodide";

import { createAi } from "./ai_standin.mjs";
import { createD1 } from "./d1_standin.mjs";
import { createWorkerd, ExecutionContext, WaitUntilCollector } from "./workerd_standins.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const APP = "/app";
const WHEELS_DIR = join(ROOT, ".cache", "pyodide-wheels");
const WHEELS_LIST = join(ROOT, "requirements", "pyodide-wheels.txt");

// The tests that run here. tests/unit is the core (plain Python); tests/cloudflare exercises the
// Cloudflare adapters against the stand-ins and only runs here (it imports `js`).
const TEST_DIRS = ["tests/unit", "tests/providers", "tests/cloudflare"];
// Test modules that stay on CPython, and why.
const CPYTHON_ONLY = {
  "tests/unit/test_validation.py": "needs pydantic; pydantic_core has no wasm build reachable offline",
  "tests/unit/test_admin_access.py": "imports the admin API layer (FastAPI, pydantic)",
};

// pyproject's pythonpath puts src/ and . on sys.path, as on CPython.
const COPIED = ["pyproject.toml", "d1_views.sql", "migrations", "src", ...TEST_DIRS];

function fail(message) {
  process.stderr.write(`scripts/pyodide: ${message}\n`);
  process.exit(2);
}

function copyIntoPyodide(FS, hostPath, fsPath) {
  const stat = statSync(hostPath);
  if (stat.isDirectory()) {
    FS.mkdirTree(fsPath);
    for (const name of readdirSync(hostPath)) {
      if (name === "__pycache__" || name.startsWith(".")) continue;
      copyIntoPyodide(FS, join(hostPath, name), `${fsPath}/${name}`);
    }
  } else if (/\.(py|sql|toml|json)$/.test(hostPath)) {  // json: tests/unit/fixtures
    FS.writeFile(fsPath, readFileSync(hostPath));
  }
}

// The wheels named in requirements/pyodide-wheels.txt, exactly (not whatever else is in the cache).
function wheelFiles() {
  if (!existsSync(WHEELS_DIR)) fail(`${relative(ROOT, WHEELS_DIR)} is missing: run scripts/setup.sh`);
  const available = readdirSync(WHEELS_DIR).filter((name) => name.endsWith(".whl"));
  const wanted = readFileSync(WHEELS_LIST, "utf8")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean)
    .map((line) => line.split(/\s+/)[0]);
  return wanted.map((pin) => {
    const [name, version] = pin.split("==");
    const prefix = `${name.toLowerCase().replace(/[-_.]+/g, "_")}-${version}-`;
    const file = available.find((candidate) => candidate.toLowerCase().startsWith(prefix));
    if (!file) fail(`no wheel for ${pin} in ${relative(ROOT, WHEELS_DIR)}: run scripts/setup.sh`);
    return join(WHEELS_DIR, file);
  });
}

// workerd logs unhandled rejections and carries on; so does this run (they are reported, not fatal).
process.on("unhandledRejection", (reason) => {
  process.stderr.write(`scripts/pyodide: unhandled promise rejection: ${reason?.stack ?? reason}\n`);
});

// An error outside pytest (loading, copying): say what it was, without Node printing the line of
// minified Pyodide source it was thrown from.
process.on("uncaughtException", (error) => fail(`${error?.stack ?? error}`));

const started = performance.now();
const wheels = wheelFiles();
const pyodide = await loadPyodide({
  env: {
    HOME: "/home/pyodide",
    EMULATOR_URL: process.env.EMULATOR_URL ?? "",
    CLOSED_PORT_URL: process.env.CLOSED_PORT_URL ?? "",
  },
});
// pytest's output verbatim (no line batching, no extra newlines).
const decoder = new TextDecoder();
pyodide.setStdout({ write: (bytes) => (process.stdout.write(decoder.decode(bytes)), bytes.length) });
pyodide.setStderr({ write: (bytes) => (process.stderr.write(decoder.decode(bytes)), bytes.length) });

const FS = pyodide.FS;
const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
for (const wheel of wheels) {
  pyodide.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel", { extractDir: sitePackages });
}
FS.mkdirTree(`${APP}/tests`);
for (const path of COPIED) {
  const host = join(ROOT, path);
  if (!existsSync(host)) fail(`${path} is missing`);
  copyIntoPyodide(FS, host, `${APP}/${path}`);
}

// The workerd-provided modules (see workerd_standins.mjs) around one env and one waitUntil collector.
const env = {};
const waitUntil = new WaitUntilCollector();
const workerd = createWorkerd(env, waitUntil);
pyodide.registerJsModule("_pyodide_entrypoint_helper", workerd.entrypointHelper); // provided by workerd
pyodide.registerJsModule("_cloudflare_compat_flags", workerd.compatibilityFlags); // provided by workerd
// Not workerd: what tests/cloudflare uses to build and inspect the platform around the code under test.
pyodide.registerJsModule("pyodide_standins", {
  env,
  waitUntil,
  createD1: () => createD1(ROOT),
  newExecutionContext: () => new ExecutionContext(waitUntil),
  // A fresh env for one test: a new D1 database as DB, a Workers AI stand-in as AI, plus the given vars.
  resetEnv(vars) {
    for (const key of Object.keys(env)) delete env[key];
    Object.assign(env, vars ?? {}, { DB: createD1(ROOT), AI: createAi() });
    waitUntil.pending.length = 0;
    return env;
  },
});

const ignores = Object.keys(CPYTHON_ONLY).map((path) => `--ignore=${path}`);
// Extra arguments go to pytest; test paths among them (tests/...) replace the default TEST_DIRS.
const extra = process.argv.slice(2);
const paths = extra.some((arg) => arg.startsWith("tests/")) ? [] : TEST_DIRS;
const args = [...paths, ...ignores, "-p", "no:cacheprovider", ...extra];
const setupSeconds = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(
  `Pyodide ${pyodide.version} (Python ${pyodide.runPython("import platform; platform.python_version()")}, ` +
    `Node ${process.versions.node}): set up in ${setupSeconds}s; pytest ${args.join(" ")}\n`,
);

pyodide.globals.set("PYTEST_ARGS", pyodide.toPy(args));
// runPythonAsync is a promising entry point: with JSPI, asyncio.run() in the tests (Pyodide makes it
// run_until_complete on its WebLoop) can suspend the whole stack until the awaited JS promises settle.
const exitCode = await pyodide.runPythonAsync(`
import os, sys
os.chdir("${APP}")
import pytest
int(pytest.main(list(PYTEST_ARGS)))
`);
process.exitCode = exitCode;
