// Skill groups as an administrator keeps them: added (a reception limit of 0 refused under
// its field), renamed, the limit changed; members added with the default priority 3 or a
// chosen one, their priority changed, removed; deletion refused while a channel routes to
// the group (the refusal in the dialog), then done. Each change is checked through the API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, calm, consolePage, Desk, page, shot } from "./harness.mjs";

let desk;
let b;
let one;
let two;
before(async () => {
  desk = await Desk.start();
  b = await browser();
  one = await desk.agent(1, [], { change: false });
  two = await desk.agent(2, [], { change: false });
});
after(async () => {
  await b?.close();
  await desk?.stop();
});

const row = (p, text) => p.locator("table.groups-table tbody tr", { hasText: text });
const groupNamed = async (name) => (await desk.keyApi.get("/skill-groups")).find((g) => g.name === name);

test("a skill group: added, renamed, its limit changed, members with priorities, deleted once no channel routes to it", async () => {
  const p = await page(b);
  await consolePage(p, desk, "skill-groups");
  await p.getByText("No skill group yet").waitFor();
  await p.getByRole("button", { name: "Add skill group" }).click();
  const dialog = p.getByRole("dialog");
  await dialog.getByLabel("Name").fill("Pre-sales");
  await dialog.getByLabel("Reception limit").fill("0");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.locator(".field.invalid", { hasText: "Reception limit" }).locator(".error-text").waitFor();
  assert.equal(await dialog.getByLabel("Reception limit").evaluate((e) => e === document.activeElement), true);
  assert.deepEqual(await axe(p), []);
  assert.equal(await groupNamed("Pre-sales"), undefined);
  await dialog.getByLabel("Reception limit").fill("4");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  const made = await groupNamed("Pre-sales");
  assert.equal(made.receptionLimit, 4);

  await row(p, "Pre-sales").getByRole("button", { name: "Edit" }).click();
  await dialog.getByLabel("Name").fill("Presales");
  await dialog.getByLabel("Reception limit").fill("8");
  await dialog.getByLabel("Longest wait (seconds)").fill("30");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.locator(".field.invalid", { hasText: "Longest wait" }).locator(".error-text").waitFor();
  assert.equal((await desk.keyApi.get(`/skill-groups/${made.id}`)).name, "Pre-sales", "nothing saved");
  await dialog.getByLabel("Longest wait (seconds)").fill("120");
  await dialog.getByLabel("Most sessions waiting").fill("50");
  await dialog.getByLabel("Told when the queue is full").fill("All our agents are busy: please come back later.");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  const edited = await desk.keyApi.get(`/skill-groups/${made.id}`);
  assert.equal(edited.name, "Presales");
  assert.equal(edited.receptionLimit, 8);
  assert.equal(edited.maxQueueWaitSecs, 120);
  assert.equal(edited.maxQueued, 50);
  assert.equal(edited.queueFullMessage, "All our agents are busy: please come back later.");
  await row(p, "Presales").getByText("8").waitFor();

  // Members: Agent 1 with the default priority, Agent 2 with priority 1.
  await row(p, "Presales").getByRole("link", { name: "Members" }).click();
  await p.getByRole("heading", { name: "Members of Presales" }).waitFor();
  await p.getByLabel("Agent", { exact: true }).selectOption({ label: "Agent 1 (a1)" });
  assert.equal(await p.getByLabel("Priority", { exact: true }).inputValue(), "3");
  await p.getByRole("button", { name: "Add member" }).click();
  await p.getByLabel("Priority of Agent 1").waitFor();
  await p.getByLabel("Agent", { exact: true }).selectOption({ label: "Agent 2 (a2)" });
  await p.getByLabel("Priority", { exact: true }).selectOption("1");
  await p.getByRole("button", { name: "Add member" }).click();
  await p.getByLabel("Priority of Agent 2").waitFor();
  let members = (await desk.keyApi.get(`/skill-groups/${made.id}`)).members;
  assert.deepEqual(members.map((m) => [m.agentId, m.priority]).sort(), [[one.id, 3], [two.id, 1]].sort());
  await p.getByLabel("Priority of Agent 1").selectOption("5");
  await p.getByText("Agent 1 now has priority 5.").waitFor();
  assert.equal((await desk.keyApi.get(`/skill-groups/${made.id}`)).members.find((m) => m.agentId === one.id).priority, 5);
  assert.deepEqual(await axe(p), []);
  await calm(p);
  await shot(p, "console-groups-members");
  await p.getByRole("button", { name: "Remove Agent 2 from the group" }).click();
  await p.getByLabel("Priority of Agent 2").waitFor({ state: "detached" });
  members = (await desk.keyApi.get(`/skill-groups/${made.id}`)).members;
  assert.deepEqual(members.map((m) => m.agentId), [one.id]);

  // A channel routes to it: deletion is refused, and the dialog says why.
  await p.getByRole("link", { name: /All skill groups/ }).click();
  const channel = await desk.keyApi.post("/channels", { name: "Website", kind: { type: "website" }, skillGroup: made.id, satisfaction: null });
  await p.getByRole("button", { name: "Add skill group" }).click();
  await dialog.getByLabel("Name").fill("After sales");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  await calm(p);
  await shot(p, "console-groups");
  await row(p, "Presales").getByRole("button", { name: "Delete" }).click();
  await dialog.getByRole("button", { name: "Delete" }).click();
  await dialog.getByRole("alert").getByText("is used by").waitFor();
  assert.deepEqual(await axe(p), []);
  await p.keyboard.press("Escape");
  assert.ok(await groupNamed("Presales"));
  assert.equal((await desk.keyApi.raw("DELETE", `/channels/${channel.id}`)).status, 204);
  await row(p, "Presales").getByRole("button", { name: "Delete" }).click();
  await dialog.getByRole("button", { name: "Delete" }).click();
  await row(p, "Presales").waitFor({ state: "detached" });
  assert.equal((await desk.keyApi.raw("GET", `/skill-groups/${made.id}`)).status, 404);
  assert.deepEqual(p.problems, []);
  await p.context().close();
});
