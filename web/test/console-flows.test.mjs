// The flow editor, driven as an administrator drives it: modules dragged from the palette
// onto the canvas, ports linked by dragging, a refused save marked on the node and at the
// field, the fix saved and loaded back unchanged; the keyboard (move, delete, undo/redo,
// connect), versions restored, a flow written through the API laid out without overlaps,
// the whole "done when" flow, a 200-node flow's drag measured, and the FAQ bot's entries.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, consolePage, Desk, page, shot, until } from "./harness.mjs";

let desk;
let b;
let group;
before(async () => {
  desk = await Desk.start();
  b = await browser();
  group = await desk.keyApi.post("/skill-groups", { name: "Presales", receptionLimit: 5 });
});
after(async () => {
  await b?.close();
  await desk?.stop();
});

const api = () => desk.keyApi;

/** A flow made through the API: start → (middle) → end, with or without positions. */
async function apiFlow(name, middle = [], { positions = true } = {}) {
  const ids = ["start", ...middle.map((m) => m.id), "end"];
  const nodes = [
    { id: "start", label: "", module: { type: "start" } },
    ...middle,
    { id: "end", label: "", module: { type: "end" } },
  ].map((n, i) => (positions ? { ...n, position: { x: 40 + i * 260, y: 80 } } : n));
  const edges = ids.slice(0, -1).map((id, i) => ({ from: id, port: "next", to: ids[i + 1] }));
  return api().post("/flows", { name, graph: { nodes, edges } });
}

const message = (id, text) => ({ id, label: "", module: { type: "send_message", text } });

/** The centre of an element on the screen. */
async function centre(locator) {
  const box = await locator.boundingBox();
  assert.ok(box, "the element is on the screen");
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** A mouse drag from one point to another, in steps, as a hand does it. */
async function drag(p, from, to, steps = 12) {
  await p.mouse.move(from.x, from.y);
  await p.mouse.down();
  await p.mouse.move(to.x, to.y, { steps });
  await p.mouse.up();
}

const node = (p, id) => p.locator(`.flow-svg [data-node="${id}"]`);
const outPort = (p, id, port) => node(p, id).locator(`[data-port="${port}"] .port-out`);

/** Opens a flow's editor and waits for its canvas. */
async function openFlow(p, id, { signIn = true } = {}) {
  if (signIn) await consolePage(p, desk, `flows/${id}`);
  else await p.evaluate((i) => (location.hash = `#/flows/${i}`), id);
  await p.locator(".flow-svg [data-node=start]").waitFor();
}

async function save(p) {
  await p.locator(".flow-tools").getByRole("button", { name: /^(Save|保存)$/ }).click();
}

test("a module dragged in and linked with the mouse; the refusal marked on the node and at the field; fixed, saved and loaded back unchanged", async () => {
  const p = await page(b);
  await consolePage(p, desk, "flows");
  await p.getByRole("button", { name: "New flow" }).click();
  await p.getByLabel("Flow name").fill("Welcome");
  await p.getByRole("button", { name: "Create" }).click();
  await p.waitForURL(/#\/flows\/\d+$/);
  const id = Number(/#\/flows\/(\d+)$/.exec(p.url())[1]);
  await node(p, "start").waitFor();
  assert.equal((await api().get(`/flows/${id}`)).graph.edges.length, 1, "a new flow starts with start linked to end");

  // Drag "Send message" from the palette to the canvas, below start.
  const canvas = await p.locator(".flow-svg").boundingBox();
  await drag(p, await centre(p.locator('.palette-item[data-module="send_message"]')), { x: canvas.x + canvas.width / 2, y: canvas.y + canvas.height - 120 }, 15);
  await node(p, "send_message_1").waitFor();
  // Link start's next to it (replacing start → end), and its next to end.
  await drag(p, await centre(outPort(p, "start", "next")), await centre(node(p, "send_message_1").locator(".fnode-box")));
  await drag(p, await centre(outPort(p, "send_message_1", "next")), await centre(node(p, "end").locator(".fnode-box")));
  await until(async () => (await p.locator(".fedge").count()) === 2, 5000, "two links");

  // The text is empty: the server refuses, the node is marked and its field says why.
  await save(p);
  await p.locator(".flow-refusal").waitFor();
  assert.match(await p.locator(".flow-refusal").innerText(), /nothing was saved/);
  await node(p, "send_message_1").and(p.locator(".faulty")).waitFor();
  assert.equal(await node(p, "send_message_1").locator(".fnode-mark text").textContent(), "1");
  const text = p.locator(".flow-panel").getByLabel("Message text", { exact: true });
  assert.equal(await text.getAttribute("aria-invalid"), "true");
  assert.match(await p.locator(".flow-panel .field.invalid .error-text").innerText(), /must not be empty/);
  await until(() => p.evaluate(() => document.activeElement?.tagName === "TEXTAREA"), 5000, "the field at fault focused");
  assert.equal((await api().get(`/flows/${id}`)).version, 1, "nothing was saved");
  assert.deepEqual(await axe(p), []);
  await shot(p, "console-flow-errors");

  // Fix it, with a system parameter from the picker, and save.
  await text.fill("Hello, you are ");
  await p.locator(".flow-panel").getByLabel("Insert a parameter into Message text").selectOption("UserId");
  await until(async () => (await text.inputValue()) === "Hello, you are ${UserId}", 5000, "the parameter inserted");
  await save(p);
  await p.getByText("Saved as version 2.").waitFor();
  assert.equal(await p.locator(".fnode.faulty").count(), 0);
  const v2 = await api().get(`/flows/${id}`);
  assert.equal(v2.version, 2);
  const msg = v2.graph.nodes.find((n) => n.id === "send_message_1");
  assert.equal(msg.module.text, "Hello, you are ${UserId}");
  assert.ok(Number.isInteger(msg.position.x) && Number.isInteger(msg.position.y), "positions in whole pixels");
  assert.deepEqual(v2.graph.edges.map((e) => `${e.from}.${e.port}>${e.to}`).sort(), ["send_message_1.next>end", "start.next>send_message_1"]);

  // Reload: the flow loads and saves back unchanged.
  await p.reload();
  await node(p, "send_message_1").waitFor();
  await save(p);
  await p.getByText("Saved as version 3.").waitFor();
  const v3 = await api().get(`/flows/${id}`);
  assert.deepEqual(v3.graph, v2.graph);
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test("the keyboard: Tab to a node, arrows move it, Delete removes nodes and links, undo and redo, connect from the panel", async () => {
  const f = await apiFlow("Keys", [message("hello", "Hello")]);
  const p = await page(b);
  await openFlow(p, f.id);
  const transform = () => node(p, "hello").getAttribute("transform");
  // Tab from the canvas reaches the nodes in order.
  await node(p, "start").focus();
  await p.keyboard.press("Tab");
  assert.equal(await p.evaluate(() => document.activeElement?.getAttribute("data-node")), "hello");
  await p.locator(".flow-panel h2", { hasText: "hello" }).waitFor();
  await p.keyboard.press("ArrowRight");
  await p.keyboard.press("ArrowRight");
  await p.keyboard.press("ArrowDown");
  assert.equal(await transform(), "translate(320,90)");
  // Undo is one step for the run of arrows... then delete the node.
  await p.keyboard.press("Delete");
  await until(async () => (await node(p, "hello").count()) === 0, 5000, "the node deleted");
  assert.equal(await p.locator(".fedge").count(), 0, "its links went with it");
  await p.keyboard.press("Control+z");
  await node(p, "hello").waitFor();
  assert.equal(await p.locator(".fedge").count(), 2);
  assert.equal(await transform(), "translate(320,90)");
  await p.keyboard.press("Control+Shift+z");
  await until(async () => (await node(p, "hello").count()) === 0, 5000, "redone");
  await p.getByRole("button", { name: "Undo", exact: true }).click();
  await node(p, "hello").waitFor();
  await p.getByRole("button", { name: "Undo", exact: true }).click();
  await until(async () => (await transform()) === "translate(300,80)", 5000, "the move undone");
  await p.getByRole("button", { name: "Redo", exact: true }).click();
  await until(async () => (await transform()) === "translate(320,90)", 5000, "the move redone");

  // Enter goes into the node's fields, Escape comes back to the node.
  await node(p, "hello").focus();
  await p.keyboard.press("Enter");
  assert.equal(await p.evaluate(() => document.activeElement?.closest(".flow-panel") !== null), true);
  await p.keyboard.press("Escape");
  await until(() => p.evaluate(() => document.activeElement?.getAttribute("data-node") === "hello"), 5000, "back on the node");

  // Start cannot be deleted.
  await node(p, "start").focus();
  await p.keyboard.press("Delete");
  await p.getByText("Start and end are part of every flow").first().waitFor();
  assert.equal(await node(p, "start").count(), 1);

  // A link is selected by a click and deleted with Backspace.
  const box = await p.locator('.fedge[data-edge="0"] .fedge-line').boundingBox();
  await p.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await p.locator(".flow-panel h2", { hasText: "Link" }).waitFor();
  await p.keyboard.press("Backspace");
  await until(async () => (await p.locator(".fedge").count()) === 1, 5000, "the link deleted");

  // Connect by keyboard: the panel's select for start's port.
  await node(p, "start").focus();
  await p.locator(".flow-panel").getByLabel("Port “next” connects to").selectOption("hello");
  await until(async () => (await p.locator(".fedge").count()) === 2, 5000, "linked from the panel");
  // Leaving with unsaved changes asks first.
  await p.getByRole("link", { name: "← Flows" }).click();
  await p.getByRole("dialog", { name: "Leave without saving?" }).getByRole("button", { name: "Cancel" }).click();
  await node(p, "hello").waitFor();
  await save(p);
  await p.getByText("Saved as version 2.").waitFor();
  const saved = await api().get(`/flows/${f.id}`);
  assert.deepEqual(saved.graph.edges.map((e) => `${e.from}.${e.port}>${e.to}`).sort(), ["hello.next>end", "start.next>hello"]);
  assert.deepEqual(saved.graph.nodes.find((n) => n.id === "hello").position, { x: 320, y: 90 });
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test("pan by dragging the background or with space held, zoom with the wheel and the buttons", async () => {
  const f = await apiFlow("Views", [message("hello", "Hello")]);
  const p = await page(b);
  await openFlow(p, f.id);
  const view = () => p.locator(".flow-svg > g").getAttribute("transform");
  const parse = async () => {
    const m = /translate\(([-\d.e]+),([-\d.e]+)\) scale\(([-\d.e]+)\)/.exec(await view());
    return { x: Number(m[1]), y: Number(m[2]), k: Number(m[3]) };
  };
  const canvas = await p.locator(".flow-svg").boundingBox();
  const before = await parse();
  await drag(p, { x: canvas.x + 30, y: canvas.y + 30 }, { x: canvas.x + 130, y: canvas.y + 80 });
  const panned = await parse();
  assert.equal(Math.round(panned.x - before.x), 100);
  assert.equal(Math.round(panned.y - before.y), 50);
  // Space held: dragging a node pans instead of moving it.
  const moved = await node(p, "hello").getAttribute("transform");
  await node(p, "hello").focus();
  await p.keyboard.down("Space");
  await drag(p, await centre(node(p, "hello").locator(".fnode-title")), { x: canvas.x + 60, y: canvas.y + 60 });
  await p.keyboard.up("Space");
  assert.equal(await node(p, "hello").getAttribute("transform"), moved);
  assert.notEqual((await parse()).x, panned.x);
  const k0 = (await parse()).k;
  await p.mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2);
  await p.mouse.wheel(0, -300);
  await until(async () => (await parse()).k > k0, 5000, "zoomed in by the wheel");
  const k1 = (await parse()).k;
  await p.getByRole("button", { name: "Zoom out" }).click();
  assert.ok((await parse()).k < k1);
  await p.getByRole("button", { name: "Fit" }).click();
  await p.context().close();
});

test("versions: an old version viewed read-only and restored as a new one", async () => {
  const f = await apiFlow("Versions", []);
  const v1 = await api().get(`/flows/${f.id}`);
  await api().put(`/flows/${f.id}`, { name: "Versions", graph: (await apiFlow("tmp", [message("m", "Second")])).graph });
  const p = await page(b);
  await openFlow(p, f.id);
  await node(p, "m").waitFor();
  await p.getByRole("button", { name: "Versions" }).click();
  const dialog = p.getByRole("dialog");
  await dialog.getByRole("button", { name: "View version 1" }).click();
  await p.getByText("Version 1 (Versions), read only.").waitFor();
  assert.equal(await node(p, "m").count(), 0);
  assert.deepEqual(await axe(p), []);
  await p.getByRole("button", { name: "Versions" }).first().click();
  await p.getByRole("dialog").getByRole("button", { name: "Restore version 1" }).click();
  await p.getByText("Version 1 restored as version 3.").waitFor();
  const now = await api().get(`/flows/${f.id}`);
  assert.equal(now.version, 3);
  assert.deepEqual(now.graph, v1.graph);
  await until(async () => (await node(p, "m").count()) === 0, 5000, "the editor shows the restored graph");
  await p.context().close();
});

/** Every node box's rectangle on the canvas, in canvas pixels. */
const rects = (p) =>
  p.locator(".flow-svg .fnode").evaluateAll((gs) =>
    gs.map((g) => {
      const m = /translate\(([-\d.]+),([-\d.]+)\)/.exec(g.getAttribute("transform"));
      const box = g.querySelector(".fnode-box");
      return { id: g.dataset.node, x: Number(m[1]), y: Number(m[2]), w: Number(box.getAttribute("width")), h: Number(box.getAttribute("height")) };
    }),
  );

function assertNoOverlap(list) {
  for (const a of list)
    for (const c of list) {
      if (a.id >= c.id) continue;
      const apart = a.x + a.w <= c.x || c.x + c.w <= a.x || a.y + a.h <= c.y || c.y + c.h <= a.y;
      assert.ok(apart, `${a.id} and ${c.id} overlap`);
    }
}

test("a flow written through the API, without positions, is laid out in layers without overlaps", async () => {
  const nodes = [
    { id: "start", module: { type: "start" } },
    { id: "menu", module: { type: "branch", style: "menu", text: "Pick", invalidPrompt: "Again", options: ["a", "b", "c"].map((x) => ({ port: x, content: x.toUpperCase() })) } },
    { id: "ma", module: { type: "send_message", text: "A" } },
    { id: "mb", module: { type: "send_message", text: "B" } },
    { id: "mc", module: { type: "send_message", text: "C" } },
    { id: "hours", module: { type: "service_time", timeZone: "Asia/Shanghai", weekly: [{ days: ["mon"], hours: [{ from: "09:00", to: "18:00" }] }] } },
    { id: "end", module: { type: "end" } },
  ];
  const edges = [
    ["start", "next", "menu"], ["menu", "a", "ma"], ["menu", "b", "mb"], ["menu", "c", "mc"],
    ["ma", "next", "hours"], ["mb", "next", "hours"], ["mc", "next", "menu"], ["hours", "in_hours", "end"], ["hours", "out_of_hours", "end"],
  ].map(([from, port, to]) => ({ from, port, to }));
  const f = await api().post("/flows", { name: "Handwritten", graph: { nodes, edges } });
  const p = await page(b);
  await openFlow(p, f.id);
  const laid = await rects(p);
  assert.equal(laid.length, 7);
  assertNoOverlap(laid);
  const x = Object.fromEntries(laid.map((r) => [r.id, r.x]));
  assert.ok(x.start < x.menu && x.menu < x.ma && x.ma < x.hours && x.hours < x.end, `layers from start: ${JSON.stringify(x)}`);
  assert.equal(x.ma, x.mb);
  // Scatter one node by hand, then lay out again with the button, and save.
  await drag(p, await centre(node(p, "mb").locator(".fnode-title")), await centre(node(p, "ma").locator(".fnode-title")));
  const scattered = await rects(p);
  assert.throws(() => assertNoOverlap(scattered), /overlap/);
  await p.getByRole("button", { name: "Auto layout" }).click();
  assertNoOverlap(await rects(p));
  await save(p);
  await p.getByText("Saved as version 2.").waitFor();
  const saved = await api().get(`/flows/${f.id}`);
  assert.ok(saved.graph.nodes.every((n) => n.position), "positions saved");
  assert.deepEqual(saved.graph.edges, edges, "links untouched");
  await p.context().close();
});

/** Picks a node, then fills a field of its panel. */
async function fill(p, label, value) {
  await p.locator(".flow-panel").getByLabel(label, { exact: true }).fill(value);
}

async function link(p, from, port, to) {
  await node(p, from).focus();
  await p.locator(".flow-panel").getByLabel(`Port “${port}” connects to`).selectOption(to);
}

/** Adds a module from the palette by keyboard: focus it, Enter. */
async function addByKey(p, module) {
  const before = await p.locator(".flow-svg .fnode").count();
  await p.locator(`.palette-item[data-module="${module}"]`).focus();
  await p.keyboard.press("Enter");
  await until(async () => (await p.locator(".flow-svg .fnode").count()) === before + 1, 5000, `${module} added`);
}

test("done when: a menu, a form, an interface call, a condition and a transfer, saved valid", async () => {
  const p = await page(b);
  await consolePage(p, desk, "flows");
  await p.getByRole("button", { name: "New flow" }).click();
  await p.getByLabel("Flow name").fill("Presales desk");
  await p.getByRole("button", { name: "Create" }).click();
  await node(p, "start").waitFor();
  const id = Number(/#\/flows\/(\d+)$/.exec(p.url())[1]);
  for (const m of ["branch", "collect", "interface_call", "condition", "transfer_to_agent"]) await addByKey(p, m);

  await node(p, "branch_1").focus();
  await fill(p, "Name on the canvas", "Main menu");
  await fill(p, "Prompt", "How can we help?");
  await fill(p, "Prompt on wrong input", "Please pick one of the options");
  await p.locator(".flow-panel").getByLabel("Option text").nth(0).fill("Buy");
  await p.locator(".flow-panel").getByLabel("Option text").nth(1).fill("Talk to someone");

  await node(p, "collect_1").focus();
  await fill(p, "Name on the canvas", "Phone");
  await fill(p, "Question", "Your phone number?");
  await fill(p, "Variable", "phone");

  await node(p, "interface_call_1").focus();
  await fill(p, "Name on the canvas", "CRM lookup");
  await fill(p, "URL", "http://127.0.0.1:9/crm");
  await p.locator(".flow-panel").getByRole("button", { name: "Add parameter" }).click();
  await fill(p, "Name", "phone");
  await p.locator(".flow-panel").getByLabel("Value", { exact: true }).fill("${phone}");
  await p.locator(".flow-panel").getByRole("button", { name: "Add field" }).click();
  await fill(p, "Response field", "level");
  await fill(p, "Variable", "level");
  await fill(p, "Default value", "normal");

  await node(p, "condition_1").focus();
  await fill(p, "Name on the canvas", "VIP?");
  await fill(p, "Variable", "level");
  await p.locator(".flow-panel").getByLabel("Comparison").selectOption("eq");
  await fill(p, "Value", "vip");
  await fill(p, "Port", "vip");

  await node(p, "transfer_to_agent_1").focus();
  await fill(p, "Name on the canvas", "To presales");
  await p.locator(".flow-panel").getByLabel("Skill group").selectOption(String(group.id));
  await fill(p, "Queue message", "You are number ${WaitNo} in the queue");

  await link(p, "start", "next", "branch_1");
  await link(p, "branch_1", "Buy", "collect_1");
  await link(p, "branch_1", "Talk to someone", "transfer_to_agent_1");
  await link(p, "collect_1", "next", "interface_call_1");
  await link(p, "interface_call_1", "next", "condition_1");
  await link(p, "condition_1", "vip", "transfer_to_agent_1");
  await link(p, "condition_1", "default", "transfer_to_agent_1");
  await link(p, "transfer_to_agent_1", "next", "end");
  await p.getByRole("button", { name: "Auto layout" }).click();
  await save(p);
  await p.getByText("Saved as version 2.").waitFor();
  const saved = await api().get(`/flows/${id}`);
  const types = saved.graph.nodes.map((n) => n.module.type).sort();
  assert.deepEqual(types, ["branch", "collect", "condition", "end", "interface_call", "start", "transfer_to_agent"]);
  const mod = (t) => saved.graph.nodes.find((n) => n.module.type === t).module;
  assert.equal(mod("collect").variable, "phone");
  assert.deepEqual(mod("interface_call").response, [{ field: "level", variable: "level", default: "normal" }]);
  assert.deepEqual(mod("condition").branches, [{ port: "vip", combine: "all", conditions: [{ variable: "level", op: "eq", value: "vip" }] }]);
  assert.equal(mod("transfer_to_agent").group, group.id);
  assert.equal(saved.graph.edges.length, 8);

  await node(p, "condition_1").focus();
  assert.deepEqual(await axe(p), []);
  // The picture: the flow from its start, the menu's panel open.
  await p.getByRole("button", { name: "Auto layout" }).click();
  await node(p, "branch_1").focus();
  await shot(p, "console-flow-editor");
  await p.context().close();

  const zh = await page(b, { locale: "zh-CN" });
  await openFlow(zh, id);
  await node(zh, "condition_1").focus();
  await zh.locator(".flow-panel").getByText("规则组合方式").waitFor();
  await zh.getByRole("button", { name: "自动布局" }).click();
  await node(zh, "branch_1").focus();
  await zh.locator(".flow-panel").getByText("输入错误时的提示").waitFor();
  await shot(zh, "console-flow-editor-zh");
  await zh.context().close();
});

test("the list: flows with their versions and channels; deleting one a channel binds is refused in the server's words", async () => {
  const f = await apiFlow("Bound flow", [message("hi", "Hi")]);
  const channel = await api().post("/channels", { name: "Web shop", kind: { type: "website" }, skillGroup: group.id, flow: f.id });
  const spare = await apiFlow("Spare flow", []);
  const p = await page(b);
  await consolePage(p, desk, "flows");
  const row = p.locator("tr", { hasText: "Bound flow" });
  await row.getByText("Web shop").waitFor();
  assert.deepEqual(await axe(p), []);
  await shot(p, "console-flows");
  await row.getByRole("button", { name: "Delete Bound flow" }).click();
  await p.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await p.getByRole("dialog").getByText(/is bound to .*unbind it first/).waitFor();
  assert.equal((await api().get(`/flows/${f.id}`)).id, f.id);
  await p.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  await p.locator("tr", { hasText: "Spare flow" }).getByRole("button", { name: "Delete Spare flow" }).click();
  await p.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await until(async () => (await p.locator("tr", { hasText: "Spare flow" }).count()) === 0, 5000, "the row gone");
  const gone = await api().raw("GET", `/flows/${spare.id}`);
  assert.equal(gone.status, 404);
  assert.ok(channel.id);
  await p.context().close();
});

test("the FAQ bot's entries: add, edit, delete, and a refusal under its field", async () => {
  const p = await page(b);
  await consolePage(p, desk, "flows/faq");
  await p.getByRole("button", { name: "Add entry" }).click();
  const dialog = p.getByRole("dialog");
  await dialog.getByLabel("Question").fill("   ");
  await dialog.getByLabel("Answer").fill("Nine to six.");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.locator(".field.invalid").getByText(/must be 1 to 500 characters/).waitFor();
  await dialog.getByLabel("Question").fill("When are you open?");
  await dialog.getByRole("button", { name: "Save" }).click();
  await p.locator("td", { hasText: "When are you open?" }).waitFor();
  let list = await api().get("/faq");
  assert.deepEqual(list.map((e) => [e.question, e.answer]), [["When are you open?", "Nine to six."]]);
  assert.deepEqual(await axe(p), []);

  await p.getByRole("button", { name: "Edit When are you open?" }).click();
  await p.getByRole("dialog").getByLabel("Answer").fill("Nine to six, Monday to Friday.");
  await p.getByRole("dialog").getByRole("button", { name: "Save" }).click();
  await p.locator("td", { hasText: "Monday to Friday" }).waitFor();
  list = await api().get("/faq");
  assert.equal(list[0].answer, "Nine to six, Monday to Friday.");

  await p.getByRole("button", { name: "Delete When are you open?" }).click();
  await p.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await p.getByText("No entry yet.").waitFor();
  assert.deepEqual(await api().get("/faq"), []);
  await p.context().close();
});

test("figure: a 200-node flow dragged for about 2 s, frames per second from requestAnimationFrame", async () => {
  const middle = Array.from({ length: 198 }, (_, i) => message(`m${i}`, `Step ${i}`));
  const f = await apiFlow("Big", middle);
  // Ten columns of twenty, so the whole flow fits the canvas at the smallest zoom.
  const graph = { ...f.graph, nodes: f.graph.nodes.map((n, i) => ({ ...n, position: { x: 40 + (i % 10) * 240, y: 40 + Math.floor(i / 10) * 90 } })) };
  await api().put(`/flows/${f.id}`, { name: "Big", graph });
  const p = await page(b);
  await openFlow(p, f.id);
  assert.equal(await p.locator(".flow-svg .fnode").count(), 200);
  await p.getByRole("button", { name: "Fit" }).click();
  const target = node(p, "m1").locator(".fnode-box");
  const from = await centre(target);
  await p.evaluate(() => {
    window.__frames = [];
    const tick = (t) => {
      window.__frames.push(t);
      if (window.__frames.length < 100000) window.__raf = requestAnimationFrame(tick);
    };
    window.__raf = requestAnimationFrame(tick);
  });
  const started = Date.now();
  await p.mouse.move(from.x, from.y);
  await p.mouse.down();
  let i = 0;
  while (Date.now() - started < 2000) {
    i++;
    await p.mouse.move(from.x + 150 * Math.sin(i / 10), from.y + 80 * Math.cos(i / 13));
  }
  await p.mouse.up();
  const frames = await p.evaluate(() => {
    cancelAnimationFrame(window.__raf);
    return window.__frames;
  });
  const span = (frames.at(-1) - frames[0]) / 1000;
  const fps = (frames.length - 1) / span;
  const moved = await node(p, "m1").getAttribute("transform");
  console.log(`flow canvas: 200 nodes dragged ${span.toFixed(1)} s with ${i} pointer moves: ${fps.toFixed(1)} frames/s`);
  assert.ok(i > 10, "the drag ran");
  assert.notEqual(moved, null);
  await p.context().close();
});
