// Roles as an administrator sets them: the built-in roles shown read-only, a role created
// with "data analysis over group A" (a taken name refused under its field), renamed, its
// members listed, refused deletion while held; its member sees only the role's menu entries
// and the server's 403 names the module it lacks. Each change is checked through the API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, calm, call, consolePage, Desk, page, PASSWORD, shot } from "./harness.mjs";

let desk;
let b;
let groupA;
before(async () => {
  desk = await Desk.start();
  b = await browser();
  groupA = await desk.group("Group A");
  await desk.group("Group B");
});
after(async () => {
  await b?.close();
  await desk?.stop();
});

const row = (p, text) => p.locator("table.roles-table tbody tr", { hasText: text });
const roleNamed = async (name) => (await desk.keyApi.get("/roles")).find((r) => r.name === name);

test("a role with data analysis over one group: created, renamed, held, refused deletion, deleted", async () => {
  const p = await page(b);
  await consolePage(p, desk, "roles");
  await row(p, "Administrator").getByText("Built in").waitFor();
  await row(p, "Administrator").getByRole("button", { name: "View" }).click();
  const dialog = p.getByRole("dialog");
  await dialog.getByText("A built-in role cannot be changed").waitFor();
  assert.equal(await dialog.getByRole("button", { name: "Save" }).count(), 0);
  assert.equal(await dialog.getByRole("textbox").count(), 0);
  await p.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.deepEqual(await axe(p), []);

  await p.getByRole("button", { name: "Add role" }).click();
  await dialog.getByLabel("Name").fill("Agent");
  await dialog.getByLabel("Data analysis", { exact: true }).check();
  await dialog.getByRole("radiogroup", { name: "Skill groups of Data analysis" }).getByLabel("Chosen skill groups").check();
  await dialog.getByLabel("Data analysis: Group A").check();
  await dialog.getByLabel("Real-time monitoring", { exact: true }).check();
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.locator(".field.invalid", { hasText: "Name" }).getByText("exists").waitFor();
  assert.deepEqual(await axe(p), []);
  await calm(p);
  await shot(p, "console-roles-form");
  await dialog.getByLabel("Name").fill("Analysts");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  const made = await roleNamed("Analysts");
  assert.deepEqual(
    made.scopes.map((s) => [s.module, s.groups]).sort(),
    [["data_analysis", [groupA.id]], ["monitoring", null]],
  );
  await row(p, "Analysts").getByText("Group A").waitFor();

  await row(p, "Analysts").getByRole("button", { name: "Edit" }).click();
  await dialog.getByLabel("Name").fill("Analysts A");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  assert.ok(await roleNamed("Analysts A"));

  // A member given the role in its Members dialog; the role cannot go while held.
  const created = await desk.keyApi.post("/agents", { name: "Ana Lyst", nickname: "Ana", staffNo: "an-1", email: "ana@example.com", roleId: 2, skillGroupIds: [groupA.id] });
  const first = await call(desk.api, "POST", "/auth/login", { body: { email: "ana@example.com", password: created.password } });
  await call(desk.api, "POST", "/auth/password", { token: first.token, body: { currentPassword: created.password, newPassword: PASSWORD } });
  await row(p, "Analysts A").getByRole("button", { name: "Members" }).click();
  await dialog.getByText("No account holds this role.").waitFor();
  await dialog.getByLabel("Give the role to").selectOption({ label: "Ana Lyst (an-1)" });
  await dialog.getByRole("button", { name: "Give role" }).click();
  await dialog.getByRole("cell", { name: /^Ana Lyst/ }).waitFor();
  assert.equal((await desk.keyApi.get(`/agents/${created.agent.id}`)).roleId, made.id);
  assert.deepEqual(await axe(p), []);
  await dialog.getByRole("button", { name: "Close" }).last().click();
  await dialog.waitFor({ state: "detached" });
  await row(p, "Analysts A").locator("td.num", { hasText: "1" }).waitFor();
  await calm(p);
  await shot(p, "console-roles");
  await row(p, "Analysts A").getByRole("button", { name: "Delete" }).click();
  await dialog.getByRole("button", { name: "Delete" }).click();
  await dialog.getByRole("alert").getByText("1 accounts hold").waitFor();
  await p.keyboard.press("Escape");
  assert.ok(await roleNamed("Analysts A"));

  // The member sees the role's modules only; the server refuses the rest naming the module.
  const q = await page(b);
  await consolePage(q, desk, null, { email: "ana@example.com", password: PASSWORD });
  assert.deepEqual(await q.locator("nav.menu a").allInnerTexts(), ["Monitoring", "Data analysis"]);
  const token = (await call(desk.api, "POST", "/auth/login", { body: { email: "ana@example.com", password: PASSWORD } })).token;
  const refused = await call(desk.api, "GET", "/agents", { token, raw: true });
  assert.equal(refused.status, 403);
  assert.match(refused.json.error.message, /agents module/);
  await q.context().close();

  await row(p, "Analysts A").getByRole("button", { name: "Members" }).click();
  await dialog.getByRole("button", { name: "Back to agent: Ana Lyst" }).click();
  await dialog.getByText("No account holds this role.").waitFor();
  assert.equal((await desk.keyApi.get(`/agents/${created.agent.id}`)).roleId, 2);
  await p.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  await row(p, "Analysts A").getByRole("button", { name: "Delete" }).click();
  await dialog.getByRole("button", { name: "Delete" }).click();
  await row(p, "Analysts A").waitFor({ state: "detached" });
  assert.equal(await roleNamed("Analysts A"), undefined);
  assert.deepEqual(p.problems, []);
  await p.context().close();
});
