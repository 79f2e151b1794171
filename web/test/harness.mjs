// The browser tests' world: a real `helpline serve` on a free loopback port in a fresh
// private data directory, an administrator who did the forced password change, helpers to
// make agents, groups and website channels through the API, users played over /ws/im, and
// Debian's Chromium driven by playwright-core (never a downloaded browser). Builds nothing:
// it runs $HELPLINE_BIN (default ../target/debug/helpline) and serves the committed
// web/dist/app through the server.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const web = path.dirname(here);
export const BIN = process.env.HELPLINE_BIN ?? path.resolve(web, "../target/debug/helpline");
const ADMIN_PASSWORD = "first-admin-password-1";
export const PASSWORD = "agent-password-0001";
const WAIT_MS = 15_000;

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it answers truthy, for at most `ms`. */
export async function until(check, ms = WAIT_MS, what = "a condition") {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

/** A loopback address of its own, for X-Forwarded-For. */
export function loopback() {
  return `127.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
}

/** A JSON call; throws with the server's error on a refusal unless `raw`. */
export async function call(base, method, route, { token, body, raw } = {}) {
  const headers = { "x-forwarded-for": loopback() };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}/api/v1${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (raw) return { status: res.status, json, headers: res.headers };
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return json;
}

// The policy the server sends with its pages; the front below sends the same when the server
// does not serve the pages itself yet.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob: https:; frame-src https:; frame-ancestors 'none'; object-src 'none'; base-uri 'none'";

/** Serves dist/app and passes /api, /ws and /sdk to the server (until it serves the pages). */
function front(target) {
  const dist = path.join(web, "dist", "app");
  const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (/^\/(api|ws|sdk|web)\//.test(url.pathname)) {
      const up = http.request({ host: "127.0.0.1", port: target, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on("error", () => res.destroy());
      req.pipe(up);
      return;
    }
    const pages = { "/": "index.html", "/workstation": "workstation.html", "/console": "console.html" };
    const file = pages[url.pathname] ?? (url.pathname.startsWith("/assets/") ? url.pathname.slice(1) : null);
    const full = file && path.join(dist, path.normalize(file));
    if (!full || !full.startsWith(dist) || !fs.existsSync(full)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": types[path.extname(full)] ?? "application/octet-stream", "content-security-policy": CSP, "x-content-type-options": "nosniff" });
    fs.createReadStream(full).pipe(res);
  });
  server.on("upgrade", (req, socket, head) => {
    const up = net.connect(target, "127.0.0.1", () => {
      up.write(`${req.method} ${req.url} HTTP/1.1\r\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join("\r\n")}\r\n\r\n`);
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on("error", () => socket.destroy());
    socket.on("error", () => up.destroy());
  });
  return server;
}

export class Desk {
  /** Starts a server in a fresh data directory; `front` is used only when it serves no pages. */
  static async start({ dataDir, tokenTtlSecs, config = [] } = {}) {
    const desk = new Desk();
    desk.tokenTtlSecs = tokenTtlSecs;
    // Further lines of the server's configuration (a test's own sections, e.g. [outbound]).
    desk.extraConfig = config;
    desk.data = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "helpline-web-"));
    fs.chmodSync(desk.data, 0o700);
    await desk.launch();
    const login = await call(desk.api, "POST", "/auth/login", { body: { email: "admin@helpline.local", password: ADMIN_PASSWORD } });
    const changed = login.mustChangePassword
      ? await call(desk.api, "POST", "/auth/password", { token: login.token, body: { currentPassword: ADMIN_PASSWORD, newPassword: "admin-password-0002" } })
      : login;
    desk.admin = changed.token;
    // The console's tests sign the administrator in through the browser, which ends this
    // token (one sign-in per account): they check through an API key, which stays valid.
    desk.key = (await call(desk.api, "POST", "/api-keys", { token: desk.admin, body: { name: "browser tests" } })).key;
    desk.adminSignIn = { email: "admin@helpline.local", password: login.mustChangePassword ? "admin-password-0002" : ADMIN_PASSWORD };
    return desk;
  }

  async launch() {
    // A restart keeps the port, so pages reconnect to the same address.
    this.port ??= await freePort();
    this.api = `http://127.0.0.1:${this.port}`;
    // Tests play many users from one address and send fast: the user end's limits are raised.
    const config = path.join(this.data, "..", `${path.basename(this.data)}.toml`);
    // Every sign-in comes from 127.0.0.1: each test client names its own loopback address in
    // X-Forwarded-For, so one test's sign-ins do not use up another's per-address limit.
    fs.writeFileSync(config, [
      "trust_forwarded_for = true",
      ...(this.tokenTtlSecs ? [`token_ttl_secs = ${this.tokenTtlSecs}`] : []),
      "[user_end]",
      "visitors_per_address = { burst = 500, per_minute = 500 }",
      "messages_per_user = { burst = 10000, per_minute = 60000 }",
      "message_bytes_per_user = { burst = 4194304, per_minute = 33554432 }",
      ...(this.extraConfig ?? []),
      "",
    ].join("\n"));
    this.config = config;
    this.proc = spawn(BIN, ["serve", "--data", this.data, "--listen", `127.0.0.1:${this.port}`, "--durability", "none", "--config", config], {
      env: { ...process.env, HELPLINE_ADMIN_PASSWORD: ADMIN_PASSWORD, RUST_LOG: "warn" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.log = "";
    this.proc.stderr.on("data", (d) => (this.log = (this.log + d).slice(-20_000)));
    await until(async () => (await fetch(`${this.api}/api/v1/openapi.json`)).ok, 30_000, "the server to listen");
    const home = await fetch(`${this.api}/`);
    // HELPLINE_FRONT=1 serves this checkout's web/dist through the front even when the
    // server serves pages: a debug binary built in another checkout reads that one's dist.
    const served = process.env.HELPLINE_FRONT !== "1" && home.ok && (home.headers.get("content-type") ?? "").includes("text/html");
    if (served) {
      this.base = this.api;
    } else {
      const fport = this.frontPort ?? (await freePort());
      this.frontPort = fport;
      this.front?.close();
      this.front = front(this.port);
      await new Promise((r) => this.front.listen(fport, "127.0.0.1", r));
      this.base = `http://127.0.0.1:${fport}`;
    }
  }

  /** Stops and starts the server on the same data (a restart: the feed id changes). */
  async restart() {
    await this.kill();
    await this.launch();
  }

  async kill() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const gone = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill("SIGTERM");
    await gone;
  }

  async stop() {
    await this.kill();
    this.front?.close();
    fs.rmSync(this.data, { recursive: true, force: true });
    fs.rmSync(this.config, { force: true });
  }

  as(token) {
    return {
      get: (r) => call(this.api, "GET", r, { token }),
      post: (r, body) => call(this.api, "POST", r, { token, body }),
      put: (r, body) => call(this.api, "PUT", r, { token, body }),
      patch: (r, body) => call(this.api, "PATCH", r, { token, body }),
      raw: (method, r, body) => call(this.api, method, r, { token, body, raw: true }),
    };
  }

  get adminApi() {
    return this.as(this.admin);
  }

  /** The API as an API key of the app: valid while the administrator signs in elsewhere. */
  get keyApi() {
    return this.as(this.key);
  }

  /** A skill group (reception limit 5 unless told). */
  async group(name, extra = {}) {
    return this.adminApi.post("/skill-groups", { name, receptionLimit: 5, ...extra });
  }

  /** An agent in `groups` whose first password change is done: it signs in with PASSWORD. */
  async agent(n, groups = [], { change = true } = {}) {
    const made = await this.adminApi.post("/agents", {
      name: `Agent ${n}`, nickname: `Agent ${n}`, staffNo: `a${n}`, email: `agent${n}@example.com`, roleId: 2, skillGroupIds: groups,
    });
    const agent = { id: made.agent.id, email: `agent${n}@example.com`, password: made.password, nickname: `Agent ${n}` };
    if (change) {
      const login = await call(this.api, "POST", "/auth/login", { body: { email: agent.email, password: made.password } });
      await call(this.api, "POST", "/auth/password", { token: login.token, body: { currentPassword: made.password, newPassword: PASSWORD } });
      agent.password = PASSWORD;
    }
    return agent;
  }

  /** A signed-in API handle for an agent (ends that agent's other sign-in). */
  async signIn(agent) {
    const login = await call(this.api, "POST", "/auth/login", { body: { email: agent.email, password: agent.password } });
    return this.as(login.token);
  }

  /** A website channel routing to `group`, with a satisfaction configuration when asked. */
  async website(name, group, { rating = false } = {}) {
    let satisfaction = null;
    if (rating) {
      const cfg = await this.adminApi.post("/satisfaction-configs", {
        name: `${name} rating`, kind: "star", invitationText: "Please rate this service", thankYouText: "Thank you for your rating",
        validitySecs: 3600, sendRules: { autoOnEnd: false, agentMayInvite: true, userMayRate: true },
        levels: [1, 2, 3, 4, 5].map((v) => ({ value: v, label: ["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"][v - 1] })),
      });
      satisfaction = cfg.id;
    }
    return this.adminApi.post("/channels", { name, kind: { type: "website" }, skillGroup: group, satisfaction });
  }

  /** An in-app user of the app writing to the virtual number `to`, with a token signed by
   * the app's IM secret (made on first use). */
  async inAppUser(id, to) {
    this.secret ??= (await this.adminApi.post("/im/secret", {})).secret;
    const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
    const head = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ app: 1, sub: id, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
    const sig = crypto.createHmac("sha256", this.secret).update(head).digest("base64url");
    return User.open(this.api, `${head}.${sig}`, id, to);
  }

  /** A website visitor with a socket to the desk. */
  async user(channel) {
    const webAppId = channel.kind.webAppId;
    const v = await call(this.api, "POST", `/web/${webAppId}/visitor`, { body: {} });
    return User.open(this.api, v.token, v.userId, webAppId);
  }
}

/** A user of the app, over /ws/im. */
export class User {
  static async open(api, token, id, to) {
    const u = new User();
    u.api = api;
    u.token = token;
    u.id = id;
    u.to = to;
    u.frames = [];
    u.n = 0;
    await u.connect();
    return u;
  }

  async connect() {
    this.ws = new WebSocket(`${this.api.replace("http", "ws")}/ws/im?token=${encodeURIComponent(this.token)}`);
    this.ws.onmessage = (e) => this.frames.push(JSON.parse(e.data));
    await new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = () => reject(new Error("user socket refused"));
    });
  }

  send(body, { flag = false } = {}) {
    const msgId = `u${++this.n}-${Date.now()}`;
    this.ws.send(JSON.stringify({ type: "send", to: this.to, msgId, onlineUserOnly: flag, body }));
    return msgId;
  }

  say(text) {
    return this.send({ type: "text", text });
  }

  desk(src, fields = {}, flag = true) {
    return this.send({ type: "custom", data: JSON.stringify({ customerServicePlugin: 0, src: String(src), ...fields }) }, { flag });
  }

  /** Waits for a frame matching `test`. */
  async frame(test, ms = WAIT_MS, what = "a user frame") {
    return until(() => this.frames.find(test), ms, what);
  }

  deskFrames(src) {
    return this.frames.filter((f) => f.type === "message" && f.body?.type === "custom" && JSON.parse(f.body.data).src === String(src));
  }

  close() {
    this.ws.close();
  }
}

export const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

export async function browser() {
  return chromium.launch({ executablePath: process.env.HELPLINE_CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
}

/** A page of its own context (its own sessionStorage), 1280x800, in `locale`. */
export async function page(b, { locale = "en-US" } = {}) {
  const context = await b.newContext({
    viewport: { width: 1280, height: 800 }, locale, permissions: ["notifications"], extraHTTPHeaders: { "x-forwarded-for": loopback() },
  });
  const p = await context.newPage();
  p.problems = [];
  p.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) p.problems.push(m.text());
  });
  p.on("pageerror", (e) => p.problems.push(String(e)));
  return p;
}

/** Signs in through the sign-in page as a person does and waits for the workstation. */
export async function signInPage(p, desk, agent) {
  await p.goto(`${desk.base}/`);
  await p.getByLabel(/Email|邮箱/).fill(agent.email);
  await p.getByLabel(/^(Password|密码)$/).fill(agent.password);
  await p.getByRole("button", { name: /^(Sign in|登录)$/ }).click();
  await p.waitForURL(/\/workstation$/, { timeout: WAIT_MS });
  await p.locator(".status-select").waitFor({ timeout: WAIT_MS });
  await p.waitForFunction(() => performance.getEntriesByName("helpline:first-state").length > 0, null, { timeout: WAIT_MS });
}

const axeSource = fs.readFileSync(path.join(web, "node_modules", "axe-core", "axe.min.js"), "utf8");

/** axe-core in the page: answers the serious and critical violations. */
export async function axe(p) {
  await p.evaluate(`${axeSource}\n;0`);
  const found = await p.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`);
  });
  return found;
}

/** Waits for the console's toasts to go, so a screenshot shows the page as a person settles on it. */
export async function calm(p) {
  await until(async () => (await p.locator(".toast").count()) === 0, 8000, "the toasts to go");
}

/** Saves a 1280x800 screenshot under docs/screenshots/. */
export async function shot(p, name) {
  if (process.env.HELPLINE_SCREENSHOTS !== "1") return;
  const dir = path.resolve(web, "..", "docs", "screenshots");
  fs.mkdirSync(dir, { recursive: true });
  await p.screenshot({ path: path.join(dir, `${name}.png`) });
}

/** How the workstation shows a visitor: "Visitor" and the first 6 characters of its id's
 *  random part (core/format.ts `userLabel`). */
export function visitorTag(id) {
  const m = /^visitor-\d+\.(.+)$/.exec(id);
  return m ? m[1].slice(0, 6) : id;
}

/** Signs in through the sign-in page as `who` (the first administrator unless told), picks
 *  the console and waits for its menu; then opens `section` (`agents`, `flows/3`) if given. */
export async function consolePage(p, desk, section, who = desk.adminSignIn) {
  await p.goto(`${desk.base}/`);
  await p.getByLabel(/Email|邮箱/).fill(who.email);
  await p.getByLabel(/^(Password|密码)$/).fill(who.password);
  await p.getByRole("button", { name: /^(Sign in|登录)$/ }).click();
  const choose = p.getByRole("link", { name: /Administration console|管理控制台/ }).or(p.getByRole("button", { name: /Administration console|管理控制台/ }));
  await Promise.race([choose.first().waitFor({ timeout: WAIT_MS }), p.waitForURL(/\/console/, { timeout: WAIT_MS })]);
  if (!/\/console/.test(p.url())) await choose.first().click();
  await p.waitForURL(/\/console/, { timeout: WAIT_MS });
  await p.locator(".console nav.menu").waitFor({ timeout: WAIT_MS });
  if (section) await openSection(p, section);
}

/** Opens a console section by its address, and waits for its page's heading. */
export async function openSection(p, section) {
  await p.evaluate((s) => (location.hash = `#/${s}`), section);
  await p.locator(".console-main h1").first().waitFor({ timeout: WAIT_MS });
}
