// Drives the agent SDK in real headless Chromium for `tests/sdk_browser.rs`, one step per
// line: the test writes JSON commands on stdin, this answers on stdout and reports every
// SDK event as it fires.
//
//   {"id": 1, "open": {"page": "a", "url": "<SDK URL>"}}   a page of another origin loads the SDK
//   {"id": 2, "eval": {"page": "a", "js": "helpline.Agent.online()"}}   answers the value
//   {"id": 3, "cut": "a"}       drops the page's agent socket and holds its reconnects
//   {"id": 4, "held": "a"}      answers once the SDK tried to reconnect (and was held)
//   {"id": 5, "release": "a"}   lets the held reconnects through to the server
//   {"id": 6, "urls": "a"}      answers the URL of every agent socket the page opened
//   {"id": 7, "quit": true}
//
// Out: {"started": true}, {"id": N, "ok": value} or {"id": N, "error": "..."}, and
// {"page": "a", "event": "<name>", "payload": {...}}. Chromium is Debian's
// (/usr/bin/chromium, or HELPLINE_CHROMIUM); this never downloads a browser.

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

import { chromium } from "playwright-core";

const executablePath = process.env.HELPLINE_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

/** One line of output. */
function out(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

// The customer's system: a page on another origin than helpline's, loading the SDK as the
// seed's snippet does (a script element with crossorigin="anonymous", handlers registered
// once it loaded).
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>CRM</title></head>
<body><h1>CRM</h1><script>
window.inject = (url) => {
  const script = document.createElement("script");
  script.crossOrigin = "anonymous";
  script.src = url;
  script.addEventListener("load", () => {
    for (const name of Object.values(window.helpline.events)) {
      window.helpline.on(name, (payload) => window.report(name, payload));
    }
    window.report("loaded", null);
  });
  script.addEventListener("error", () => window.report("scriptError", url));
  document.body.appendChild(script);
};
</script></body></html>`;

const crm = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(PAGE);
});
await new Promise((resolve) => crm.listen(0, "127.0.0.1", resolve));
const crmUrl = `http://127.0.0.1:${crm.address().port}/crm`;

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "helpline-chromium-"));
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: ARGS,
  });
} catch (e) {
  out({ fatal: `chromium (${executablePath}) did not start: ${e.message}` });
  process.exit(1);
}

/** Pages by name, with their routed agent sockets. */
const pages = new Map();

async function open({ page: name, url }) {
  const page = await context.newPage();
  const entry = { page, live: new Set(), held: [], hold: false, onHeld: [], urls: [] };
  pages.set(name, entry);
  page.on("console", (m) => process.stderr.write(`[${name}] ${m.type()}: ${m.text()}\n`));
  page.on("pageerror", (e) => out({ page: name, event: "pageerror", payload: String(e) }));
  await page.exposeFunction("report", (event, payload) => out({ page: name, event, payload }));
  // The agent socket goes through here, so a test can drop it as a network would.
  await page.routeWebSocket(/\/ws\/agent/, (ws) => {
    entry.urls.push(ws.url());
    if (entry.hold) {
      // Not connected to the server: the page sees a socket that says nothing.
      entry.held.push(ws);
      for (const wake of entry.onHeld.splice(0)) wake(entry.held.length);
      return;
    }
    ws.connectToServer();
    entry.live.add(ws);
  });
  await page.goto(crmUrl);
  await page.evaluate((sdkUrl) => window.inject(sdkUrl), url);
  return true;
}

function entryOf(name) {
  const entry = pages.get(name);
  if (!entry) throw new Error(`no page ${name}`);
  return entry;
}

async function cut(name) {
  const entry = entryOf(name);
  entry.hold = true;
  const live = [...entry.live];
  entry.live.clear();
  await Promise.all(live.map((ws) => ws.close({ code: 4000, reason: "cut by the test" })));
  return live.length;
}

function held(name) {
  const entry = entryOf(name);
  if (entry.held.length > 0) return entry.held.length;
  return new Promise((wake) => entry.onHeld.push(wake));
}

async function release(name) {
  const entry = entryOf(name);
  entry.hold = false;
  const held = entry.held.splice(0);
  await Promise.all(held.map((ws) => ws.close({ code: 4001, reason: "released by the test" })));
  return held.length;
}

async function quit() {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
  crm.close();
  return true;
}

async function handle(command) {
  if (command.open) return open(command.open);
  if (command.eval) return entryOf(command.eval.page).page.evaluate(command.eval.js);
  if (command.cut) return cut(command.cut);
  if (command.held) return held(command.held);
  if (command.release) return release(command.release);
  if (command.urls) return entryOf(command.urls).urls;
  if (command.quit) return quit();
  throw new Error(`unknown command ${JSON.stringify(command)}`);
}

out({ started: true, browser: context.browser()?.version() ?? "chromium" });
const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === "") continue;
  let command;
  try {
    command = JSON.parse(line);
  } catch (e) {
    out({ error: `not JSON: ${line}` });
    continue;
  }
  try {
    out({ id: command.id, ok: (await handle(command)) ?? null });
  } catch (e) {
    out({ id: command.id, error: String(e?.message ?? e) });
  }
  if (command.quit) break;
}
process.exit(0);
