// The "done when", as one person does it in the browser: the first administrator
// signs in and sets up a whole desk (skill groups, a role, agents by hand and by CSV, members
// with priorities, settings, quick replies, a satisfaction configuration, a flow drawn on the
// canvas with the mouse, an in-app and a website channel bound to it); a website visitor goes
// through the flow (menu, form, an interface call to a small JSON server on 127.0.0.1, the
// condition) to the queue while the administrator watches monitoring; an agent signs in on
// the workstation, takes the chat, they talk, it ends, the visitor rates; the administrator
// finds the chat in service records and in data analysis. Nothing is set up through the API:
// after each step the API (an API key) only checks that what the screen says was made is so.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { axe, browser, calm, consolePage, Desk, openSection, page, PASSWORD, shot, until } from "./harness.mjs";

let desk;
let b;
let crm;
/** The bodies the interface call posted, as the CRM received them. */
const calls = [];

before(async () => {
  // The CRM the flow's interface call asks: a customer's level from the phone number.
  crm = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const got = JSON.parse(body || "{}");
      calls.push({ method: req.method, url: req.url, body: got });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ level: got.phone === "13800000000" ? "vip" : "normal" }));
    });
  });
  await new Promise((r) => crm.listen(0, "127.0.0.1", r));
  // Flows call public addresses only unless the operator allows an internal one: this desk's
  // operator allows its CRM on the loopback.
  desk = await Desk.start({ config: ["[outbound]", 'allow = ["127.0.0.1"]'] });
  b = await browser();
});

after(async () => {
  await b?.close();
  await desk?.stop();
  crm?.close();
});

const api = () => desk.keyApi;
const today = new Date().toISOString().slice(0, 10);

/** axe on the screen as it stands: no serious or critical violation. */
async function clean(p, where) {
  assert.deepEqual(await axe(p), [], `axe on ${where}`);
}

/** The centre of an element on the screen. */
async function centre(locator) {
  const box = await locator.boundingBox();
  assert.ok(box, "the element is on the screen");
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** A mouse drag, in steps, as a hand does it. */
async function drag(p, from, to, steps = 12) {
  await p.mouse.move(from.x, from.y);
  await p.mouse.down();
  await p.mouse.move(to.x, to.y, { steps });
  await p.mouse.up();
}

test("the first administrator sets up a desk in the console; a visitor is served through it and found in records and analysis", async () => {
  try {
    await story();
  } catch (e) {
    // What the screens showed when a step failed, for whoever reads the failure.
    if (process.env.HELPLINE_DEBUG_SHOTS) for (const [i, q] of b.contexts().flatMap((c) => c.pages()).entries()) await q.screenshot({ path: `${process.env.HELPLINE_DEBUG_SHOTS}/desk-${i}.png` }).catch(() => {});
    for (const q of b.contexts().flatMap((c) => c.pages())) if (q.problems?.length) console.log("page problems:", q.problems);
    throw e;
  }
});

async function story() {
  const crmUrl = `http://127.0.0.1:${crm.address().port}/crm`;
  const p = await page(b);
  // Signed in at / as the first administrator, who picks the console.
  await consolePage(p, desk, null);
  await clean(p, "the console's home");
  const signedOut = await desk.adminApi.raw("GET", "/agents");
  assert.equal(signedOut.status, 401, "the browser's sign-in ended the harness's token");

  // ── Two skill groups ──────────────────────────────────────────────────────────────────
  await openSection(p, "skill-groups");
  const dialog = p.getByRole("dialog");
  for (const [name, limit] of [["Support", "5"], ["VIP", "3"]]) {
    await p.getByRole("button", { name: "Add skill group" }).click();
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByLabel("Reception limit").fill(limit);
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    await p.locator("table.groups-table tbody tr", { hasText: name }).waitFor();
  }
  const groups = Object.fromEntries((await api().get("/skill-groups")).map((g) => [g.name, g]));
  assert.equal(groups.Support.receptionLimit, 5);
  assert.equal(groups.VIP.receptionLimit, 3);
  await clean(p, "skill groups");

  // ── A role: monitoring and data analysis over VIP ────────────────────────────────────
  await openSection(p, "roles");
  await p.getByRole("button", { name: "Add role" }).click();
  await dialog.getByLabel("Name").fill("Team leads");
  await dialog.getByLabel("Real-time monitoring", { exact: true }).check();
  await dialog.getByLabel("Data analysis", { exact: true }).check();
  await dialog.getByRole("radiogroup", { name: "Skill groups of Data analysis" }).getByLabel("Chosen skill groups").check();
  await dialog.getByLabel("Data analysis: VIP").check();
  await clean(p, "the role dialog");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  const role = (await api().get("/roles")).find((r) => r.name === "Team leads");
  assert.deepEqual(role.scopes.map((s) => [s.module, s.groups]).sort(), [["data_analysis", [groups.VIP.id]], ["monitoring", null]]);

  // ── Agents: one by hand, one by CSV (with the new role) ─────────────────────────────
  await openSection(p, "agents");
  await p.getByRole("button", { name: "Add agent" }).click();
  await dialog.getByLabel("Name", { exact: true }).fill("Ann Lee");
  await dialog.getByLabel("Nickname").fill("Ann");
  await dialog.getByLabel("Staff number").fill("a-1");
  await dialog.getByLabel("Email").fill("ann@example.com");
  await dialog.getByLabel("Role").selectOption({ label: "Agent" });
  await dialog.getByLabel("Support").check();
  await dialog.getByRole("button", { name: "Save" }).click();
  const secret = p.getByRole("dialog", { name: "First password of Ann Lee" });
  await secret.waitFor();
  const annFirst = await secret.getByLabel("Password").inputValue();
  await clean(p, "the first password");
  await secret.getByRole("button", { name: "Close" }).last().click();
  const [ann] = await api().get(`/agents?q=${encodeURIComponent("ann@example.com")}`);
  assert.equal(ann.name, "Ann Lee");
  assert.equal(ann.staffNo, "a-1");
  assert.deepEqual(ann.skillGroups.map((g) => g.name), ["Support"]);

  await p.getByRole("button", { name: "Batch add by CSV" }).click();
  const csv = ["name,nickname,staff_no,email,role,skill_groups", "Bo Chen,Bo,b-1,bo@example.com,Team leads,Support", ""].join("\n");
  await p.getByLabel("CSV file").setInputFiles({ name: "agents.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  const imported = p.getByRole("dialog", { name: "Imported agents and their first passwords" });
  await imported.waitFor();
  assert.equal(await imported.locator("tbody tr").count(), 1);
  await imported.getByRole("button", { name: "Close" }).first().click();
  const [bo] = await api().get(`/agents?q=${encodeURIComponent("bo@example.com")}`);
  assert.equal(bo.roleId, role.id, "the CSV's role");
  assert.deepEqual(bo.skillGroups.map((g) => g.name), ["Support"]);
  await p.locator("table.agents-table tbody tr", { hasText: "Bo Chen" }).waitFor();
  await clean(p, "agents");
  await calm(p);
  await shot(p, "console-desk-agents");

  // ── VIP's members with their priorities: Ann first (1), Bo after (4) ─────────────────
  await openSection(p, "skill-groups");
  await p.locator("table.groups-table tbody tr", { hasText: "VIP" }).getByRole("link", { name: "Members" }).click();
  await p.getByRole("heading", { name: "Members of VIP" }).waitFor();
  await p.getByLabel("Agent", { exact: true }).selectOption({ label: "Ann Lee (a-1)" });
  await p.getByLabel("Priority", { exact: true }).selectOption("1");
  await p.getByRole("button", { name: "Add member" }).click();
  await p.getByLabel("Priority of Ann").waitFor();
  await p.getByLabel("Agent", { exact: true }).selectOption({ label: "Bo Chen (b-1)" });
  await p.getByLabel("Priority", { exact: true }).selectOption("4");
  await p.getByRole("button", { name: "Add member" }).click();
  await p.getByLabel("Priority of Bo").waitFor();
  const vipMembers = (await api().get(`/skill-groups/${groups.VIP.id}`)).members;
  assert.deepEqual(vipMembers.map((m) => [m.agentId, m.priority]).sort(), [[ann.id, 1], [bo.id, 4]].sort());
  await clean(p, "VIP's members");

  // ── Settings: agents come in not ready, priority in the group, offers to accept ──────
  await openSection(p, "settings");
  const form = p.getByRole("form", { name: "Settings" });
  await form.getByLabel("Accept timeout (seconds)").waitFor();
  await form.getByLabel(/^Not ready:/).check();
  await form.getByLabel(/^Priority in the skill group/).check();
  await form.getByLabel(/^Automatic reception/).setChecked(false);
  await form.getByLabel("Accept timeout (seconds)").fill("120");
  await form.getByRole("button", { name: "Save settings" }).click();
  await p.getByText("Settings saved.").waitFor();
  const settings = await api().get("/settings");
  assert.equal(settings.loginStatus, "not_ready");
  assert.equal(settings.routing.basic, "agent_priority");
  assert.equal(settings.reception.autoReception, false);
  assert.equal(settings.reception.acceptTimeoutSecs, 120);
  await clean(p, "settings");

  // ── A quick reply ────────────────────────────────────────────────────────────────────
  await openSection(p, "quick-replies");
  await p.getByRole("button", { name: "Add quick reply" }).click();
  await dialog.getByLabel("Group").fill("Orders");
  await dialog.getByLabel("Title").fill("Replacement");
  await dialog.getByLabel("Content").fill("We will send you a new kettle today, free of charge.");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  assert.ok((await api().get("/quick-replies")).some((r) => r.group === "Orders" && r.title === "Replacement"));
  await clean(p, "quick replies");

  // ── A satisfaction configuration: five stars, asked when the chat ends ───────────────
  await openSection(p, "satisfaction");
  await p.getByRole("button", { name: "Add configuration" }).click();
  await dialog.getByLabel("Name").fill("After chat");
  await dialog.getByLabel("Invitation text").fill("How did we do?");
  await dialog.getByLabel("Thank-you text").fill("Thank you for your rating");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  const rating = (await api().get("/satisfaction-configs")).find((c) => c.name === "After chat");
  assert.equal(rating.kind, "star");
  assert.equal(rating.levels.length, 5);
  assert.equal(rating.sendRules.autoOnEnd, true);
  await clean(p, "satisfaction");

  // ── The flow, drawn on the canvas ────────────────────────────────────────────────────
  await openSection(p, "flows");
  await p.getByRole("button", { name: "New flow" }).click();
  await p.getByLabel("Flow name").fill("Reception");
  await p.getByRole("button", { name: "Create" }).click();
  await p.waitForURL(/#\/flows\/\d+$/);
  const flowId = Number(/#\/flows\/(\d+)$/.exec(p.url())[1]);
  const node = (id) => p.locator(`.flow-svg [data-node="${id}"]`);
  const outPort = (id, port) => node(id).locator(`[data-port="${port}"] .port-out`);
  await node("start").waitFor();
  await clean(p, "the new flow");
  const svg = await p.locator(".flow-svg").boundingBox();
  // Room for eight boxes: zoom out twice, then pan start to the top left by its background.
  await p.getByRole("button", { name: "Zoom out" }).click();
  await p.getByRole("button", { name: "Zoom out" }).click();
  const start = await node("start").locator(".fnode-box").boundingBox();
  await drag(p, { x: svg.x + svg.width - 20, y: svg.y + svg.height - 20 }, { x: svg.x + svg.width - 20 - (start.x - svg.x - 20), y: svg.y + svg.height - 20 - (start.y - svg.y - 30) });
  const k = Number(/scale\(([-\d.e]+)\)/.exec(await p.locator(".flow-svg > g").getAttribute("transform"))[1]);
  const top = (await node("start").locator(".fnode-box").boundingBox()).y;
  assert.ok(Math.abs(top - (svg.y + 30)) < 3, `start panned to the top (${top})`);
  // Each module dragged from the palette to its place: three columns, two rows below start.
  const columns = [svg.x + 20, svg.x + 20 + 270 * k, svg.x + 20 + 540 * k];
  const rows = [top + 190 * k, top + 420 * k];
  const places = [
    ["branch", columns[0], rows[0]], ["collect", columns[1], rows[0]], ["interface_call", columns[2], rows[0]],
    ["condition", columns[0], rows[1]], ["send_message", columns[1], rows[1]], ["transfer_to_agent", columns[2], rows[1]],
  ];
  for (const [module, left, y] of places) {
    // A drop puts the box's top centre (20 px down) under the pointer.
    await drag(p, await centre(p.locator(`.palette-item[data-module="${module}"]`)), { x: left + 100 * k, y: y + 20 * k }, 15);
    await node(`${module}_1`).waitFor();
  }
  assert.equal(await p.locator(".flow-svg .fnode").count(), 8);
  // End moved by its title to the bottom, where the flow finishes.
  const endAt = await node("end").locator(".fnode-box").boundingBox();
  await drag(p, { x: endAt.x + 30, y: endAt.y + 10 }, { x: columns[2] + 30, y: top + 620 * k + 10 });
  await until(async () => Math.abs((await node("end").locator(".fnode-box").boundingBox()).y - (top + 620 * k)) < 3, 5000, "end moved");

  // Each node's fields in its panel, opened by a click on the node.
  const panel = p.locator(".flow-panel");
  const pick = async (id) => {
    await node(id).locator(".fnode-title").click();
    await panel.locator("h2", { hasText: id }).or(panel.getByLabel("Name on the canvas")).first().waitFor();
  };
  const fill = (label, value) => panel.getByLabel(label, { exact: true }).fill(value);
  await pick("branch_1");
  await fill("Name on the canvas", "Main menu");
  await fill("Prompt", "How can we help?");
  await fill("Prompt on wrong input", "Please pick one of the options");
  await panel.getByLabel("Option text").nth(0).fill("Buy");
  await panel.getByLabel("Option text").nth(1).fill("Talk to someone");
  await pick("collect_1");
  await fill("Name on the canvas", "Phone");
  await fill("Question", "Your phone number?");
  await fill("Variable", "phone");
  await pick("interface_call_1");
  await fill("Name on the canvas", "CRM lookup");
  await fill("URL", crmUrl);
  await panel.getByRole("button", { name: "Add parameter" }).click();
  await fill("Name", "phone");
  await panel.getByLabel("Value", { exact: true }).fill("${phone}");
  await panel.getByRole("button", { name: "Add field" }).click();
  await fill("Response field", "level");
  await fill("Variable", "level");
  await fill("Default value", "normal");
  await pick("condition_1");
  await fill("Name on the canvas", "VIP?");
  await fill("Variable", "level");
  await panel.getByLabel("Comparison").selectOption("eq");
  await fill("Value", "vip");
  await fill("Port", "vip");
  await pick("send_message_1");
  await fill("Name on the canvas", "Call back");
  await fill("Message text", "Thank you: we will call you back on ${phone}.");
  await pick("transfer_to_agent_1");
  await fill("Name on the canvas", "To VIP");
  await panel.getByLabel("Skill group").selectOption({ label: "VIP" });
  await fill("Queue message", "You are number ${WaitNo} in the queue");

  // The links, port to node with the mouse (start's link to end is replaced).
  const links = [
    ["start", "next", "branch_1"], ["branch_1", "option1", "collect_1"], ["branch_1", "option2", "transfer_to_agent_1"],
    ["collect_1", "next", "interface_call_1"], ["interface_call_1", "next", "condition_1"], ["condition_1", "vip", "transfer_to_agent_1"],
    ["condition_1", "default", "send_message_1"], ["send_message_1", "next", "end"], ["transfer_to_agent_1", "next", "end"],
  ];
  for (const [from, port, to] of links) {
    const before = await p.locator(".fedge").count();
    await drag(p, await centre(outPort(from, port)), await centre(node(to).locator(".fnode-kind")));
    const want = from === "start" ? before : before + 1;
    await until(async () => (await p.locator(".fedge").count()) === want, 5000, `the link ${from}.${port} → ${to}`);
  }
  // The whole flow in view, the call's fields open, as drawn.
  await p.getByRole("button", { name: "Fit" }).click();
  await pick("interface_call_1");
  await clean(p, "the flow editor");
  await p.locator(".flow-tools").getByRole("button", { name: "Save" }).click();
  await p.getByText("Saved as version 2.").waitFor();
  assert.equal(await p.locator(".fnode.faulty").count(), 0);
  await calm(p);
  await shot(p, "console-desk-flow");
  const flow = await api().get(`/flows/${flowId}`);
  assert.equal(flow.version, 2);
  assert.deepEqual(
    flow.graph.edges.map((e) => `${e.from}.${e.port}>${e.to}`).sort(),
    links.map(([from, port, to]) => `${from}.${port}>${to}`).sort(),
  );
  const mod = (id) => flow.graph.nodes.find((n) => n.id === id).module;
  assert.deepEqual(mod("branch_1").options.map((o) => o.content), ["Buy", "Talk to someone"]);
  assert.equal(mod("collect_1").variable, "phone");
  assert.equal(mod("interface_call_1").url, crmUrl);
  assert.deepEqual(mod("interface_call_1").params, [{ name: "phone", value: "${phone}" }]);
  assert.deepEqual(mod("interface_call_1").response, [{ field: "level", variable: "level", default: "normal" }]);
  assert.deepEqual(mod("condition_1").branches, [{ port: "vip", combine: "all", conditions: [{ variable: "level", op: "eq", value: "vip" }] }]);
  assert.equal(mod("transfer_to_agent_1").group, groups.VIP.id);

  // ── The channels: an in-app virtual number and a website, bound to the flow ────────
  await p.getByRole("link", { name: "← Flows" }).click();
  await openSection(p, "channels");
  const channels = [
    ["App help", "In-app virtual number", (q) => q.getByLabel("Virtual number user id").fill("cs-001")],
    ["Web shop", "Website", async () => {}],
  ];
  for (const [name, type, more] of channels) {
    await p.getByRole("link", { name: "Add channel" }).click();
    await p.getByRole("heading", { name: "New channel" }).waitFor();
    await p.getByLabel("Name").fill(name);
    await p.getByLabel(type).check();
    await more(p);
    await p.getByLabel("Session service flow").selectOption({ label: "Reception" });
    await p.getByLabel("Skill group").selectOption({ label: "Support" });
    await p.getByLabel("Satisfaction configuration").selectOption({ label: "After chat" });
    await p.getByRole("button", { name: "Save" }).click();
    await p.getByRole("heading", { name }).waitFor();
    await clean(p, `the channel ${name}`);
    if (type === "Website") break;
    await openSection(p, "channels");
  }
  const byName = Object.fromEntries((await api().get("/channels")).map((c) => [c.name, c]));
  assert.deepEqual(byName["App help"].kind.type, "in_app");
  assert.equal(byName["App help"].kind.userId, "cs-001");
  const site = byName["Web shop"];
  assert.equal(site.kind.type, "website");
  for (const c of [byName["App help"], site]) {
    assert.equal(c.flow, flowId, `${c.name}'s flow`);
    assert.equal(c.skillGroup, groups.Support.id);
    assert.equal(c.satisfaction, rating.id);
  }
  assert.equal(await p.getByLabel("Embed script").inputValue(), site.access.embedScript);
  assert.equal(await p.getByLabel("Chat page link").inputValue(), site.access.link);
  await calm(p);
  await shot(p, "console-desk-channel");

  // ── The agent signs in on the workstation (first password changed) ─────────────────
  const w = await page(b);
  await w.goto(`${desk.base}/`);
  await w.getByLabel("Email").fill("ann@example.com");
  await w.getByLabel("Password").fill(annFirst);
  await w.getByRole("button", { name: "Sign in" }).click();
  await w.getByRole("heading", { name: "Choose a new password" }).waitFor();
  await w.getByLabel("New password", { exact: true }).fill(PASSWORD);
  await w.getByLabel("Repeat the new password").fill(PASSWORD);
  await w.getByRole("button", { name: "Change password" }).click();
  await w.waitForURL(/\/workstation$/);
  await w.locator("#status-select").waitFor();
  // The setting: an agent comes in not ready.
  await until(async () => (await api().get("/monitoring/agents")).agents.find((a) => a.agentId === ann.id)?.status === "not_ready", 10_000, "Ann not ready");
  await clean(w, "the workstation");

  // ── Monitoring, while a visitor goes through the flow to the queue ─────────────────
  await openSection(p, "monitoring");
  const vipRow = p.locator(`tr[data-group="${groups.VIP.id}"]`);
  await until(async () => (await vipRow.locator('[data-figure="queue"]').textContent()) === "0", 10_000, "VIP's empty queue");
  await clean(p, "monitoring");
  const user = await desk.user(site);
  const desks = (src) => (f) => f.type === "message" && f.body?.type === "custom" && JSON.parse(f.body.data).src === String(src);
  user.say("Hello");
  const menu = await user.frame(desks(15), 10_000, "the menu");
  assert.match(menu.body.data, /How can we help\?/);
  user.say("Buy");
  const ask = await user.frame(desks(21), 10_000, "the form");
  assert.match(ask.body.data, /Your phone number\?/);
  user.say("13800000000");
  await user.frame((f) => f.type === "message" && f.body?.type === "text" && f.body.text === "You are number 0 in the queue", 10_000, "the queue message");
  assert.deepEqual(calls.map((c) => [c.method, c.url, c.body.phone]), [["POST", "/crm", "13800000000"]], "the CRM asked once with the form's answer");
  const waiting = p.locator("section[aria-labelledby=mon-waiting] li[data-session]").first();
  await waiting.waitFor({ timeout: 10_000 });
  const session = Number(await waiting.getAttribute("data-session"));
  await until(async () => (await vipRow.locator('[data-figure="queue"]').textContent()) === "1", 10_000, "VIP's queue at 1");
  const queued = (await api().get("/monitoring/queue")).groups.find((g) => g.skillGroupId === groups.VIP.id);
  assert.equal(queued.sessions[0].sessionId, session, "queued in VIP: the call answered vip and the condition held");
  // Why it waits: Ann is not ready, Bo is offline.
  await waiting.locator(`li[data-agent="${ann.id}"][data-reason="not_free"]`).waitFor();
  await waiting.locator(`li[data-agent="${bo.id}"][data-reason="offline"]`).waitFor();
  await clean(p, "monitoring with a waiting session");
  await shot(p, "console-desk-monitoring-queue");

  // Ann goes free: the offer, and why her.
  await w.locator("#status-select").selectOption("free");
  const offer = p.locator(`li[data-offer="${session}"]`);
  await offer.waitFor({ timeout: 10_000 });
  await offer.getByText(`Session ${session} offered to Ann`).waitFor();
  await offer.getByText(/Chosen because:/).waitFor();
  const decided = (await api().get("/monitoring/queue")).offers.find((o) => o.sessionId === session);
  assert.equal(decided.agentId, ann.id);
  await clean(p, "monitoring with an offer");
  await shot(p, "console-desk-monitoring-offer");

  // ── The chat: accepted, both sides talk, the agent uses the quick reply, it ends ────
  await w.locator(".offer").getByRole("button", { name: "Accept" }).click();
  await user.frame((f) => f.type === "message" && f.body?.type === "custom" && f.body.data.includes("inSeat"), 10_000, "inSeat");
  await w.locator("#composer-input").fill("Hello, this is Ann. How can I help?");
  await w.keyboard.press("Enter");
  await user.frame((f) => f.type === "message" && f.body?.type === "text" && f.body.text === "Hello, this is Ann. How can I help?", 10_000, "the agent's words");
  user.say("My new kettle leaks from the bottom");
  await w.locator(".msg.from-user", { hasText: "kettle leaks" }).waitFor();
  await w.locator(".qr-item", { hasText: "We will send you a new kettle today" }).getByRole("button", { name: "Send" }).click();
  await user.frame((f) => f.type === "message" && f.body?.type === "text" && f.body.text === "We will send you a new kettle today, free of charge.", 10_000, "the quick reply");
  await clean(w, "the chat on the workstation");
  await shot(w, "console-desk-workstation-chat");
  await w.getByRole("button", { name: "End", exact: true }).click();
  await user.frame(desks(19), 10_000, "the end");
  // The rating asked at the end (the configuration's rule), and given.
  const invitation = await user.frame(desks(9), 10_000, "the rating invitation");
  const content = JSON.parse(invitation.body.data).menuContent;
  const best = content.menu[content.menu.length - 1];
  user.desk(10, { menuSelected: { id: best.id, content: best.content, sessionId: content.sessionId } }, true);
  const record = await until(async () => (await api().get(`/records/${session}`)).record.satisfaction && (await api().get(`/records/${session}`)).record, 10_000, "the rating");
  assert.equal(record.satisfaction.value, 5);
  assert.equal(record.closeBy, "seat");
  user.close();
  await w.context().close();

  // ── Service records: the keyword, the transcript, the timeline ──────────────────────
  await openSection(p, "records");
  await p.getByLabel("Keyword").fill("kettle");
  await p.getByRole("button", { name: "Search" }).click();
  const found = p.locator(".rec-table tbody tr");
  await until(async () => (await found.count()) === 1 && Number(await found.first().getAttribute("data-session")) === session, 10_000, "the chat found by its keyword");
  assert.deepEqual((await api().get("/records?keyword=kettle")).records.map((r) => r.sessionId), [session]);
  await clean(p, "records");
  await found.first().getByRole("link").click();
  const hits = p.locator(".rec-transcript li[data-hit]");
  const detail = await api().get(`/records/${session}?q=kettle`);
  await until(async () => (await hits.count()) === detail.matches.length, 10_000, "the keyword's messages marked");
  assert.equal(detail.matches.length, 2, "the user's line and the quick reply");
  assert.deepEqual(await hits.evaluateAll((l) => l.map((e) => Number(e.dataset.seq))), detail.matches);
  // The flow's menu and form read in the transcript as the user saw them.
  await p.locator(".rec-transcript li.from-desk", { hasText: "How can we help? · Buy · Talk to someone" }).waitFor();
  await p.locator(".rec-transcript li.from-desk", { hasText: "Your phone number?" }).waitFor();
  const tl = p.locator(".timeline");
  // Names, not ids: the channel the visitor wrote to, the flow and the node by their labels.
  await tl.locator('li[data-kind="created"]', { hasText: "wrote to channel Web shop." }).waitFor();
  await tl.locator('li[data-kind="flow_step"]', { hasText: "Service flow Reception (version 2) is at node Main menu." }).waitFor();
  await tl.locator('li[data-kind="queued"]', { hasText: "Queued in VIP." }).waitFor();
  await tl.locator('li[data-kind="offered"]', { hasText: /Offered to Ann/ }).waitFor();
  await tl.locator('li[data-kind="accepted"]', { hasText: "Ann accepted." }).waitFor();
  await tl.locator('li[data-kind="ended"]', { hasText: "Ended by the agent." }).waitFor();
  const kinds = (await api().get(`/records/${session}/timeline`)).entries.map((e) => e.kind).filter((x) => !x.endsWith("_message"));
  assert.deepEqual(await tl.locator("li").evaluateAll((l) => l.map((e) => e.dataset.kind)), kinds);
  await clean(p, "the record");
  await calm(p);
  await shot(p, "console-desk-record");

  // ── Data analysis: today's figures include the chat ─────────────────────────────────
  await openSection(p, "analysis");
  await p.getByLabel("First day").fill(today);
  await p.getByLabel("Last day").fill(today);
  await p.getByLabel("Time zone").fill("UTC");
  await p.getByRole("button", { name: "Show" }).click();
  const report = await api().get(`/analysis/report?from=${today}&to=${today}&timeZone=UTC`);
  assert.equal(report.total.sessions, 1);
  assert.equal(report.total.answered, 1);
  assert.deepEqual(report.total.satisfaction.filter((l) => l.sessions > 0).map((l) => [l.value, l.sessions]), [[5, 1]]);
  await p.locator("[data-total]", { hasText: "Over the range: 1 session," }).waitFor();
  const values = (chart) => p.locator("figure.chart", { has: p.locator(`figcaption:text-is("${chart}")`) }).locator("[data-value]").evaluateAll((l) => l.map((e) => Number(e.dataset.value)));
  assert.deepEqual(await values("Satisfaction"), report.total.satisfaction.map((l) => l.sessions));
  assert.deepEqual(await values("Service level"), [report.days[0].serviceLevel]);
  const vipFigures = report.skillGroups.find((g) => g.skillGroupId === groups.VIP.id);
  assert.equal(vipFigures.sessions, 1);
  assert.deepEqual(await values("Per skill group: Service level"), report.skillGroups.map((g) => g.serviceLevel));
  await clean(p, "analysis");
  await calm(p);
  await shot(p, "console-desk-analysis");
  assert.deepEqual(p.problems, []);
  await p.context().close();
}
