// Builds the browser UIs into dist/app/: one HTML page per UI (served by helpline at /,
// /workstation and /console) and content-hashed assets under assets/, each with a .gz and a
// .br sibling; and the agent SDK into dist/agent.js. Deterministic (same sources, same
// bytes) so `scripts/web --check` can compare with what is committed. Fails when the
// workstation's JavaScript passes its gzip budget.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const root = path.dirname(new URL(import.meta.url).pathname);
const out = path.join(root, "dist", "app");
const assets = path.join(out, "assets");
const BUDGET_GZ = 60 * 1024;

const pages = [
  { name: "signin", html: "index.html", entry: "src/signin/main.tsx" },
  { name: "workstation", html: "workstation.html", entry: "src/workstation/main.tsx" },
  { name: "console", html: "console.html", entry: "src/console/main.tsx" },
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

/** Every output a JS file pulls in (its static imports, recursively). */
function closure(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const imp of result.metafile.outputs[file]?.imports ?? []) {
    if (imp.kind === "import-statement" && !imp.external) closure(imp.path, seen);
  }
  return seen;
}

let overBudget = false;
console.log("entry          js raw   js gz   css raw  css gz  (KB)");
{
  const data = fs.readFileSync(path.join(root, "dist", "agent.js"));
  console.log(`${"sdk (agent.js)".padEnd(14)} ${kb(data.length).padStart(6)} ${kb(gz(data).length).padStart(7)}`);
}
for (const page of pages) {
  const [jsOut, meta] = Object.entries(result.metafile.outputs).find(
    ([, m]) => m.entryPoint === page.entry,
  );
  const files = [...closure(jsOut)];
  const js = files.map((f) => fs.readFileSync(path.join(root, f)));
  const jsRaw = js.reduce((s, b) => s + b.length, 0);
  const jsGz = js.reduce((s, b) => s + gz(b).length, 0);
  const css = meta.cssBundle ? fs.readFileSync(path.join(root, meta.cssBundle)) : Buffer.alloc(0);
  console.log(
    `${page.name.padEnd(14)} ${kb(jsRaw).padStart(6)} ${kb(jsGz).padStart(7)} ${kb(css.length).padStart(8)} ${kb(gz(css).length).padStart(7)}`,
  );
  if (page.name === "workstation" && jsGz > BUDGET_GZ) {
    console.error(`workstation JavaScript is ${kb(jsGz)} KB gzipped, over the ${kb(BUDGET_GZ)} KB budget`);
    overBudget = true;
  }
  const href = (f) => `/assets/${path.basename(f)}`;
  const preloads = files
    .filter((f) => f !== jsOut)
    .sort()
    .map((f) => `<link rel="modulepreload" href="${href(f)}">`)
    .join("");
  const stylesheet = meta.cssBundle ? `<link rel="stylesheet" href="${href(meta.cssBundle)}">` : "";
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>helpline</title><link rel="icon" href="/assets/${iconName}" type="image/svg+xml">` +
    `${stylesheet}${preloads}<script type="module" src="${href(jsOut)}"></script>` +
    `</head><body><div id="app"></div></body></html>\n`;
  fs.writeFileSync(path.join(out, page.html), html);
}

// Chunks loaded on demand (the Markdown renderer of rich text), outside the entries' budgets.
const eager = new Set(pages.flatMap((p) => [...closure(Object.entries(result.metafile.outputs).find(([, m]) => m.entryPoint === p.entry)[0])]));
for (const file of Object.keys(result.metafile.outputs).sort()) {
  if (!file.endsWith(".js") || eager.has(file)) continue;
  const data = fs.readFileSync(path.join(root, file));
  console.log(`${"(on demand)".padEnd(14)} ${kb(data.length).padStart(6)} ${kb(gz(data).length).padStart(7)}  ${path.basename(file)}`);
}

// Precompressed siblings, at maximum quality, for every asset.
for (const name of fs.readdirSync(assets).sort()) {
  const file = path.join(assets, name);
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
