// Builds the browser UIs into dist/app/: one HTML page per UI (served by helpline at /,
// /workstation and /console) and content-hashed assets under assets/, each with a .gz and a
// .br sibling; the website channel's embed script into dist/app/imPublish.js (with its
// siblings too); and the agent SDK into dist/agent.js. Deterministic (same sources, same
// bytes) so `scripts/web --check` can compare with what is committed. Fails when a UI's
// JavaScript, or the embed script, passes its gzip budget.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const root = path.dirname(new URL(import.meta.url).pathname);
const out = path.join(root, "dist", "app");
const assets = path.join(out, "assets");
// Budgets in gzipped bytes: the workstation's first load (what an agent waits for at the
// start of a shift), the console's whole code with every section's lazy part, the website
// chat page with its lazy Markdown renderer (what a visitor may load).
const budgets = {
  workstation: { gz: 60 * 1024, lazy: false },
  console: { gz: 150 * 1024, lazy: true },
  chat: { gz: 50 * 1024, lazy: true },
};
// The embed script runs in every page of a customer's site, before anyone asks to chat.
const loaderBudgetGz = 5 * 1024;

const pages = [
  { name: "signin", html: "index.html", entry: "src/signin/main.tsx" },
  { name: "workstation", html: "workstation.html", entry: "src/workstation/main.tsx" },
  { name: "console", html: "console.html", entry: "src/console/main.tsx" },
  { name: "chat", html: "chat.html", entry: "src/widget/main.tsx" },
];

// The agent SDK: one classic script (customers' pages load it with `<script src>`, not as a
// module), which sets the global `helpline` itself. ES2017 as before, so the browsers it ran
// in keep running it. Its types (dist/agent.d.ts) are tsc's, from sdk/agent.ts.
const sdk = await build({
  absWorkingDir: root,
  entryPoints: ["sdk/main.ts"],
  outfile: path.join(root, "dist", "agent.js"),
  bundle: true,
  format: "iife",
  minify: true,
  target: ["es2017"],
  legalComments: "none",
  banner: { js: "/* helpline's agent SDK; its types: /sdk/agent.d.ts */" },
  metafile: true,
  logLevel: "warning",
});
// What goes into customers' pages: only the SDK and the shared socket, never the UIs' code.
for (const input of Object.keys(sdk.metafile.inputs)) {
  if (input !== "sdk/main.ts" && input !== "src/core/feed.ts") {
    console.error(`the agent SDK pulls in ${input}: it must load only sdk/main.ts and src/core/feed.ts`);
    process.exit(1);
  }
}

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(assets, { recursive: true });

// The website channel's embed script: a classic script too, loaded by any site, so it
// imports nothing but its own folder (the chat itself is the hosted page in its frame).
const loaderFile = path.join(out, "imPublish.js");
const loader = await build({
  absWorkingDir: root,
  entryPoints: ["loader/main.ts"],
  outfile: loaderFile,
  bundle: true,
  format: "iife",
  minify: true,
  target: ["es2017"],
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});
for (const input of Object.keys(loader.metafile.inputs)) {
  if (!input.startsWith("loader/")) {
    console.error(`the embed script pulls in ${input}: it must load only web/loader/`);
    process.exit(1);
  }
}

const result = await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(pages.map((p) => [p.name, p.entry])),
  outdir: assets,
  bundle: true,
  splitting: true,
  format: "esm",
  minify: true,
  target: ["es2022"],
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none",
  jsx: "automatic",
  jsxImportSource: "preact",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});

// The icon: a small SVG, hashed like the rest.
const icon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2457c5"/><path d="M9 10h14a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2h-7l-5 4v-4H9a2 2 0 0 1-2-2v-8a2 2 0 0 1 2-2z" fill="#fff"/></svg>`;
const iconName = `icon-${createHash("sha256").update(icon).digest("hex").slice(0, 8).toUpperCase()}.svg`;
fs.writeFileSync(path.join(assets, iconName), icon);

const rel = (file) => path.relative(root, file);
const kb = (n) => (n / 1024).toFixed(1);
const gz = (buf) => zlib.gzipSync(buf, { level: 9 });

/** Every output a JS file pulls in: its static imports, and with `lazy` its dynamic ones too, recursively. */
function closure(file, lazy, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const imp of result.metafile.outputs[file]?.imports ?? []) {
    if (imp.external) continue;
    if (imp.kind === "import-statement" || (lazy && imp.kind === "dynamic-import")) closure(imp.path, lazy, seen);
  }
  return seen;
}

const sizes = (files) => {
  const data = files.map((f) => fs.readFileSync(path.join(root, f)));
  return { raw: data.reduce((s, b) => s + b.length, 0), gz: data.reduce((s, b) => s + gz(b).length, 0) };
};
/** The source a chunk is mostly made of, to name it in the report. */
const mainInput = (file) =>
  Object.entries(result.metafile.outputs[file].inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)[0]?.[0] ?? "?";

let overBudget = false;
console.log("entry          first load: js raw   js gz   css raw  css gz   with every lazy part: js gz  (KB)");
{
  const data = fs.readFileSync(path.join(root, "dist", "agent.js"));
  console.log(`${"sdk (agent.js)".padEnd(14)} ${kb(data.length).padStart(18)} ${kb(gz(data).length).padStart(7)}`);
}
{
  const data = fs.readFileSync(loaderFile);
  const z = gz(data).length;
  console.log(`${"embed script".padEnd(14)} ${kb(data.length).padStart(18)} ${kb(z).padStart(7)}   (imPublish.js: ${z} bytes gz, budget ${loaderBudgetGz})`);
  if (z > loaderBudgetGz) {
    console.error(`the embed script is ${kb(z)} KB gzipped, over the ${kb(loaderBudgetGz)} KB budget`);
    overBudget = true;
  }
}
const lazyParts = new Map();
for (const page of pages) {
  const [jsOut, meta] = Object.entries(result.metafile.outputs).find(
    ([, m]) => m.entryPoint === page.entry,
  );
  const files = [...closure(jsOut, false)];
  const all = [...closure(jsOut, true)];
  const first = sizes(files);
  const whole = sizes(all);
  // Styles of lazily loaded parts are linked up front: esbuild does not load a lazy chunk's
  // CSS, and the console's styles are small beside its scripts.
  const cssFiles = [...new Set(all.map((f) => result.metafile.outputs[f].cssBundle).filter(Boolean))].sort();
  const css = sizes(cssFiles);
  console.log(
    `${page.name.padEnd(14)} ${kb(first.raw).padStart(18)} ${kb(first.gz).padStart(7)} ${kb(css.raw).padStart(8)} ${kb(css.gz).padStart(7)} ${kb(whole.gz).padStart(28)}`,
  );
  const budget = budgets[page.name];
  const measured = budget && (budget.lazy ? whole.gz : first.gz);
  if (budget && measured > budget.gz) {
    console.error(`${page.name} JavaScript is ${kb(measured)} KB gzipped${budget.lazy ? " with every lazy part" : ""}, over the ${kb(budget.gz)} KB budget`);
    overBudget = true;
  }
  for (const f of all) if (!files.includes(f)) lazyParts.set(f, page.name);
  const href = (f) => `/assets/${path.basename(f)}`;
  const preloads = files
    .filter((f) => f !== jsOut)
    .sort()
    .map((f) => `<link rel="modulepreload" href="${href(f)}">`)
    .join("");
  const stylesheets = cssFiles.map((f) => `<link rel="stylesheet" href="${href(f)}">`).join("");
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>helpline</title><link rel="icon" href="/assets/${iconName}" type="image/svg+xml">` +
    `${stylesheets}${preloads}<script type="module" src="${href(jsOut)}"></script>` +
    `</head><body><div id="app"></div></body></html>\n`;
  fs.writeFileSync(path.join(out, page.html), html);
}

// Parts loaded on demand (the Markdown renderer, the console's sections), each named by its
// main source; the tiny ones (shared glue) summed.
let glue = { n: 0, gz: 0 };
for (const [file, page] of [...lazyParts].sort((a, b) => mainInput(a[0]).localeCompare(mainInput(b[0])))) {
  if (!file.endsWith(".js")) continue;
  const data = fs.readFileSync(path.join(root, file));
  const z = gz(data).length;
  if (z < 1024) {
    glue = { n: glue.n + 1, gz: glue.gz + z };
    continue;
  }
  console.log(`  ${page} lazy: ${kb(data.length).padStart(6)} raw ${kb(z).padStart(6)} gz  ${mainInput(file)}`);
}
if (glue.n) console.log(`  (${glue.n} small lazy parts: ${kb(glue.gz)} KB gz in all)`);

// Precompressed siblings, at maximum quality, for every asset and the embed script.
for (const file of [...fs.readdirSync(assets).sort().map((name) => path.join(assets, name)), loaderFile]) {
  const data = fs.readFileSync(file);
  fs.writeFileSync(`${file}.gz`, gz(data));
  fs.writeFileSync(
    `${file}.br`,
    zlib.brotliCompressSync(data, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    }),
  );
}
console.log(`wrote ${rel(out)}`);
if (overBudget) process.exit(1);
