// Third-party extensions: the enabled https ones as iframes ("always visible" always, the
// others while a chat is chosen); their postMessage sends into the current chat, accepted
// only from the extension's own frame and origin (anything else ignored and logged).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, Desk, page, signInPage, until } from "./harness.mjs";

let desk, b, group, channel, agent, p, user;
const warnings = [];

// The extensions' pages, answered by the browser's own routing: nothing leaves the machine.
const PANEL = `<!doctype html><html><head><title>CRM</title></head><body><h1>CRM</h1><p>Customer 77</p></body></html>`;

before(async () => {
  desk = await Desk.start();
  group = await desk.group("Sales");
  channel = await desk.website("Shop", group.id);
  await desk.adminApi.post("/extensions", { name: "CRM", url: "https://crm.example/panel", alwaysVisible: true, enabled: true });
  await desk.adminApi.post("/extensions", { name: "Orders", url: "https://orders.example/list", alwaysVisible: false, enabled: true });
  await desk.adminApi.post("/extensions", { name: "Old tool", url: "https://old.example/", alwaysVisible: true, enabled: false });
  agent = await desk.agent(1, [group.id]);
  b = await browser();
  p = await page(b);
  await p.route(/^https:\/\/(crm|orders|old)\.example\//, (route) => route.fulfill({ contentType: "text/html", body: PANEL }));
  p.on("console", (m) => m.type() === "warning" && warnings.push(m.text()));
  await signInPage(p, desk, agent);
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

test("enabled extensions show as tabs: always-visible ones at once, the others while a chat is chosen", async () => {
  const tabs = p.locator(".side-tabs [role=tab]");
  await p.locator(".side-tabs", { hasText: "CRM" }).waitFor();
  assert.deepEqual(await tabs.allTextContents(), ["Quick replies", "CRM"]);
  await until(async () => (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === agent.id)?.status === "free", 10_000, "free");
  user = await desk.user(channel);
  user.say("I am customer 77");
  await p.locator(".offer").getByRole("button", { name: "Accept" }).click();
  await p.locator(".chat-item.on").waitFor();
  await until(async () => (await tabs.allTextContents()).join(",") === "Quick replies,CRM,Orders", 10_000, "the Orders tab");
  await p.getByRole("tab", { name: "CRM" }).click();
  const frame = p.frameLocator("iframe[title=CRM]");
  await frame.getByRole("heading", { name: "CRM" }).waitFor();
  assert.deepEqual(await axe(p), []);
});

test("an extension's sendCard reaches the user; a message from elsewhere is ignored and logged", async () => {
  await p.evaluate(() => window.postMessage({ source: "ccc-sdk", payload: { event: "sendText", message: "forged" } }, "*"));
  await until(() => warnings.some((w) => w.includes("ignored a postMessage")), 5_000, "the warning");
  const crm = p.frames().find((f) => f.url().startsWith("https://crm.example/"));
  await crm.evaluate(() => parent.postMessage({ source: "ccc-sdk", payload: { event: "sendCard", message: { header: "Order 77", desc: "Two kettles", pic: "", url: "https://crm.example/o/77" } } }, "*"));
  const card = await user.frame((f) => f.type === "message" && f.body.type === "custom" && f.body.data.includes("Order 77"), 10_000, "the card");
  assert.equal(JSON.parse(card.body.data).src, "22");
  await crm.evaluate(() => parent.postMessage({ source: "ccc-sdk", payload: { event: "sendText", message: "Your order ships today" } }, "*"));
  await user.frame((f) => f.type === "message" && f.body.type === "text" && f.body.text === "Your order ships today", 10_000, "the text");
  assert.ok(!user.frames.some((f) => f.type === "message" && f.body.type === "text" && f.body.text === "forged"), "the forged message was not sent");
});
