// Service records: the agent sees only the chats it served, filters by date range, skill
// group and keyword, and opens a transcript with the words' messages marked.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, Desk, page, shot, signInPage, until } from "./harness.mjs";

let desk, b, a, c, me, other, p;
const command = (api, cmd) => api.post("/workstation/commands", cmd);

/** A chat of `text` served and ended by the agent behind `api`. */
async function served(api, agentId, channel, lines) {
  const user = await desk.user(channel);
  user.say(lines[0]);
  const offer = await until(async () => {
    const m = (await desk.adminApi.get("/monitoring/agents")).agents.find((x) => x.agentId === agentId);
    return m.offers > 0 || m.sessions > 0;
  }, 10_000, "an offer");
  assert.ok(offer);
  const rec = await until(async () => (await desk.adminApi.get(`/records?agentId=${agentId}`)).records.find((r) => r.userId === user.id && !r.endedAtMs) ??
    (await desk.adminApi.get("/records")).records.find((r) => r.userId === user.id), 10_000, "the record");
  await command(api, { type: "accept", sessionId: rec.sessionId }).catch(() => {});
  for (const line of lines.slice(1)) user.say(line);
  await until(async () => (await desk.adminApi.get(`/records/${rec.sessionId}`)).messages.length >= lines.length, 10_000, "the messages");
  await command(api, { type: "end", sessionId: rec.sessionId });
  user.close();
  return rec.sessionId;
}

before(async () => {
  desk = await Desk.start();
  a = await desk.group("Sales");
  c = await desk.group("Claims");
  const shop = await desk.website("Shop", a.id);
  const claims = await desk.website("Claims desk", c.id);
  me = await desk.agent(1, [a.id, c.id]);
  other = await desk.agent(2, [a.id]);
  const mine = await desk.signIn(me);
  await command(mine, { type: "online" });
  await command(mine, { type: "status", status: "free" });
  await served(mine, me.id, shop, ["Where is my parcel?", "The tracking number is 7781"]);
  await served(mine, me.id, claims, ["My kettle arrived broken", "I want a replacement kettle"]);
  await command(mine, { type: "offline" });
  const theirs = await desk.signIn(other);
  await command(theirs, { type: "online" });
  await command(theirs, { type: "status", status: "free" });
  await served(theirs, other.id, shop, ["A kettle question for someone else"]);
  b = await browser();
  p = await page(b);
  await signInPage(p, desk, me);
  await p.getByRole("button", { name: "Records" }).click();
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

test("the agent's own records only, filtered by keyword, date and skill group", async () => {
  const rows = p.locator(".rec-table tbody tr");
  await until(async () => (await rows.count()) === 2, 10_000, "two records");
  await p.getByLabel("Keyword").fill("kettle");
  await p.getByRole("button", { name: "Search" }).click();
  await until(async () => (await rows.count()) === 1, 10_000, "one kettle record of mine");
  await p.getByLabel("Keyword").fill("");
  await p.getByLabel("Skill group").selectOption({ label: "Sales" });
  await p.getByRole("button", { name: "Search" }).click();
  await until(async () => (await rows.count()) === 1 && (await rows.first().textContent()).length > 0, 10_000, "one Sales record");
  await p.getByLabel("Skill group").selectOption({ label: "Any group" });
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  await p.getByLabel("To").fill(yesterday);
  await p.getByRole("button", { name: "Search" }).click();
  await p.locator(".records .empty", { hasText: "No records match." }).waitFor();
  await p.getByLabel("To").fill("");
  await p.getByRole("button", { name: "Search" }).click();
  await until(async () => (await rows.count()) === 2, 10_000, "both again");
});

test("a record's transcript marks the messages with the words searched", async () => {
  await p.getByLabel("Keyword").fill("kettle");
  await p.getByRole("button", { name: "Search" }).click();
  const rows = p.locator(".rec-table tbody tr");
  await until(async () => (await rows.count()) === 1, 10_000, "the kettle record");
  await rows.first().getByRole("button").click();
  const detail = p.locator(".record-detail");
  await detail.locator("mark", { hasText: "kettle" }).first().waitFor();
  assert.equal(await detail.locator(".msg.hit").count(), 2);
  assert.match(await detail.locator(".meta").textContent(), /2 matching messages/);
  await shot(p, "records-en");
  assert.deepEqual(await axe(p), []);
  await p.locator("select[aria-label='Language']").selectOption("zh-CN");
  await detail.locator(".meta", { hasText: "2 条匹配消息" }).waitFor();
  await shot(p, "records-zh-CN");
  assert.deepEqual(await axe(p), []);
  await p.locator("select[aria-label='语言']").selectOption("en");
  assert.deepEqual(p.problems, []);
});
