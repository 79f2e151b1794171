// The figures: the workstation's first render after sign-in (the first state frame drawn,
// from the Performance API, relative to navigation start) and a user's message to its
// appearance on the agent's screen (a MutationObserver in the page), p50 and p99 over 200
// messages at light load. Printed, not asserted as timings.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { browser, call, Desk, page, signInPage, until, visitorTag } from "./harness.mjs";

let desk, b, group, channel, agent, p;

before(async () => {
  desk = await Desk.start();
  group = await desk.group("Sales");
  channel = await desk.website("Shop", group.id);
  agent = await desk.agent(1, [group.id]);
  await desk.adminApi.put("/settings", {
    ...(await desk.adminApi.get("/settings")),
    reception: { autoReception: true, acceptTimeoutSecs: 30, redirectOnTimeout: true, autoShortBreak: false },
  });
  b = await browser();
  p = await page(b);
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

test("first render of the workstation after sign-in, and message latency over 200 messages", async () => {
  await signInPage(p, desk, agent);
  const firstRender = await p.evaluate(() => performance.getEntriesByName("helpline:first-state")[0].startTime);
  const reloads = [];
  for (let i = 0; i < 5; i++) {
    await p.reload();
    await p.waitForFunction(() => performance.getEntriesByName("helpline:first-state").length > 0, null, { timeout: 15_000 });
    reloads.push(await p.evaluate(() => performance.getEntriesByName("helpline:first-state")[0].startTime));
  }
  reloads.sort((x, y) => x - y);
  console.log(`first render of /workstation: ${firstRender.toFixed(0)} ms after sign-in (navigation start to the first state frame drawn); reloads: median ${pct(reloads, 0.5).toFixed(0)} ms`);

  await until(async () => (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === agent.id)?.status === "free", 10_000, "free");
  const user = await desk.user(channel);
  user.say("lat-open");
  await p.locator(".msg", { hasText: "lat-open" }).waitFor();
  await p.evaluate(() => {
    window.latencies = [];
    new MutationObserver((records) => {
      const at = performance.timeOrigin + performance.now();
      for (const r of records) {
        for (const n of r.addedNodes) {
          const m = n instanceof HTMLElement && /lat (\d+) (\d+)/.exec(n.textContent ?? "");
          if (m) window.latencies.push(at - Number(m[2]));
        }
      }
    }).observe(document.querySelector(".transcript"), { childList: true, subtree: true });
  });
  // The bare baseline in the same run: a second socket of the same sign-in, read by this
  // process (no browser, no rendering), hears the same messages; what the screen adds is the
  // difference.
  const token = await p.evaluate(() => JSON.parse(sessionStorage.getItem("helpline.signin")).token);
  const { ticket } = await call(desk.api, "POST", "/ws-tickets", { token });
  const bare = new WebSocket(`${desk.api.replace("http", "ws")}/ws/agent?ticket=${ticket}`);
  const bareLat = [];
  bare.onmessage = (e) => {
    const at = Date.now();
    const f = JSON.parse(e.data);
    const m = f.type === "message" && /lat (\d+) (\d+)/.exec(f.body?.text ?? "");
    if (m) bareLat.push(at - Number(m[2]));
  };
  await new Promise((r, j) => ((bare.onopen = r), (bare.onerror = j)));
  for (let i = 0; i < 200; i++) {
    user.say(`lat ${i} ${Date.now()}`);
    await p.waitForFunction((n) => window.latencies.length >= n, i + 1, { timeout: 10_000, polling: 5 });
  }
  await until(() => bareLat.length === 200, 10_000, "the bare socket to hear every message");
  bare.close();
  const lat = (await p.evaluate(() => window.latencies)).sort((x, y) => x - y);
  bareLat.sort((x, y) => x - y);
  assert.equal(lat.length, 200);
  console.log(`user message to the agent's screen over ${lat.length} messages: p50 ${pct(lat, 0.5).toFixed(1)} ms, p99 ${pct(lat, 0.99).toFixed(1)} ms, max ${lat[lat.length - 1].toFixed(1)} ms`);
  console.log(`the same messages on a bare agent socket (baseline): p50 ${pct(bareLat, 0.5).toFixed(1)} ms, p99 ${pct(bareLat, 0.99).toFixed(1)} ms; screen / socket at p50: ${(pct(lat, 0.5) / Math.max(0.1, pct(bareLat, 0.5))).toFixed(2)}`);
});

test("a 5,000-message conversation scrolls smoothly", async () => {
  const user = await desk.user(channel);
  user.say("long chat");
  await p.locator(".chat-item", { hasText: visitorTag(user.id) }).click();
  // In batches, each acknowledged before the next: a socket that floods without reading its
  // answers is closed by the desk.
  for (let i = 0; i < 5000; i += 250) {
    for (let j = i; j < i + 250; j++) user.say(`line ${j} of a long conversation`);
    await until(() => user.frames.filter((f) => f.type === "ack").length >= i + 251, 30_000, "the batch acknowledged");
  }
  await p.locator(".msg", { hasText: "line 4999 of a long conversation" }).waitFor({ timeout: 120_000 });
  const result = await p.evaluate(async () => {
    const box = document.querySelector(".transcript");
    const frames = [];
    let last = performance.now();
    const rows = box.querySelectorAll(".msg").length;
    for (let i = 0; i < 120; i++) {
      box.scrollTop = Math.max(0, box.scrollTop - 400);
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      frames.push(now - last);
      last = now;
    }
    frames.sort((a, b) => a - b);
    return { rows, p50: frames[60], p95: frames[114], dom: box.querySelectorAll(".msg").length };
  });
  console.log(`5,000 messages: ${result.rows} rows in the DOM at the bottom, ${result.dom} after scrolling up 120 frames; frame time p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms`);
  assert.ok(result.rows < 300 && result.dom < 300, "only the rows near the view are in the DOM");
});

test("earlier messages than the transcript's latest 50 load on scrolling up", async () => {
  await p.locator("#status-select").selectOption("busy");
  await until(async () => (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === agent.id)?.status === "busy", 10_000, "busy");
  const user = await desk.user(channel);
  for (let i = 0; i < 80; i++) user.say(`early ${i}`);
  await until(() => user.frames.filter((f) => f.type === "ack").length >= 80, 10_000, "the user's messages stored");
  await p.locator("#status-select").selectOption("free");
  const item = p.locator(".chat-item", { hasText: visitorTag(user.id) });
  await item.click();
  await p.locator(".msg", { hasText: "early 79" }).waitFor();
  assert.equal(await p.locator(".msg", { hasText: /^early 0/ }).count(), 0, "only the latest came with the transcript");
  await p.getByRole("button", { name: "Load earlier messages" }).click();
  const box = p.locator(".transcript");
  await until(async () => {
    await box.evaluate((e) => (e.scrollTop = 0));
    return (await p.locator(".msg .text", { hasText: /^early 0$/ }).count()) === 1;
  }, 10_000, "the first message");
});
