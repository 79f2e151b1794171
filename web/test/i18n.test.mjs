// Every language has exactly the English keys, and every key the code asks for exists: a
// missing key fails here (and is a type error in the build).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

async function catalogues() {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "i18n-")), "c.mjs");
  await build({
    stdin: { contents: 'export { en } from "./src/core/i18n/en.ts"; export { zhCN } from "./src/core/i18n/zh-CN.ts";', resolveDir: web, loader: "ts" },
    bundle: true, format: "esm", outfile: out, logLevel: "error",
  });
  const mod = await import(pathToFileURL(out).href);
  fs.rmSync(path.dirname(out), { recursive: true });
  return mod;
}

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.tsx?$/.test(e.name) && !e.name.endsWith(".gen.ts") ? [p] : [];
  });
}

test("zh-CN has exactly the English keys, none empty", async () => {
  const { en, zhCN } = await catalogues();
  assert.deepEqual(Object.keys(zhCN).sort(), Object.keys(en).sort());
  for (const [k, v] of Object.entries(zhCN)) assert.ok(v.trim(), `zh-CN ${k} is empty`);
  for (const [k, v] of Object.entries(en)) {
    const vars = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(vars(zhCN[k]), vars(v), `zh-CN ${k} has other placeholders`);
  }
});

test("every key the code names is in the catalogue", async () => {
  const { en } = await catalogues();
  const missing = [];
  // A console section's `t` is its own catalogue's, whose keys are its type: a key it lacks
  // is a type error, and the test below checks its languages.
  // So is the chat page's (src/widget/i18n.ts, checked below).
  const consoleDir = path.join(web, "src", "console") + path.sep;
  const widgetDir = path.join(web, "src", "widget") + path.sep;
  for (const file of sources(path.join(web, "src")).filter((f) => !f.startsWith(consoleDir) && !f.startsWith(widgetDir))) {
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(/\bt\(\s*"([^"]+)"/g)) if (!(m[1] in en)) missing.push(`${path.relative(web, file)}: ${m[1]}`);
  }
  assert.deepEqual(missing, []);
});

/** Every section catalogue (`src/console/**\/i18n.ts`): its file and its built `en`/`zhCN`. */
async function sectionCatalogues() {
  // The catalogues import the language signal, which reads the remembered choice.
  globalThis.localStorage ??= { getItem: () => null, setItem: () => {} };
  if (!globalThis.navigator) Object.defineProperty(globalThis, "navigator", { value: { languages: ["en"], language: "en" } });
  const files = sources(path.join(web, "src", "console")).filter((f) => path.basename(f) === "i18n.ts");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "i18n-"));
  const found = [];
  for (const [i, file] of files.entries()) {
    const out = path.join(dir, `c${i}.mjs`);
    await build({ entryPoints: [file], bundle: true, format: "esm", outfile: out, logLevel: "error" });
    found.push({ file: path.relative(web, file), ...(await import(pathToFileURL(out).href)) });
  }
  fs.rmSync(dir, { recursive: true });
  return found;
}

test("every console section's zh-CN has exactly its English keys, with the same placeholders", async () => {
  const found = await sectionCatalogues();
  assert.ok(found.length >= 2, "the shell's and the shared controls' catalogues at least");
  const seen = new Map();
  for (const { file, en, zhCN } of found) {
    assert.ok(en && zhCN, `${file} exports en and zhCN`);
    assert.deepEqual(Object.keys(zhCN).sort(), Object.keys(en).sort(), file);
    for (const [k, v] of Object.entries(en)) {
      assert.ok(zhCN[k].trim(), `${file}: zh-CN ${k} is empty`);
      const vars = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      assert.deepEqual(vars(zhCN[k]), vars(v), `${file}: zh-CN ${k} has other placeholders`);
      // One key, one meaning: two sections defining the same key would read alike and drift.
      assert.ok(!seen.has(k), `${k} is defined in both ${seen.get(k)} and ${file}`);
      seen.set(k, file);
    }
  }
});

test("the chat page's zh-CN has exactly its English keys, with the same placeholders", async () => {
  globalThis.localStorage ??= { getItem: () => null, setItem: () => {} };
  if (!globalThis.navigator) Object.defineProperty(globalThis, "navigator", { value: { languages: ["en"], language: "en" } });
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "i18n-")), "w.mjs");
  await build({ entryPoints: [path.join(web, "src", "widget", "i18n.ts")], bundle: true, format: "esm", outfile: out, logLevel: "error" });
  const { en, zhCN } = await import(pathToFileURL(out).href);
  fs.rmSync(path.dirname(out), { recursive: true });
  assert.deepEqual(Object.keys(zhCN).sort(), Object.keys(en).sort());
  const vars = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const [k, v] of Object.entries(en)) {
    assert.ok(zhCN[k].trim(), `zh-CN ${k} is empty`);
    assert.deepEqual(vars(zhCN[k]), vars(v), `zh-CN ${k} has other placeholders`);
  }
  const code = sources(path.join(web, "src", "widget")).map((f) => fs.readFileSync(f, "utf8")).join("\n");
  const missing = [...code.matchAll(/\bt\(\s*"([^"]+)"/g)].map((m) => m[1]).filter((k) => !(k in en));
  assert.deepEqual(missing, []);
});
