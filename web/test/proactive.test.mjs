// Proactive contact: by user id and virtual number, and "contact again" from a finished chat
// and from a service record; refusals (rule off, not in the proactive group) shown in words.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, Desk, page, signInPage, until } from "./harness.mjs";

let desk, b, outbound, other, me, p;

const sessions = async () => (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === me.id)?.sessions ?? 0;

before(async () => {
  desk = await Desk.start();
  outbound = await desk.group("Outbound");
  other = await desk.group("Others");
  await desk.adminApi.post("/channels", { name: "Sales line", kind: { type: "in_app", userId: "sales", proactiveGroup: outbound.id }, skillGroup: outbound.id });
  await desk.adminApi.post("/channels", { name: "Other line", kind: { type: "in_app", userId: "other", proactiveGroup: other.id }, skillGroup: other.id });
  me = await desk.agent(1, [outbound.id]);
  b = await browser();
  p = await page(b);
  await signInPage(p, desk, me);
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

async function start(user, number) {
  await p.getByRole("button", { name: "Start a chat" }).click();
  const dialog = p.getByRole("dialog", { name: "Start a chat" });
  await dialog.getByLabel("User id").fill(user);
  await dialog.getByLabel("Virtual number").fill(number);
  await dialog.getByRole("button", { name: "Start chat" }).click();
  return dialog;
}

test("with the rule off, starting a chat is refused in words", async () => {
  const dialog = await start("u1", "sales");
  await dialog.getByRole("alert").filter({ hasText: "Not started:" }).waitFor();
  assert.deepEqual(await axe(p), []);
  await p.keyboard.press("Escape");
  assert.equal(await sessions(), 0);
});

test("a number of a group the agent is not in is refused in words; its own number starts the chat", async () => {
  await desk.adminApi.put("/settings/proactive", { enabled: true, timeoutSecs: 600 });
  let dialog = await start("u1", "other");
  await dialog.getByRole("alert").filter({ hasText: "Not started:" }).waitFor();
  await p.keyboard.press("Escape");
  dialog = await start("u1", "sales");
  await dialog.waitFor({ state: "detached" });
  await p.locator(".chat-item.on", { hasText: "u1" }).waitFor();
  await until(async () => (await sessions()) === 1, 10_000, "the session in hand");
});

test("contact again from a finished chat and from a service record", async () => {
  await p.locator("#composer-input").fill("Hello from sales");
  await p.keyboard.press("Enter");
  await p.locator(".msg.from-agent", { hasText: "Hello from sales" }).waitFor();
  await p.getByRole("button", { name: "End", exact: true }).click();
  await p.locator(".chat-banner", { hasText: "Chat ended" }).waitFor();
  await until(async () => (await sessions()) === 0, 10_000, "ended");
  await p.getByRole("button", { name: "Contact again" }).click();
  await until(async () => (await sessions()) === 1, 10_000, "contacted again from the chat");
  await p.locator(".list ul .chat-item.on").waitFor();
  await p.getByRole("button", { name: "End", exact: true }).click();
  await until(async () => (await sessions()) === 0, 10_000, "ended again");
  // A chat the user opened (proactive sessions are not in the agent's records: see README).
  await p.locator("#status-select").selectOption("free");
  const user = await desk.inAppUser("u2", "sales");
  user.say("I have a question");
  await p.locator(".offer").getByRole("button", { name: "Accept" }).click();
  await p.locator(".msg", { hasText: "I have a question" }).waitFor();
  await p.getByRole("button", { name: "End", exact: true }).click();
  await until(async () => (await sessions()) === 0, 10_000, "that one ended");
  await p.getByRole("button", { name: "Records" }).click();
  const row = p.locator(".rec-table tbody tr").first();
  await row.waitFor();
  await row.getByRole("button").click();
  await p.locator(".record-detail").getByRole("button", { name: "Contact again" }).click();
  await until(async () => (await sessions()) === 1, 10_000, "contacted again from the record");
});
