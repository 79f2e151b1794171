// Data analysis: sessions the harness's users had served, rated and abandoned today show in
// the charts and the table with the figures the API answers for the same range and zone; an
// unknown time zone is refused under its field; the CSV export holds the rows.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { axe, browser, consolePage, Desk, page, shot, until } from "./harness.mjs";

let desk, b, support;
const command = (api, cmd) => api.post("/workstation/commands", cmd);
const today = new Date().toISOString().slice(0, 10);

/** A chat served by the agent behind `api` and rated `stars` (of 5) by its user. */
async function servedAndRated(api, agentId, channel, stars) {
  const user = await desk.user(channel);
  user.say("Hello, a question about my order");
  const rec = await until(async () => (await desk.keyApi.get("/records")).records.find((r) => r.userId === user.id), 10_000, "the record");
  await until(async () => (await desk.keyApi.get("/monitoring/agents")).agents.find((x) => x.agentId === agentId)?.offers > 0, 10_000, "the offer");
  await command(api, { type: "accept", sessionId: rec.sessionId });
  await command(api, { type: "send", sessionId: rec.sessionId, msgId: `r${rec.sessionId}`, body: { type: "text", text: "Here to help" } });
  await command(api, { type: "invite_rating", sessionId: rec.sessionId });
  const menu = await user.frame((f) => f.type === "message" && f.body.type === "custom" && JSON.parse(f.body.data).src === "9", 10_000, "the rating menu");
  const content = JSON.parse(menu.body.data).menuContent;
  const level = content.menu.find((m) => String(m.id) === String(stars)) ?? content.menu[stars - 1];
  user.desk(10, { menuSelected: { id: level.id, content: level.content, sessionId: content.sessionId } }, true);
  await until(async () => (await desk.keyApi.get(`/records/${rec.sessionId}`)).record.satisfaction, 10_000, "the rating");
  await command(api, { type: "end", sessionId: rec.sessionId });
  user.close();
}

before(async () => {
  desk = await Desk.start();
  support = await desk.group("Support");
  const agent = await desk.agent(1, [support.id]);
  const shop = await desk.website("Shop", support.id, { rating: true });
  const api = await desk.signIn(agent);
  await command(api, { type: "online" });
  await command(api, { type: "status", status: "free" });
  await servedAndRated(api, agent.id, shop, 5);
  await servedAndRated(api, agent.id, shop, 2);
  // A user gives up while nobody is free: an abandon.
  await command(api, { type: "status", status: "busy" });
  const gone = await desk.user(shop);
  gone.say("Anyone?");
  await until(async () => (await desk.keyApi.get("/monitoring/groups")).queueLength === 1, 10_000, "the user queued");
  gone.desk(27);
  await until(async () => (await desk.keyApi.get("/records")).records.find((r) => r.userId === gone.id)?.endedAtMs, 10_000, "the abandon");
  gone.close();
  b = await browser();
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

test("charts and table show the API's figures for the range and zone; CSV export", async () => {
  const p = await page(b);
  await consolePage(p, desk, "analysis");
  await p.getByLabel("First day").fill(today);
  await p.getByLabel("Last day").fill(today);
  await p.getByLabel("Time zone").fill("Mars/Olympus");
  await p.getByRole("button", { name: "Show" }).click();
  const refusal = p.locator(".field.invalid", { has: p.getByLabel("Time zone") }).locator(".error-text");
  await refusal.waitFor();
  assert.match(await refusal.textContent(), /Mars\/Olympus/);

  await p.getByLabel("Time zone").fill("UTC");
  await p.getByRole("button", { name: "Show" }).click();
  const api = await desk.keyApi.get(`/analysis/report?from=${today}&to=${today}&timeZone=UTC`);
  assert.equal(api.total.sessions, 3);
  assert.equal(api.total.abandoned, 1);
  await p.locator("[data-total]", { hasText: "3 sessions" }).waitFor();
  assert.equal(await p.getByLabel("First day").inputValue(), today, "the refused try kept what was typed");
  assert.equal(await p.locator("figure.chart").first().locator("[data-chart-table] tbody tr").count(), 1, "one day in the chart");
  await p.locator("[data-total]", { hasText: `abandon rate ${Math.round(api.total.abandonRate * 1000) / 10}%` }).waitFor();

  // Each chart's figures (its table for screen readers) are the API's numbers.
  const figure = (chart) => p.locator("figure.chart", { has: p.locator(`figcaption:text-is("${chart}")`) });
  const values = (chart) => figure(chart).locator("[data-value]").evaluateAll((l) => l.map((e) => Number(e.dataset.value)));
  assert.deepEqual(await values("Service level"), [api.days[0].serviceLevel]);
  assert.deepEqual(await values("Abandon rate"), [api.days[0].abandonRate]);
  assert.deepEqual(await values("Wait: average and 90th percentile"), [api.days[0].avgWaitMs, api.days[0].p90WaitMs]);
  assert.deepEqual(await values("Average handle time"), [api.days[0].avgHandleMs]);
  assert.deepEqual(await values("Satisfaction"), api.total.satisfaction.map((l) => l.sessions));
  assert.deepEqual(api.total.satisfaction.map((l) => l.value), [2, 5]);
  const group = api.skillGroups.find((g) => g.skillGroupId === support.id);
  assert.deepEqual(await values("Per skill group: Service level"), [group.serviceLevel]);
  assert.deepEqual(await values("Per skill group: Abandon rate"), [group.abandonRate]);
  // The canvases are drawn: each holds pixels of its series' colour, read from the design
  // tokens, and again in the dark theme's colours once the theme changes.
  const charts = ["Service level", "Wait: average and 90th percentile", "Average handle time", "Abandon rate", "Satisfaction", "Per skill group: Service level", "Per skill group: Average wait", "Per skill group: Abandon rate", "Per skill group: Average handle time"];
  const tokens = { "Service level": "--accent", "Wait: average and 90th percentile": "--st-arrange", "Average handle time": "--st-free", "Abandon rate": "--danger", "Satisfaction": "--st-rest", "Per skill group: Service level": "--accent", "Per skill group: Average wait": "--st-arrange", "Per skill group: Abandon rate": "--danger", "Per skill group: Average handle time": "--st-free" };
  const inked = (chart) =>
    figure(chart).locator("canvas").evaluate((c, name) => {
      const probe = document.createElement("canvas").getContext("2d");
      probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
      probe.fillRect(0, 0, 1, 1);
      const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
      const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i + 3] === 255 && Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 12) n++;
      return n;
    }, tokens[chart]);
  for (const chart of charts) assert.ok((await inked(chart)) > 8, `${chart}: the canvas shows its series (${await inked(chart)} pixels)`);
  await p.evaluate(() => (document.documentElement.dataset.theme = "dark"));
  for (const chart of charts) await until(async () => (await inked(chart)) > 8, 5_000, `${chart}: drawn in the dark theme's colours`);
  await p.evaluate(() => delete document.documentElement.dataset.theme);
  await until(async () => (await inked("Service level")) > 8, 5_000, "drawn in the light theme again");
  assert.deepEqual(await axe(p), []);
  await shot(p, "console-analysis");
  // A narrower window: every chart follows its card's width.
  const widths = () => p.locator("figure.chart .chart-plot").evaluateAll((l) => l.map((e) => [e.clientWidth, Math.round(e.querySelector("canvas").getBoundingClientRect().width)]));
  const before = await widths();
  await p.setViewportSize({ width: 900, height: 800 });
  await until(async () => (await widths()).every(([box, canvas], i) => box === canvas && box !== before[i][0]), 5_000, "the charts resized to their cards");
  await p.setViewportSize({ width: 1280, height: 800 });

  // The table: the day's row holds the same figures.
  await p.getByRole("button", { name: "Table" }).click();
  const row = p.locator(`.an-table tr[data-row="${today}"]`);
  await row.waitFor();
  const cells = await row.locator("td").allInnerTexts();
  assert.equal(cells[0], String(api.days[0].sessions));
  assert.equal(cells[1], String(api.days[0].answered));
  assert.equal(cells[2], String(api.days[0].abandoned));
  assert.equal(cells[8], String(api.days[0].rated));
  assert.equal(cells[9], String(api.days[0].avgRating));
  await p.locator(`.an-table tr[data-row="${support.id}"]`).waitFor();
  assert.deepEqual(await axe(p), []);

  // CSV, made in the browser from the same report.
  const [download] = await Promise.all([p.waitForEvent("download"), p.getByRole("button", { name: "Export CSV" }).click()]);
  const csv = fs.readFileSync(await download.path(), "utf8").trim().split("\n");
  assert.equal(csv[0].split(",")[0], "day");
  const support_row = csv.find((l) => l.startsWith(`${today},Support,`));
  assert.ok(support_row, csv.join("\n"));
  assert.equal(support_row.split(",")[2], String(api.rows.find((r) => r.skillGroupId === support.id).sessions));
  assert.deepEqual(p.problems, [], "no Content-Security-Policy refusal nor page error");
  await p.context().close();
});

test("analysis in Chinese", async () => {
  const p = await page(b, { locale: "zh-CN" });
  await consolePage(p, desk, "analysis");
  await p.getByRole("heading", { name: "数据分析" }).waitFor();
  await p.getByText("服务水平").first().waitFor();
  await p.locator("figure.chart canvas").first().waitFor();
  assert.deepEqual(await axe(p), []);
  await shot(p, "console-analysis-zh");
  assert.deepEqual(p.problems, []);
  await p.context().close();
});
