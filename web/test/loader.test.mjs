// The website channel's embed script on a customer's own site: a host page served by this
// test on another loopback port (another origin than the desk's) puts the channel's
// snippet in; the launcher appears in the channel's corner and colour (set through the API),
// untouched by the page's hostile CSS; the chat page's frame is made on the first click only,
// with the query the hosted page reads; Escape and helplineChat.open()/close() work and the
// focus goes in and back; only the desk's own frame is listened to. The launcher lives in a
// closed shadow root that neither the page nor Playwright's locators can reach: the test
// reads it through Chromium's DevTools protocol (the DOM with shadow roots pierced, and the
// accessibility tree a screen reader gets), as the browser itself sees it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { axe, browser, Desk, shot, until } from "./harness.mjs";

let desk;
let b;
let site;
let webAppId;
/** The customer's site: pages by path, on its own port. */
const hostPages = new Map();
let hostServer;
let hostOrigin;
/** A second site the channel does not allow. */
let otherServer;
let otherOrigin;

function serve(pages) {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const found = pages.get(new URL(req.url, "http://x").pathname);
      if (!found) return res.writeHead(404).end();
      const { html, headers = {} } = typeof found === "string" ? { html: found } : found;
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...headers }).end(html);
    });
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}
const originOf = (server) => `http://127.0.0.1:${server.address().port}`;

const snippet = (extra = "", id = webAppId) => `<script src="${desk.base}/web/im/imPublish.js?webAppId=${id}"${extra}></script>`;
// Calls made before the script loads are queued on a stub and replayed.
const stub = `<script>window.helplineChat = window.helplineChat || {q: []};
helplineChat.q.push(["onUnread", (n) => { window.unreadSeen = (window.unreadSeen || []).concat(n); }]);
helplineChat.q.push(["identify", "user-token-1"]);</script>`;
const shop = (body, head = "") => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1">${head}</head><body>${body}</body></html>`;
const shopBody = `<style>body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1f2430;background:#faf7f2}
header{display:flex;justify-content:space-between;align-items:center;padding:18px 40px;background:#fff;border-bottom:1px solid #e8e2d8}
header b{font-size:22px;color:#8a3b12}nav a{margin-left:24px;color:#1f2430;text-decoration:none}
main{max-width:980px;margin:40px auto;padding:0 40px}.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:24px}
.card{background:#fff;border:1px solid #e8e2d8;border-radius:12px;padding:20px}.card div{height:140px;border-radius:8px;margin-bottom:12px}
.price{color:#8a3b12;font-weight:700}</style>
<header><b>Copper &amp; Clay</b><nav><a href="#">Shop</a><a href="#">Journal</a><a href="#">Visit us</a></nav></header>
<main><h1>Handmade kitchenware</h1><p>Small batches, fired in our own kiln. Questions about an order? We are here to chat.</p>
<div class="grid">${[["Serving bowl", "#d9a37e", "€48"], ["Copper pan", "#b8733f", "€120"], ["Mug set", "#a9b8a5", "€36"]]
  .map(([name, colour, price]) => `<div class="card"><div style="background:${colour}"></div><h2>${name}</h2><p class="price">${price}</p></div>`)
  .join("")}</div></main>`;

before(async () => {
  desk = await Desk.start();
  b = await browser();
  const sales = await desk.group("Sales");
  site = await desk.website("Copper & Clay", sales.id);
  webAppId = site.kind.webAppId;
  hostServer = await serve(hostPages);
  hostOrigin = originOf(hostServer);
  otherServer = await serve(hostPages);
  otherOrigin = originOf(otherServer);
  // The channel's appearance and the site it allows, through the API as the console saves them.
  const saved = await desk.keyApi.put(`/channels/${site.id}`, {
    name: "Copper & Clay", kind: { type: "website" }, skillGroup: sales.id,
    allowedOrigins: [hostOrigin], launcherPosition: "bottom_left", themeColor: "#AA3300",
  });
  assert.equal(saved.themeColor, "#aa3300");
  hostPages.set("/hostile", shop(`<h1>Hostile</h1><button>Own button</button>${stub}${snippet()}`, "<style>* {all: unset; color: red} button {display: none}</style>"));
  hostPages.set("/shop", shop(`${shopBody}${snippet()}`));
  // A site with a strict policy of its own: no inline styles, Trusted Types, the desk named
  // only where the snippet needs it.
  hostPages.set("/strict", {
    html: shop(`<h1>Strict</h1>${snippet()}`),
    headers: {
      "content-security-policy": `default-src 'none'; script-src ${desk.base}; connect-src ${desk.base}; frame-src ${desk.base}; style-src 'self'; require-trusted-types-for 'script'`,
    },
  });
  hostPages.set("/twice", shop(`<h1>Twice</h1>${snippet()}${snippet()}`));
  hostPages.set("/zh", shop(`<h1>中文</h1>${snippet(' data-language="zh-CN"')}`));
  hostPages.set("/unknown", shop(`<h1>Unknown</h1>${snippet("", "no-such-site")}`));
});
after(async () => {
  await b?.close();
  hostServer?.close();
  otherServer?.close();
  await desk?.stop();
});

/**
 * A visitor's tab, 1280x800. Not the harness's `page`: its extra X-Forwarded-For header
 * would make every cross-origin fetch a preflighted one, which a visitor's browser never
 * sends for the script's plain GET.
 */
async function page(browser, { locale = "en-US", viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ viewport, locale });
  const p = await context.newPage();
  p.problems = [];
  p.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to|CORS/.test(m.text())) p.problems.push(m.text());
  });
  p.on("pageerror", (e) => p.problems.push(String(e)));
  return p;
}

/** The launcher's closed shadow root, through the DevTools protocol. */
async function launcherOf(p) {
  const cdp = await p.context().newCDPSession(p);
  const find = (node) => {
    if (node.nodeName === "HELPLINE-CHAT") return node;
    for (const child of [...(node.children ?? []), ...(node.shadowRoots ?? [])]) {
      const hit = find(child);
      if (hit) return hit;
    }
    return null;
  };
  const hosts = async () => {
    const { root } = await cdp.send("DOM.getDocument", { depth: -1, pierce: true });
    const all = [];
    const walk = (n) => {
      if (n.nodeName === "HELPLINE-CHAT") all.push(n);
      for (const c of [...(n.children ?? []), ...(n.shadowRoots ?? [])]) walk(c);
    };
    walk(root);
    return all;
  };
  /** Runs `fn` with `this` the element at `selector` in the shadow root (null when none). */
  const run = async (selector, fn) => {
    const { root } = await cdp.send("DOM.getDocument", { depth: -1, pierce: true });
    const host = find(root);
    if (!host) return null;
    assert.equal(host.shadowRoots?.[0]?.shadowRootType, "closed");
    const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: host.shadowRoots[0].nodeId, selector });
    if (!nodeId) return null;
    const { object } = await cdp.send("DOM.resolveNode", { nodeId });
    const { result, exceptionDetails } = await cdp.send("Runtime.callFunctionOn", { objectId: object.objectId, functionDeclaration: fn.toString(), returnByValue: true });
    if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
    return result.value;
  };
  /** The accessibility tree's nodes of a role, with their names and states. */
  const ax = async (role) => {
    const { nodes } = await cdp.send("Accessibility.getFullAXTree");
    return nodes
      .filter((n) => n.role?.value === role && !n.ignored)
      .map((n) => ({ name: n.name?.value, ...Object.fromEntries((n.properties ?? []).map((q) => [q.name, q.value.value])) }));
  };
  return { run, ax, hosts };
}

/**
 * The test plays the hosted chat page (another part of the build) in the frame: a blank
 * page at its address, so the protocol is driven by the test alone.
 */
const playChatPage = (p) =>
  p.route(/\/web\/im\/chat\//, (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>chat</title><p>chat</p>" }));

/** The chat page's frame, once made. */
const chatFrame = (p) => p.frames().find((f) => f.url().includes("/web/im/chat/"));
const panelOpen = (l) => l.run(".panel", function () { return !this.hidden && getComputedStyle(this).visibility === "visible"; });
const focused = (l, selector) => l.run(selector, function () { return this.getRootNode().activeElement === this; });
async function clickLauncher(p, l) {
  const box = await until(() => l.run(".launcher", function () { const r = this.getBoundingClientRect(); return r.width ? { x: r.x + r.width / 2, y: r.y + r.height / 2 } : null; }), undefined, "the launcher");
  await p.mouse.click(box.x, box.y);
}

test("the launcher sits in the channel's corner and colour, out of reach of the page's CSS, and opens the chat page's frame on the first click", async () => {
  const p = await page(b);
  await p.goto(`${hostOrigin}/hostile`);
  const l = await launcherOf(p);
  const look = await until(() => l.run(".launcher", function () {
    const s = getComputedStyle(this);
    const r = this.getBoundingClientRect();
    return r.width ? { background: s.backgroundColor, display: s.display, position: s.position, left: r.left, bottom: innerHeight - r.bottom, width: r.width } : null;
  }), undefined, "the launcher drawn");
  // The page hides every button and makes everything red: not this one.
  assert.deepEqual(look, { background: "rgb(170, 51, 0)", display: "grid", position: "fixed", left: 20, bottom: 20, width: 56 });
  assert.equal(await p.evaluate(() => getComputedStyle(document.querySelector("button")).display), "none", "the page's CSS does apply to its own button");
  assert.equal(await p.evaluate(() => document.querySelector("helpline-chat").shadowRoot), null, "the shadow root is closed");
  assert.deepEqual((await l.ax("button")).filter((n) => n.name === "Chat with us").map((n) => n.expanded), [false]);
  assert.equal(chatFrame(p), undefined, "no frame before the first open");
  assert.equal(p.frames().length, 1);

  await clickLauncher(p, l);
  const frame = await until(() => chatFrame(p), undefined, "the chat frame");
  const src = new URL(frame.url());
  assert.equal(src.origin, desk.base);
  assert.equal(src.pathname, "/web/im/chat/");
  assert.deepEqual(Object.fromEntries(src.searchParams), { webAppId, embed: "1", host: hostOrigin, lang: "en" });
  assert.ok(frame.url().includes(`host=${encodeURIComponent(hostOrigin)}`));
  assert.deepEqual(await l.run("iframe", function () { return { title: this.title, allow: this.getAttribute("allow") }; }), { title: "Chat", allow: "clipboard-write" });
  assert.ok(await panelOpen(l));
  assert.ok(await focused(l, "iframe"), "the focus goes into the frame");
  // Where it settles once it has slid in.
  const panel = () => l.run(".panel", function () { const r = this.getBoundingClientRect(); return { left: r.left, bottom: innerHeight - r.bottom, width: r.width, height: r.height }; });
  await until(async () => JSON.stringify(await panel()) === JSON.stringify({ left: 20, bottom: 88, width: 380, height: 600 }), 2000, "the panel in its corner").catch(async (e) => {
    assert.fail(`${e.message}: ${JSON.stringify(await panel())}`);
  });
  assert.deepEqual((await l.ax("button")).filter((n) => n.name === "Chat with us").map((n) => n.expanded), [true]);

  // Escape in the host page closes it and gives the focus back to the launcher.
  await p.mouse.click(640, 200);
  await p.keyboard.press("Escape");
  await until(async () => !(await panelOpen(l)), undefined, "the panel to close");
  assert.ok(await focused(l, ".launcher"), "the focus is back on the launcher");
  // The keyboard opens it again (the same frame), and the launcher closes it.
  await p.keyboard.press("Enter");
  await until(() => panelOpen(l), undefined, "the panel to open by keyboard");
  assert.equal(p.frames().filter((f) => f.url().includes("/web/im/chat/")).length, 1, "one frame, made once");
  await clickLauncher(p, l);
  await until(async () => !(await panelOpen(l)), undefined, "the launcher to close it");
  // The script API.
  await p.evaluate(() => window.helplineChat.open());
  await until(() => panelOpen(l), undefined, "helplineChat.open()");
  await p.evaluate(() => window.helplineChat.close());
  await until(async () => !(await panelOpen(l)), undefined, "helplineChat.close()");
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test("only the desk's own frame is listened to: ready, unread and close, and the page's queued calls", async () => {
  const p = await page(b);
  await playChatPage(p);
  await p.goto(`${hostOrigin}/hostile`);
  const l = await launcherOf(p);
  await p.evaluate(() => window.helplineChat.open());
  const frame = await until(() => chatFrame(p), undefined, "the chat frame");
  await frame.waitForLoadState("domcontentloaded");
  const badge = () => l.run(".badge", function () { return { hidden: this.hidden, text: this.textContent, label: this.getAttribute("aria-label") }; });

  // A message from another origin (the host page itself) is ignored.
  await p.evaluate(() => window.postMessage({ helpline: 1, type: "unread", count: 3 }, "*"));
  await p.evaluate(() => new Promise((r) => setTimeout(r, 200)));
  assert.equal((await badge()).hidden, true, "a wrong origin's unread is ignored");
  assert.equal(await p.evaluate(() => window.unreadSeen), undefined);

  // The frame (the desk's origin) says it is ready: it is told the language, the token the
  // page queued before the script loaded, and that it is open.
  await frame.evaluate(() => {
    window.heard = [];
    addEventListener("message", (e) => e.source === parent && window.heard.push(e.data));
    parent.postMessage({ helpline: 1, type: "ready" }, "*");
  });
  const heard = await until(async () => {
    const h = await frame.evaluate(() => window.heard);
    return h.length >= 3 ? h : null;
  }, undefined, "the loader's answers");
  assert.deepEqual(heard, [
    { helpline: 1, type: "language", language: "en" },
    { helpline: 1, type: "identify", token: "user-token-1" },
    { helpline: 1, type: "open" },
  ]);
  await p.evaluate(() => window.helplineChat.setLanguage("zh-CN"));
  await until(async () => (await frame.evaluate(() => window.heard.length)) === 4, undefined, "the language");
  assert.deepEqual((await frame.evaluate(() => window.heard))[3], { helpline: 1, type: "language", language: "zh-CN" });
  await p.evaluate(() => window.helplineChat.setLanguage("en"));

  // Its unread count shows on the badge, named for a screen reader, and reaches onUnread.
  await frame.evaluate(() => parent.postMessage({ helpline: 1, type: "unread", count: 3 }, "*"));
  await until(async () => !(await badge()).hidden, undefined, "the badge");
  assert.deepEqual(await badge(), { hidden: false, text: "3", label: "3 unread messages" });
  assert.deepEqual(await p.evaluate(() => window.unreadSeen), [3]);
  assert.ok((await l.ax("status")).some((n) => n.name === "3 unread messages"));
  // Its close button closes the panel: the page is told it is hidden.
  await frame.evaluate(() => parent.postMessage({ helpline: 1, type: "close" }, "*"));
  await until(async () => !(await panelOpen(l)), undefined, "the page's close");
  await until(async () => (await frame.evaluate(() => window.heard)).some((m) => m.type === "hidden"), undefined, "hidden");
  await frame.evaluate(() => parent.postMessage({ helpline: 1, type: "unread", count: 0 }, "*"));
  await until(async () => (await badge()).hidden, undefined, "the badge to go");
  assert.deepEqual(await p.evaluate(() => window.unreadSeen), [3, 0]);
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test("the hosted page is framed by an allowed site only", async () => {
  const status = (await fetch(`${desk.base}/web/im/chat/?webAppId=${webAppId}`)).status;
  if (status === 404) {
    // The hosted chat page is another part of the build; until it is in web/dist the
    // desk answers 404 without a policy and there is nothing to frame.
    console.log("  (chat.html is not in this build: the framing policy is not checked)");
    return;
  }
  for (const [origin, allowed] of [[hostOrigin, true], [otherOrigin, false]]) {
    const p = await page(b);
    const refusals = [];
    p.on("console", (m) => /frame-ancestors|Refused to frame/.test(m.text()) && refusals.push(m.text()));
    await p.goto(`${origin}/shop`);
    await p.evaluate(() => window.helplineChat.open());
    if (allowed) {
      const frame = await until(() => chatFrame(p), undefined, "the chat frame");
      await frame.waitForLoadState("load");
      assert.equal(await frame.evaluate(() => location.origin), desk.base, "the chat page loaded");
      assert.deepEqual(refusals, []);
    } else {
      // Chromium puts its error page in the frame and says why.
      await until(() => refusals.length > 0, undefined, "the frame-ancestors refusal");
      assert.equal(chatFrame(p), undefined);
    }
    await p.context().close();
  }
});

test("the script twice makes one launcher; an unknown channel warns once and adds nothing; data-language names it in Chinese", async () => {
  const p = await page(b);
  await p.goto(`${hostOrigin}/twice`);
  const l = await launcherOf(p);
  await until(() => l.run(".launcher", function () { return this.isConnected; }), undefined, "the launcher");
  await p.evaluate(() => new Promise((r) => setTimeout(r, 300)));
  assert.equal((await l.hosts()).length, 1);
  await p.context().close();

  const q = await page(b);
  const warnings = [];
  q.on("console", (m) => m.type() === "warning" && warnings.push(m.text()));
  await q.goto(`${hostOrigin}/unknown`);
  await until(() => warnings.length > 0, undefined, "the warning");
  await q.evaluate(() => new Promise((r) => setTimeout(r, 300)));
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], /helpline chat: .*no-such-site/);
  assert.equal(await q.evaluate(() => document.querySelectorAll("helpline-chat").length), 0);
  await q.context().close();

  const z = await page(b);
  await z.goto(`${hostOrigin}/zh`);
  const lz = await launcherOf(z);
  await until(async () => (await lz.ax("button")).some((n) => n.name === "在线客服"), undefined, "the Chinese name");
  await z.context().close();
});

test("the host page with the launcher is accessible and looks right", async () => {
  const p = await page(b);
  await playChatPage(p);
  await p.goto(`${hostOrigin}/shop`);
  const l = await launcherOf(p);
  await until(() => l.run(".launcher", function () { return this.getBoundingClientRect().width > 0; }), undefined, "the launcher");
  // axe sees the page and the launcher's host; the closed root's parts are checked through
  // the accessibility tree above (a named button, a named status).
  assert.deepEqual(await axe(p), []);
  await p.evaluate(() => window.helplineChat.open());
  const frame = await until(() => chatFrame(p), undefined, "the chat frame");
  await frame.waitForLoadState("domcontentloaded");
  await frame.evaluate(() => parent.postMessage({ helpline: 1, type: "unread", count: 2 }, "*"));
  await p.evaluate(() => window.helplineChat.close());
  await until(async () => (await l.run(".badge", function () { return !this.hidden; })), undefined, "the badge");
  // The page's close() gave the focus back to the launcher (it was in the chat); a click
  // on the page takes it away, as a visitor reading on does.
  await p.mouse.click(640, 300);
  await shot(p, "website-launcher");
  // Reached by Tab after the page's own links, with a visible focus ring.
  for (let i = 0; i < 10 && !(await focused(l, ".launcher")); i++) await p.keyboard.press("Tab");
  assert.ok(await focused(l, ".launcher"), "the launcher is reached by Tab");
  assert.equal(await l.run(".launcher", function () { return getComputedStyle(this).outlineStyle; }), "solid");
  assert.deepEqual(await axe(p), []);
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test("on a phone the open chat takes the whole screen and the launcher, moved to the top, closes it; no motion when asked", async () => {
  const p = await page(b, { viewport: { width: 390, height: 760 } });
  await p.goto(`${hostOrigin}/shop`);
  const l = await launcherOf(p);
  await clickLauncher(p, l);
  await until(() => panelOpen(l), undefined, "the panel");
  const rect = (selector) => l.run(selector, function () { const r = this.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; });
  await until(async () => JSON.stringify(await rect(".panel")) === "[0,0,390,760]", 2000, "the panel full screen").catch(async (e) => {
    assert.fail(`${e.message}: ${JSON.stringify(await rect(".panel"))}`);
  });
  const [left, top] = await rect(".launcher");
  assert.deepEqual([left, top], [10, 10], "above the chat, in its corner");
  if (process.env.HELPLINE_SHOW_PHONE) await p.screenshot({ path: process.env.HELPLINE_SHOW_PHONE });
  // A visitor who asked for less motion gets no slide.
  assert.notEqual(await l.run(".panel", function () { return getComputedStyle(this).transitionDuration; }), "0s");
  await p.emulateMedia({ reducedMotion: "reduce" });
  assert.equal(await l.run(".panel", function () { return getComputedStyle(this).transitionDuration; }), "0s");
  await clickLauncher(p, l);
  await until(async () => !(await panelOpen(l)), undefined, "the panel to close");
  assert.ok(await focused(l, ".launcher"));
  await p.context().close();
});

test("a site with a strict policy of its own (no inline styles, Trusted Types) still gets the launcher", async () => {
  const p = await page(b);
  await p.goto(`${hostOrigin}/strict`);
  const l = await launcherOf(p);
  const look = await until(() => l.run(".launcher", function () {
    const r = this.getBoundingClientRect();
    return r.width ? { background: getComputedStyle(this).backgroundColor, left: r.left, icons: this.querySelectorAll("svg").length } : null;
  }), undefined, "the launcher drawn under the page's policy");
  assert.deepEqual(look, { background: "rgb(170, 51, 0)", left: 20, icons: 2 });
  await clickLauncher(p, l);
  await until(() => chatFrame(p), undefined, "the chat frame");
  assert.deepEqual(p.problems, []);
  await p.context().close();
});
