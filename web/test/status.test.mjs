// The status in the top bar: free, busy, rest with one of the enabled reasons, wrap-up, not
// ready, offline, each seen by the desk; a missed offer's short break set by the desk shows at
// once, and the lapsed offer disappears with its reason.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, Desk, page, signInPage, until } from "./harness.mjs";

let desk, b, group, channel, agent, p;

const status = async () => (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === agent.id);

before(async () => {
  desk = await Desk.start();
  group = await desk.group("Sales");
  channel = await desk.website("Shop", group.id);
  await desk.adminApi.post("/settings/rest-reasons", { name: "Lunch" });
  await desk.adminApi.post("/settings/rest-reasons", { name: "Training" });
  agent = await desk.agent(1, [group.id]);
  b = await browser();
  p = await page(b);
  await signInPage(p, desk, agent);
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

test("each status chosen in the top bar is the agent's status in the desk, with its coloured dot", async () => {
  for (const [value, want, reason] of [["busy", "busy"], ["rest:Lunch", "rest", "Lunch"], ["arrange", "arrange"], ["not_ready", "not_ready"], ["offline", "offline"], ["free", "free"]]) {
    await p.locator("#status-select").selectOption(value);
    const s = await until(async () => {
      const a = await status();
      return a.status === want || (want === "not_ready" && a.status === "notReady") ? a : null;
    }, 10_000, `status ${want}`);
    if (reason) assert.equal(s.restReason, reason);
    const shown = value.startsWith("rest") ? "rest" : value;
    await p.locator(`.status[data-status="${shown}"] .dot-${shown}`).waitFor();
  }
  assert.deepEqual(await axe(p), []);
});

test("a missed offer lapses with its reason and the desk's short break shows at once", async () => {
  await desk.adminApi.put("/settings", {
    ...(await desk.adminApi.get("/settings")),
    reception: { autoReception: false, acceptTimeoutSecs: 5, redirectOnTimeout: true, autoShortBreak: true },
  });
  const user = await desk.user(channel);
  user.say("anyone there?");
  await p.locator(".offer").waitFor();
  await p.locator(".offer").waitFor({ state: "detached", timeout: 15_000 });
  await p.locator(".toast", { hasText: "lapsed" }).waitFor();
  await p.locator('.status[data-status="rest"]').waitFor();
  assert.equal((await status()).status, "rest");
});

test("the status after sign-in follows the app's setting", async () => {
  await desk.adminApi.put("/settings", { ...(await desk.adminApi.get("/settings")), loginStatus: "not_ready" });
  const second = await desk.agent(2, [group.id]);
  const q = await page(b);
  await signInPage(q, desk, second);
  await q.locator('.status[data-status="not_ready"]').waitFor();
  const s = (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === second.id);
  assert.ok(["not_ready", "notReady"].includes(s.status));
});
