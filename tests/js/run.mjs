#!/usr/bin/env node
// The contree-auth component on a second host: Node.js, through jco's
// transpiler (`@bytecodealliance/jco-transpile`, without the rest of jco) and
// the WASI shim `@bytecodealliance/preview2-shim`.
//
//   node run.mjs <contree_auth.wasm> [<contree_auth_tool.wasm>]
//
// Run from the directory the packages are installed in (the Rust test copies
// this file, package.json and package-lock.json under target/ and runs
// `npm ci` there).
//
// 1. Transpiles the component (`transpileBytes`, `instantiation: async`,
//    so that the WASI imports come from a sandboxed `WASIShim`).
// 2. Writes an auth.ini into a fresh temporary config home.
// 3. CLI export: runs `wasi:cli/run` in a child node process (the guest's
//    stdout goes to the shim's fd 1, and `wasi:cli/exit` ends the process) with
//    args `contree -f json auth ls --offline`, env CONTREE_HOME=<home>, and that
//    home preopened at the same absolute path; checks the JSON rows.
// 4. Typed exports: calls the functions the `contree:auth@0.3.0` world exports
//    itself (on the instance's root) in this process
//    (`listProfiles(true)`, then `switchProfile`, and an error case).
// 5. With the tool build (no `wasi:cli/run`): the same typed calls with no
//    environment at all and one preopen, which SPEC section 6 makes the
//    config home.
//
// Deterministic and offline: the shim's network is disabled, and `--offline`
// / `listProfiles(true)` make no request. Exits 0 when every check passes.
// Set CONTREE_JCO_KEEP=1 to keep the temporary directory.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const SELF = fileURLToPath(import.meta.url);
const NAME = "contree_auth";
/** WIT 0.3.0: the world exports these itself; jco puts them on the root. */
const FUNCTIONS = ["listProfiles", "saveProfile", "switchProfile", "removeProfile", "whoami"];
const CLI_ARGS = ["contree", "-f", "json", "auth", "ls", "--offline"];

const TOKENS = { a: "t", b: "secret-b" };
const AUTH_INI =
  "[DEFAULT]\nprofile = a\n\n" +
  `[profile:a]\nurl = http://127.0.0.1:9\ntoken = ${TOKENS.a}\ntype = jwt\n\n` +
  `[profile:b]\nurl = https://api.example.invalid\ntoken = ${TOKENS.b}\nproject = proj-1\ntype = iam\n\n`;

/** First 16 hex digits of SHA-256 of the token. */
const sha16 = (token) => createHash("sha256").update(token).digest("hex").slice(0, 16);

/**
 * Instantiates the transpiled component with a sandboxed WASI shim: only
 * `home` preopened (guest path = host path), only CONTREE_HOME in the
 * environment, no network.
 */
async function instantiateComponent(outDir, home, args, env = { CONTREE_HOME: home }) {
  const { WASIShim } = await import("@bytecodealliance/preview2-shim/instantiation");
  const { instantiate } = await import(pathToFileURL(path.join(outDir, `${NAME}.js`)).href);
  const { imports } = JSON.parse(fs.readFileSync(path.join(outDir, "imports.json"), "utf8"));
  const shim = new WASIShim({
    sandbox: {
      preopens: { [home]: home },
      env,
      args,
      enableNetwork: false,
    },
  });
  // The transpiled `instantiate` looks its imports up by unversioned
  // interface name, as `getImportObject()` names them; check that the shim
  // has every interface the component imports.
  const importObject = shim.getImportObject();
  for (const name of imports) {
    if (!importObject[name]) throw new Error(`the WASI shim has no ${name}`);
  }
  const getCoreModule = (file) => WebAssembly.compile(fs.readFileSync(path.join(outDir, file)));
  return instantiate(getCoreModule, importObject);
}

/** Child mode: run the `wasi:cli/run` export, the process exit code is the guest's. */
async function childRunCli(outDir, home, args) {
  const root = await instantiateComponent(outDir, home, args);
  try {
    root.run.run();
  } catch (e) {
    // `run` returned `err(())` without calling `wasi:cli/exit`.
    process.stderr.write(`[run.mjs] wasi:cli/run failed: ${e?.stack ?? e}\n`);
    process.exit(1);
  }
  process.exit(0);
}

async function transpile(wasmPath, outDir) {
  const { transpileBytes } = await import("@bytecodealliance/jco-transpile");
  const { files, imports, exports } = await transpileBytes(fs.readFileSync(wasmPath), {
    name: NAME,
    instantiation: "async",
    // jco-transpile throws a `result::err` payload bare by default; the jco
    // CLI wraps it in a ComponentError (an Error with `.payload`): keep that.
    noComponentErrorWrapping: false,
  });
  const written = [];
  for (const [file, bytes] of Object.entries(files)) {
    if (file.endsWith(".d.ts")) continue; // type declarations: not needed to run
    const dest = path.resolve(outDir, file);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, bytes);
    written.push(file);
  }
  // Generated code is ESM with a .js extension.
  fs.writeFileSync(path.join(outDir, "package.json"), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(outDir, "imports.json"), JSON.stringify({ imports, exports }, null, 1));
  return { files: written, imports, exports };
}

function checkCliRun(outDir, home) {
  const child = spawnSync(process.execPath, [SELF, "--child-cli", outDir, home, ...CLI_ARGS], {
    encoding: "utf8",
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
    timeout: 120_000,
  });
  console.log(`(a) wasi:cli/run ${JSON.stringify(CLI_ARGS)} -> exit ${child.status}`);
  console.log(indent("stdout", child.stdout));
  console.log(indent("stderr", child.stderr));
  assert.equal(child.error, undefined, `spawn failed: ${child.error}`);
  assert.equal(child.status, 0, "the CLI run should exit 0");
  const rows = child.stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    rows.map((r) => [r.name, r.type, r.status, r.active, r.token_sha256]),
    [
      ["a", "jwt", "offline", true, sha16(TOKENS.a)],
      ["b", "iam", "offline", false, sha16(TOKENS.b)],
    ],
  );
  assert.equal(rows[1].project, "proj-1");
  assert.ok(!child.stdout.includes(TOKENS.b), "stdout must not carry a token");
}

async function checkTypedCalls(outDir, home) {
  // As docs/embedding.md says: node runs under `umask 077` (the Rust test
  // starts it so), and the component is told that files are private.
  const root = await instantiateComponent(outDir, home, ["contree"], {
    CONTREE_HOME: home,
    CONTREE_PRIVATE_FILES: "1",
  });
  const profiles = root;
  for (const name of FUNCTIONS) assert.equal(typeof root[name], "function", `no export ${name}`);

  const listing = profiles.listProfiles(true);
  console.log(`(b) profiles.listProfiles(true) ->\n${indent("", JSON.stringify(listing, null, 2))}`);
  checkListing(listing);

  // A write. Rust's std (wasi-libc) opens files for writing with the
  // `mutate-directory` descriptor flag, which preview2-shim's Node `openAt`
  // rejects with `unsupported` (wasmtime ignores the flag on files). Report
  // what the stock shim does, then allow the flag and check the write lands.
  try {
    profiles.switchProfile("b");
    console.log(`(b) profiles.switchProfile("b") with the stock shim -> ok`);
  } catch (e) {
    console.log(
      `(b) profiles.switchProfile("b") with the stock shim -> throws payload ${JSON.stringify(e.payload)}` +
        `\n    (known limitation: preview2-shim ${readVersion("@bytecodealliance/preview2-shim")}` +
        ` rejects open-at with descriptor-flags.mutate-directory; allowing it below)`,
    );
    await allowMutateDirectory();
    profiles.switchProfile("b");
    console.log(`(b) profiles.switchProfile("b") with mutate-directory allowed -> ok`);
  }
  const ini = fs.readFileSync(path.join(home, "auth.ini"), "utf8");
  if (process.umask() === 0o077) {
    const mode = fs.statSync(path.join(home, "auth.ini")).mode & 0o777;
    assert.equal(mode, 0o600, `auth.ini is ${mode.toString(8)} under umask 077`);
  }
  assert.match(ini, /^profile = b$/m, `auth.ini after switchProfile("b"):\n${ini}`);
  assert.ok(ini.includes(`token = ${TOKENS.a}`), `auth.ini lost a token:\n${ini}`);
  assert.deepEqual(
    fs.readdirSync(home).sort(),
    ["auth.ini"],
    "no lock or temporary file should be left behind",
  );
  const after = profiles.listProfiles(true);
  assert.equal(after.active, "b");
  assert.deepEqual(
    after.profiles.map((p) => [p.profile.name, p.profile.active]),
    [
      ["a", false],
      ["b", true],
    ],
  );
  console.log(`(b) auth.ini on the host now says profile = b; listProfiles(true).active = "b"`);

  // `result::err` arrives as a thrown ComponentError carrying the variant.
  let payload;
  try {
    profiles.switchProfile("nope");
  } catch (e) {
    payload = e.payload;
  }
  console.log(`(b) profiles.switchProfile("nope") -> throws payload ${JSON.stringify(payload)}`);
  assert.deepEqual(payload, { tag: "not-found", val: "nope" });
}

/** The listing of AUTH_INI: option `none` arrives as `undefined`. */
function checkListing(listing) {
  assert.equal(listing.active, "a");
  assert.equal(listing.missingActive, undefined);
  assert.deepEqual(listing.profiles, [
    {
      profile: {
        name: "a",
        authType: "jwt",
        url: "http://127.0.0.1:9",
        project: undefined,
        tokenSha256: sha16(TOKENS.a),
        active: true,
      },
      status: "offline",
      detail: undefined,
    },
    {
      profile: {
        name: "b",
        authType: "iam",
        url: "https://api.example.invalid",
        project: "proj-1",
        tokenSha256: sha16(TOKENS.b),
        active: false,
      },
      status: "offline",
      detail: undefined,
    },
  ]);
}

/**
 * Lets `open-at` through when it asks for `mutate-directory` (the shim does
 * not otherwise enforce that flag: it only refuses opens that carry it).
 * Patches the shim's Descriptor class, so it holds for this process only.
 */
async function allowMutateDirectory() {
  const { filesystem } = await import("@bytecodealliance/preview2-shim");
  const proto = filesystem.types.Descriptor.prototype;
  if (proto.openAt.allowsMutateDirectory) return;
  const openAt = proto.openAt;
  proto.openAt = function (pathFlags, path, openFlags, descriptorFlags) {
    return openAt.call(this, pathFlags, path, openFlags, { ...descriptorFlags, mutateDirectory: false });
  };
  proto.openAt.allowsMutateDirectory = true;
}

/**
 * The tool build: no `wasi:cli/run` export, and, given no environment and a
 * single preopen, that directory is the config home.
 */
async function checkToolBuild(toolWasm, tmp) {
  const outDir = path.join(tmp, "out-tool");
  const home = path.join(tmp, "home-tool");
  fs.mkdirSync(home);
  fs.writeFileSync(path.join(home, "auth.ini"), AUTH_INI);
  const t = await transpile(toolWasm, outDir);
  console.log(`(c) tool build exports: ${t.exports.map(([n, k]) => `${n} (${k})`).join(", ")}`);
  assert.ok(!t.exports.some(([name]) => name.startsWith("wasi:cli/run")), "the tool build exports wasi:cli/run");
  const root = await instantiateComponent(outDir, home, [], {});
  const listing = root.listProfiles(true);
  console.log(`(c) tool build, no environment, one preopen: listProfiles(true).active = ${listing.active}`);
  checkListing(listing);
}

function indent(label, text) {
  const body = (text ?? "").replace(/\n$/, "");
  const lines = body === "" ? ["<empty>"] : body.split("\n");
  return (label ? `  ${label}:\n` : "") + lines.map((l) => `    ${l}`).join("\n");
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child-cli") {
    const [, outDir, home, ...args] = argv;
    return childRunCli(outDir, home, args);
  }
  const [wasm, toolWasm] = argv;
  if (!wasm) {
    console.error("usage: node run.mjs <contree_auth.wasm> [<contree_auth_tool.wasm>]");
    process.exit(2);
  }
  const wasmPath = path.resolve(wasm);
  const jcoVersion = readVersion("@bytecodealliance/jco-transpile");
  const shimVersion = readVersion("@bytecodealliance/preview2-shim");
  console.log(`node ${process.version}, jco-transpile ${jcoVersion}, preview2-shim ${shimVersion}`);
  console.log(`component: ${wasmPath}`);

  // realpath: the guest sees the preopen under the exact host path.
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "contree-jco-")));
  const outDir = path.join(tmp, "out");
  const home = path.join(tmp, "home");
  fs.mkdirSync(home);
  fs.writeFileSync(path.join(home, "auth.ini"), AUTH_INI);
  let failed = false;
  try {
    const t = await transpile(wasmPath, outDir);
    console.log(`transpiled into ${outDir}: ${t.files.join(", ")}`);
    console.log(`  imports: ${t.imports.join(", ")}`);
    console.log(`  exports: ${t.exports.map(([n, k]) => `${n} (${k})`).join(", ")}`);
    checkCliRun(outDir, home);
    await checkTypedCalls(outDir, home);
    if (toolWasm) await checkToolBuild(path.resolve(toolWasm), tmp);
    console.log("jco host: all checks passed");
  } catch (e) {
    failed = true;
    console.error(`jco host: FAILED: ${e?.stack ?? e}`);
  } finally {
    if (process.env.CONTREE_JCO_KEEP) console.log(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
  // The shim's IO worker thread would keep the process alive.
  process.exit(failed ? 1 : 0);
}

function readVersion(pkg) {
  const dir = path.dirname(SELF);
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

await main();
