// An agent signs in, an offer arrives with its countdown and bell, the agent accepts it, and
// the user hears inSeat: the session is in service per the API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, Desk, page, signInPage, until, visitorTag } from "./harness.mjs";

let desk, b, group, channel, agent;

before(async () => {
  desk = await Desk.start();
  group = await desk.group("Sales");
  channel = await desk.website("Shop", group.id, { rating: true });
  agent = await desk.agent(1, [group.id]);
  b = await browser();
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

test("an offer shows its live countdown, rings, counts in the title, and Accept puts the user in service", async () => {
  const p = await page(b);
  await signInPage(p, desk, agent);
  await p.locator("#status-select").selectOption("free");
  const api = desk.adminApi;
  await until(async () => (await api.get("/monitoring/agents")).agents?.find((a) => a.agentId === agent.id)?.status === "free", 15_000, "the agent free");

  const user = await desk.user(channel);
  user.say("Hello, I need help with my order");
  const offer = p.locator(".offer");
  await offer.waitFor();
  assert.match(await offer.locator(".who").textContent(), /Visitor /);
  const first = await offer.locator(".countdown").textContent();
  await until(async () => (await offer.locator(".countdown").textContent()) !== first, 5_000, "the countdown to move");
  await until(() => p.evaluate(() => Number(document.documentElement.dataset.bellRings ?? 0) > 0), 5_000, "the bell");
  assert.match(await p.title(), /^\(1\)|^（1）/);
  assert.match(await p.locator("#live-offers").textContent(), /Visitor /);
  assert.deepEqual(await axe(p), []);

  await offer.getByRole("button", { name: "Accept" }).click();
  await user.frame((f) => f.type === "message" && f.body.type === "custom" && f.body.data.includes("inSeat"), 10_000, "inSeat");
  assert.deepEqual(p.problems, []);
});

test("an offer to a hidden tab raises a desktop notification", async () => {
  const p = await page(b);
  await signInPage(p, desk, agent);
  // The tab as hidden (another window in front), and the notifications it raises recorded.
  await p.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { get: () => "hidden" });
    const Real = window.Notification;
    window.raised = [];
    window.Notification = class extends Real {
      constructor(title, options) {
        super(title, options);
        window.raised.push(title);
      }
    };
    Object.defineProperty(window.Notification, "permission", { get: () => "granted" });
  });
  await until(async () => (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === agent.id)?.status === "free", 15_000, "the agent free");
  const user = await desk.user(channel);
  user.say("Is anyone there?");
  await p.locator(".offer").waitFor();
  await until(() => p.evaluate(() => window.raised.length > 0), 5_000, "a notification");
  assert.match(await p.evaluate(() => window.raised[0]), /New chat: Visitor /);
  await p.locator(".offer").getByRole("button", { name: "Accept" }).click();
  await p.locator(".offer").waitFor({ state: "detached" });
});

test("after Accept the chat opens with its transcript, and the title loses the count", async () => {
  const p = await page(b);
  await signInPage(p, desk, agent);
  const user = await desk.user(channel);
  user.say("Hello, I need help with my order");
  const offer = p.locator(".offer").filter({ hasText: visitorTag(user.id) });
  await offer.waitFor();
  await offer.getByRole("button", { name: "Accept" }).click();
  await user.frame((f) => f.type === "message" && f.body.type === "custom" && f.body.data.includes("inSeat"), 10_000, "inSeat");
  await offer.waitFor({ state: "detached" });
  await p.locator(".chat-item.on").waitFor();
  await p.locator(".transcript .msg", { hasText: "Hello, I need help" }).waitFor();
  assert.equal(await p.title(), "helpline");
  const records = await desk.adminApi.get("/records");
  assert.ok(records.records.find((r) => r.userId === user.id).acceptedAtMs, "the record says an agent took it");
  assert.deepEqual(p.problems, []);
});
