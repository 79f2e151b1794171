// Service records in the console: filters by keyword (Chinese too), skill group and agent,
// a refused keyword shown under its field, a transcript with the keyword's messages marked,
// and the session's timeline from the log in words, in English and Chinese.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, consolePage, Desk, page, shot, until } from "./harness.mjs";

let desk, b, support, sales, ann, bob, zh, en;
const command = (api, cmd) => api.post("/workstation/commands", cmd);

/** A chat served and ended by the agent behind `api`: the user's lines, the agent's reply. */
async function served(api, agentId, channel, [first, ...rest], reply) {
  const user = await desk.user(channel);
  user.say(first);
  const rec = await until(async () => (await desk.keyApi.get("/records")).records.find((r) => r.userId === user.id), 10_000, "the record");
  await until(async () => (await desk.keyApi.get("/monitoring/agents")).agents.find((x) => x.agentId === agentId)?.offers > 0, 10_000, "the offer");
  await command(api, { type: "accept", sessionId: rec.sessionId });
  await command(api, { type: "send", sessionId: rec.sessionId, msgId: `r${rec.sessionId}`, body: { type: "text", text: reply } });
  for (const line of rest) user.say(line);
  await until(async () => (await desk.keyApi.get(`/records/${rec.sessionId}`)).messages.length >= rest.length + 2, 10_000, "the messages");
  await command(api, { type: "end", sessionId: rec.sessionId });
  user.close();
  return rec.sessionId;
}

before(async () => {
  desk = await Desk.start();
  support = await desk.group("Support");
  sales = await desk.group("Sales");
  ann = await desk.agent(1, [support.id]);
  bob = await desk.agent(2, [sales.id]);
  const shop = await desk.website("Shop", support.id);
  const store = await desk.website("Store", sales.id);
  const annApi = await desk.signIn(ann);
  await command(annApi, { type: "online" });
  await command(annApi, { type: "status", status: "free" });
  zh = await served(annApi, ann.id, shop, ["我想申请退款，谢谢", "订单号是 A17"], "好的，已为您办理退款");
  const bobApi = await desk.signIn(bob);
  await command(bobApi, { type: "online" });
  await command(bobApi, { type: "status", status: "free" });
  en = await served(bobApi, bob.id, store, ["Where is my parcel?"], "It ships today");
  b = await browser();
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

const rows = (p) => p.locator(".rec-table tbody tr");

test("a Chinese keyword finds the chat, its transcript marks it, and the timeline tells its life", async () => {
  const p = await page(b);
  await consolePage(p, desk, "records");
  await until(async () => (await rows(p).count()) === 2, 10_000, "both records");
  assert.deepEqual(await axe(p), []);

  // A keyword with no word is refused by the server, under the keyword field.
  await p.getByLabel("Keyword").fill("!!");
  await p.getByRole("button", { name: "Search" }).click();
  const refusal = p.locator(".field.invalid", { has: p.getByLabel("Keyword") }).locator(".error-text");
  await refusal.waitFor();
  assert.match(await refusal.textContent(), /no word to search for/);

  await p.getByLabel("Keyword").fill("退款");
  await p.getByRole("button", { name: "Search" }).click();
  await until(async () => (await rows(p).count()) === 1, 10_000, "one record with 退款");
  const listed = (await desk.keyApi.get(`/records?keyword=${encodeURIComponent("退款")}`)).records.map((r) => r.sessionId);
  assert.deepEqual(listed, [zh]);
  assert.equal(Number(await rows(p).first().getAttribute("data-session")), zh);

  await rows(p).first().getByRole("link").click();
  const hits = p.locator(".rec-transcript li[data-hit]");
  await until(async () => (await hits.count()) === 2, 10_000, "two marked messages");
  const detail = await desk.keyApi.get(`/records/${zh}?q=${encodeURIComponent("退款")}`);
  assert.deepEqual(await hits.evaluateAll((l) => l.map((e) => Number(e.dataset.seq))), detail.matches);
  assert.equal(await p.locator(".rec-transcript mark").first().textContent(), "退款");

  const tl = p.locator(".timeline");
  await tl.locator('li[data-kind="queued"]', { hasText: "Queued in Support." }).waitFor();
  await tl.locator('li[data-kind="offered"]', { hasText: /Offered to Agent 1 by Support/ }).waitFor();
  await tl.locator('li[data-kind="offered"]', { hasText: "Chosen because: the only agent who could take it." }).waitFor();
  await tl.locator('li[data-kind="accepted"]', { hasText: "Agent 1 accepted." }).waitFor();
  await tl.locator('li[data-kind="ended"]', { hasText: "Ended by the agent." }).waitFor();
  const kinds = (await desk.keyApi.get(`/records/${zh}/timeline`)).entries.map((e) => e.kind).filter((k) => !k.endsWith("_message"));
  assert.deepEqual(await tl.locator("li").evaluateAll((l) => l.map((e) => e.dataset.kind)), kinds);
  await p.getByLabel("Show messages in the timeline").check();
  await tl.locator('li[data-kind="agent_message"]', { hasText: "Agent 1 wrote." }).waitFor();
  assert.deepEqual(await axe(p), []);
  await shot(p, "console-records");
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test("filters by skill group and agent, as the API lists them", async () => {
  const p = await page(b);
  await consolePage(p, desk, "records");
  await until(async () => (await rows(p).count()) === 2, 10_000, "both records");
  await p.getByLabel("Skill group").selectOption({ label: "Sales" });
  await p.getByRole("button", { name: "Search" }).click();
  await until(async () => (await rows(p).count()) === 1, 10_000, "the Sales record");
  assert.equal(Number(await rows(p).first().getAttribute("data-session")), en);
  await p.getByLabel("Skill group").selectOption({ label: "Any" });
  await p.getByLabel("Agent", { exact: true }).selectOption({ label: "Agent 1" });
  await p.getByRole("button", { name: "Search" }).click();
  await until(async () => (await rows(p).count()) === 1 && Number(await rows(p).first().getAttribute("data-session")) === zh, 10_000, "Agent 1's record");
  assert.deepEqual((await desk.keyApi.get(`/records?agentId=${ann.id}`)).records.map((r) => r.sessionId), [zh]);
  await p.context().close();
});

test("the timeline in Chinese", async () => {
  const p = await page(b, { locale: "zh-CN" });
  await consolePage(p, desk, `records/${zh}`);
  await p.locator('.timeline li[data-kind="ended"]', { hasText: "由客服结束。" }).waitFor({ timeout: 10_000 });
  await p.getByText("选择原因：唯一能接待的客服。").waitFor();
  assert.deepEqual(await axe(p), []);
  await p.context().close();
});
