// The embed script and the real chat page together, on a customer's site of another origin:
// the launcher opens the chat page's frame, the flow's welcome comes (the time from the
// click to it is printed), the visitor talks with the agent (played over the agent API) in
// the frame; a message while the panel is closed is a badge on the launcher and the host's
// onUnread; the host's sendCard() reaches the agent as a card; setLanguage() switches the
// frame to Chinese; Escape in the frame closes the panel;
// identify() makes the chat the app's own signed-in user instead of an anonymous visitor.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import { axe, browser, Desk, page, shot, signInPage, until } from "./harness.mjs";

let desk, b, group, site, webAppId, hostServer, hostOrigin, ws;
const hostPages = new Map();

function serve(pages) {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const html = pages.get(new URL(req.url, "http://x").pathname);
      if (!html) return res.writeHead(404).end();
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
    });
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

const shop = (body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Copper &amp; Clay</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1f2430;background:#faf7f2}
header{padding:18px 40px;background:#fff;border-bottom:1px solid #e8e2d8;font-weight:700;font-size:22px;color:#8a3b12}main{max-width:900px;margin:40px auto;padding:0 40px}</style></head>
<body><header>Copper &amp; Clay</header><main><h1>Handmade kitchenware</h1><p>Questions about an order? We are here to chat.</p></main>${body}</body></html>`;

/** An app user's token, signed with the app's IM secret as the app's backend would. */
async function appUserToken(user) {
  const { secret } = await desk.adminApi.post("/im/secret", {});
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const head = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ app: 1, sub: user, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${head}.${crypto.createHmac("sha256", secret).update(head).digest("base64url")}`;
}

before(async () => {
  desk = await Desk.start();
  group = await desk.group("Sales");
  const flow = await desk.adminApi.post("/flows", {
    name: "welcome",
    graph: {
      nodes: [
        { id: "start", module: { type: "start" } },
        { id: "hello", module: { type: "send_message", text: "Welcome to Copper & Clay! An agent will be with you shortly." } },
        { id: "desk", module: { type: "transfer_to_agent", group: group.id } },
        { id: "end", module: { type: "end", replyTimeoutSecs: 0, autoTerminationMessage: "", humanTerminationMessage: "" } },
      ],
      edges: [{ from: "start", port: "next", to: "hello" }, { from: "hello", port: "next", to: "desk" }, { from: "desk", port: "next", to: "end" }],
    },
  });
  hostServer = await serve(hostPages);
  hostOrigin = `http://127.0.0.1:${hostServer.address().port}`;
  site = await desk.website("Copper & Clay", group.id);
  webAppId = site.kind.webAppId;
  await desk.keyApi.put(`/channels/${site.id}`, {
    name: "Copper & Clay", kind: { type: "website" }, skillGroup: group.id, flow: flow.id,
    allowedOrigins: [hostOrigin], launcherPosition: "bottom_right", themeColor: "#aa3300",
  });
  const snippet = `<script src="${desk.base}/web/im/imPublish.js?webAppId=${webAppId}"></script>`;
  const unread = `<script>window.helplineChat = window.helplineChat || {q: []};
helplineChat.q.push(["onUnread", (n) => { window.unreadSeen = (window.unreadSeen || []).concat(n); }]);</script>`;
  hostPages.set("/shop", shop(`${unread}${snippet}`));
  hostPages.set("/account", shop(`<script>window.helplineChat = {q: [["identify", ${JSON.stringify(await appUserToken("customer-42"))}]]};</script>${snippet}`));
  const agent = await desk.agent(1, [group.id]);
  b = await browser();
  ws = await page(b);
  await signInPage(ws, desk, agent);
});

after(async () => {
  await b?.close();
  hostServer?.close();
  await desk?.stop();
});

/** A visitor's tab (no extra headers: the script's plain GET stays a simple request). */
async function tab({ locale = "en-US" } = {}) {
  const context = await b.newContext({ viewport: { width: 1280, height: 800 }, locale });
  const p = await context.newPage();
  p.problems = [];
  p.on("pageerror", (e) => p.problems.push(String(e)));
  p.on("console", (m) => m.type() === "error" && /Content Security Policy|Refused to/.test(m.text()) && p.problems.push(m.text()));
  return p;
}

/** Clicks the launcher, found through the DevTools protocol (its shadow root is closed). */
async function clickLauncher(p) {
  const cdp = await p.context().newCDPSession(p);
  const box = await until(async () => {
    const { root } = await cdp.send("DOM.getDocument", { depth: -1, pierce: true });
    const find = (n) => (n.nodeName === "HELPLINE-CHAT" ? n : [...(n.children ?? []), ...(n.shadowRoots ?? [])].map(find).find(Boolean));
    const host = find(root);
    if (!host?.shadowRoots?.[0]) return null;
    const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: host.shadowRoots[0].nodeId, selector: ".launcher" });
    if (!nodeId) return null;
    const { model } = await cdp.send("DOM.getBoxModel", { nodeId }).catch(() => ({}));
    return model ? { x: (model.content[0] + model.content[4]) / 2, y: (model.content[1] + model.content[5]) / 2 } : null;
  }, 10_000, "the launcher");
  await p.mouse.click(box.x, box.y);
}

const chatFrame = (p) => until(() => p.frames().find((f) => f.url().includes("/web/im/chat/")), 10_000, "the chat frame");

test("the launcher opens the real chat page; the welcome comes; the visitor talks in the frame", async () => {
  const p = await tab();
  await p.goto(`${hostOrigin}/shop`);
  const clicked = Date.now();
  await clickLauncher(p);
  const frame = await chatFrame(p);
  await frame.locator(".row.theirs", { hasText: "Welcome to Copper & Clay!" }).waitFor();
  const at = await frame.evaluate(() => window.helplineChatPage.firstDeskMessageAt());
  console.log(`# time from the launcher click to the first desk message: ${Math.round(at - clicked)} ms (loopback, debug build)`);
  assert.equal(await frame.getByRole("heading").textContent(), "Copper & Clay");
  assert.equal(await frame.evaluate(() => getComputedStyle(document.querySelector(".top")).backgroundColor), "rgb(170, 51, 0)", "the channel's colour");
  await frame.getByLabel("Message").fill("Is the copper pan in stock?");
  await frame.getByLabel("Message").press("Enter");
  await frame.locator(".row.mine", { hasText: "Is the copper pan in stock?" }).locator("time").waitFor();
  await ws.locator(".offer").getByRole("button", { name: "Accept" }).click();
  await frame.locator(".seat.on").waitFor();
  assert.deepEqual(await axe(p), []);
  assert.deepEqual(await axe(frame), [], "the chat page in its frame");
  await shot(p, "website-embedded");

  // Escape in the frame closes the panel; the agent's answer meanwhile is unread.
  await frame.getByLabel("Message").press("Escape");
  await until(() => p.evaluate(() => document.activeElement?.tagName === "HELPLINE-CHAT"), 5_000, "the focus back on the launcher");
  await ws.locator("#composer-input").fill("Yes, three are in stock.");
  await ws.locator("#composer-input").press("Enter");
  await until(() => p.evaluate(() => (window.unreadSeen ?? []).includes(1)), 10_000, "one unread on the launcher");
  await clickLauncher(p);
  await frame.locator(".row.theirs", { hasText: "Yes, three are in stock." }).waitFor();
  await until(() => p.evaluate(() => window.unreadSeen.at(-1) === 0), 5_000, "the badge cleared on open");
  // The host page sends the product the visitor looks at as a card (src 22): the agent sees it.
  await p.evaluate(() => window.helplineChat.sendCard({ header: "Copper pan", desc: "28 cm, €120", pic: "", url: "https://shop.example/pan" }));
  await frame.locator(".row.mine .card-msg", { hasText: "Copper pan" }).waitFor();
  await ws.locator(".card-msg", { hasText: "Copper pan" }).waitFor();
  assert.deepEqual(p.problems, []);

  await p.evaluate(() => window.helplineChat.setLanguage("zh-CN"));
  await frame.getByLabel("消息").waitFor();
  assert.equal(await frame.evaluate(() => document.documentElement.lang), "zh-CN");
  await p.context().close();
});

test("identify(): the chat is the app's own user, not an anonymous visitor", async () => {
  const p = await tab();
  await p.goto(`${hostOrigin}/account`);
  await clickLauncher(p);
  const frame = await chatFrame(p);
  await frame.locator(".row.theirs", { hasText: "Welcome to Copper & Clay!" }).waitFor();
  const token = await appUserToken("customer-42");
  const conversations = await fetch(`${desk.api}/api/v1/im/conversations`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json());
  assert.equal(conversations.length, 1, "the app user's conversation with the site");
  assert.equal(await frame.evaluate((id) => localStorage.getItem(`helpline.visitor.${id}`), webAppId), null, "no visitor made");
  await p.context().close();
});
