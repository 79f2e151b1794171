// Monitoring: the figures move while a website user queues, the queue says why the session
// waits (each member's reason), then the agent gets the offer and the page says why it went
// to that agent; a role scoped to one group sees only it; the page speaks Chinese.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, call, consolePage, Desk, page, PASSWORD, shot, until } from "./harness.mjs";

let desk, b, support, sales, ann, bob, annApi, site;
const command = (api, cmd) => api.post("/workstation/commands", cmd);

before(async () => {
  desk = await Desk.start();
  support = await desk.group("Support");
  sales = await desk.group("Sales");
  ann = await desk.agent(1, [support.id]);
  bob = await desk.agent(2, [support.id]);
  await desk.agent(3, [sales.id]);
  site = await desk.website("Shop", support.id);
  annApi = await desk.signIn(ann);
  await command(annApi, { type: "online" });
  await command(annApi, { type: "status", status: "busy" });
  b = await browser();
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

test("a queued user moves the figures, the page says why it waits, then why the agent got it", async () => {
  const p = await page(b);
  await consolePage(p, desk, "monitoring");
  const supportRow = p.locator(`tr[data-group="${support.id}"]`);
  await until(async () => (await supportRow.locator('[data-figure="queue"]').textContent()) === "0", 10_000, "an empty queue");
  await p.locator(".mon-list, .empty-line").first().waitFor();
  assert.deepEqual(await axe(p), []);

  // A website visitor writes while Ann is busy and Bob offline: the page moves without a reload.
  const user = await desk.user(site);
  user.say("Hello, is anyone there?");
  const item = p.locator("#mon-waiting ~ * li[data-session], section[aria-labelledby=mon-waiting] li[data-session]").first();
  await item.waitFor({ timeout: 10_000 });
  await until(async () => (await supportRow.locator('[data-figure="queue"]').textContent()) === "1", 10_000, "the queue at 1");
  const session = Number(await item.getAttribute("data-session"));
  const q = await desk.keyApi.get("/monitoring/queue");
  assert.equal(q.groups.find((g) => g.skillGroupId === support.id).sessions[0].sessionId, session);
  await item.locator(`li[data-agent="${ann.id}"][data-reason="not_free"]`, { hasText: "status is Busy" }).waitFor();
  await item.locator(`li[data-agent="${bob.id}"][data-reason="offline"]`, { hasText: "offline" }).waitFor();
  await item.getByText("Agent 1").first().waitFor();
  assert.deepEqual(await axe(p), []);
  await shot(p, "console-monitoring");

  // Ann is free: the offer arrives, the queue empties, and the page says why Ann.
  await command(annApi, { type: "status", status: "free" });
  const offer = p.locator(`li[data-offer="${session}"]`);
  await offer.waitFor({ timeout: 10_000 });
  await offer.getByText("Session " + session + " offered to Agent 1").waitFor();
  await offer.getByText("Chosen because: the only agent who could take it.").waitFor();
  await offer.getByText(/Members looked at: 2; passed over: 1 offline/).waitFor();
  await until(async () => (await supportRow.locator('[data-figure="queue"]').textContent()) === "0", 10_000, "the queue back at 0");
  const annRow = p.locator(`tr[data-agent="${ann.id}"]`);
  await annRow.locator('[data-status="free"]').waitFor();
  const offers = (await desk.keyApi.get("/monitoring/queue")).offers;
  assert.equal(offers[0].agentId, ann.id);
  assert.equal(offers[0].decision.rule, "only_candidate");
  assert.deepEqual(p.problems, []);
  user.close();
  await p.context().close();
});

test("a role scoped to one skill group sees only that group", async () => {
  const role = await desk.keyApi.post("/roles", { name: "Sales watch", scopes: [{ module: "monitoring", groups: [sales.id] }] });
  const made = await desk.keyApi.post("/agents", { name: "Lead", nickname: "Lead", staffNo: "l1", email: "lead@example.com", roleId: role.id, skillGroupIds: [] });
  const login = await call(desk.api, "POST", "/auth/login", { body: { email: "lead@example.com", password: made.password } });
  await call(desk.api, "POST", "/auth/password", { token: login.token, body: { currentPassword: made.password, newPassword: PASSWORD } });
  const p = await page(b);
  await consolePage(p, desk, "monitoring", { email: "lead@example.com", password: PASSWORD });
  await p.locator(`tr[data-group="${sales.id}"]`).waitFor();
  assert.equal(await p.locator(`tr[data-group="${support.id}"]`).count(), 0);
  assert.equal(await p.locator(`tr[data-agent="${ann.id}"]`).count(), 0);
  await p.context().close();
});

test("monitoring in Chinese", async () => {
  await command(annApi, { type: "status", status: "busy" });
  const user = await desk.user(site);
  user.say("你好");
  const p = await page(b, { locale: "zh-CN" });
  await consolePage(p, desk, "monitoring");
  await p.getByRole("heading", { name: "实时监控" }).waitFor();
  await p.getByText("为什么还在等待？").first().waitFor({ timeout: 10_000 });
  await p.getByText("状态为忙碌").first().waitFor();
  assert.deepEqual(await axe(p), []);
  await shot(p, "console-monitoring-zh");
  user.close();
  await p.context().close();
});
