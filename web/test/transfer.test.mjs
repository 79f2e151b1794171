// Keyboard shortcuts and transfer: Alt+A accepts, the help dialog lists the shortcuts, and
// the transfer dialog shows skill groups with their free agents and agents with their status;
// a transfer to a colleague reaches the colleague per the API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, Desk, page, shot, signInPage, until, visitorTag } from "./harness.mjs";

let desk, b, sales, billing, channel, me, colleague, p, user;

const monitor = async (id) => (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === id);
const command = (api, cmd) => api.post("/workstation/commands", cmd);

before(async () => {
  desk = await Desk.start();
  sales = await desk.group("Sales");
  billing = await desk.group("Billing");
  channel = await desk.website("Shop", sales.id);
  me = await desk.agent(1, [sales.id]);
  colleague = await desk.agent(2, [billing.id]);
  const other = await desk.signIn(colleague);
  await command(other, { type: "online" });
  await command(other, { type: "status", status: "free" });
  b = await browser();
  p = await page(b);
  await signInPage(p, desk, me);
  await until(async () => (await monitor(me.id)).status === "free", 10_000, "free");
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

test("Alt+A accepts the first offer, and ? opens the shortcut help", async () => {
  user = await desk.user(channel);
  user.say("My invoice is wrong");
  await p.locator(".offer").waitFor();
  await p.keyboard.press("Alt+a");
  await user.frame((f) => f.type === "message" && f.body.type === "custom" && f.body.data.includes("inSeat"), 10_000, "inSeat");
  await p.locator(".chat-item.on").waitFor();
  await p.locator("body").click({ position: { x: 640, y: 20 } });
  await p.keyboard.press("?");
  const help = p.getByRole("dialog", { name: "Keyboard shortcuts" });
  await help.waitFor();
  assert.ok((await help.locator("kbd").count()) >= 8);
  assert.deepEqual(await axe(p), []);
  await p.keyboard.press("Escape");
  await help.waitFor({ state: "detached" });
});

test("a second offer while serving: the workstation with an offer, in both languages", async () => {
  const second = await desk.user(channel);
  second.say("Hello?");
  await p.locator(".offer").waitFor();
  await shot(p, "workstation-offer-en");
  await p.locator("select[aria-label='Language']").selectOption("zh-CN");
  await p.locator(".offer button", { hasText: "接听" }).waitFor();
  await shot(p, "workstation-offer-zh-CN");
  assert.deepEqual(await axe(p), []);
  await p.locator("select[aria-label='语言']").selectOption("en");
});

test("the transfer dialog shows free agents per group and agents' status, and hands the chat to a colleague", async () => {
  await p.locator("#composer-input").click();
  await p.keyboard.press("Alt+t");
  const dialog = p.getByRole("dialog");
  await p.getByRole("dialog", { name: "Transfer the chat" }).waitFor();
  await dialog.waitFor();
  await dialog.locator(".targets li", { hasText: "Billing" }).locator(".free", { hasText: "1 of 1 free" }).waitFor();
  await dialog.getByRole("searchbox", { name: "Search agents" }).fill("Agent 2");
  const row = dialog.locator(".targets li", { hasText: "Agent 2" });
  await row.locator(".dot-free").waitFor();
  assert.equal(await dialog.locator("[data-agent]").count(), 1);
  await shot(p, "transfer-en");
  assert.deepEqual(await axe(p), []);
  await p.locator("select[aria-label='Language']").selectOption("zh-CN");
  await dialog.locator(".free", { hasText: "1 人中 1 人空闲" }).first().waitFor();
  await shot(p, "transfer-zh-CN");
  await p.locator("select[aria-label='语言']").selectOption("en");
  await row.getByRole("button", { name: "Transfer" }).click();
  await dialog.waitFor({ state: "detached" });
  await until(async () => {
    const c = await monitor(colleague.id);
    return c.sessions + c.offers === 1;
  }, 10_000, "the colleague to hold the chat");
  await p.locator(".toast", { hasText: "transferred" }).first().waitFor();
  assert.equal(await p.locator(".list .chat-item", { hasText: visitorTag(user.id) }).count(), 0);
});
