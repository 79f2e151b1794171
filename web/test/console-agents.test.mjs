// The agents page as an administrator uses it: add an agent (a taken staff number refused
// under its field), edit, filter, delete; batch add by CSV (every bad cell by row and column,
// nothing imported, then a good file); reset a password (shown once); force offline and
// resume; and the live status moving while an agent signs in. Each change is checked through
// the API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, calm, call, consolePage, Desk, page, PASSWORD, shot, signInPage, until } from "./harness.mjs";

let desk;
let b;
let sales;
let support;
let first;
before(async () => {
  desk = await Desk.start();
  b = await browser();
  sales = await desk.group("Sales");
  support = await desk.group("Support");
  first = await desk.agent(1, [sales.id]);
});
after(async () => {
  await b?.close();
  await desk?.stop();
});

const row = (p, text) => p.locator("table.agents-table tbody tr", { hasText: text });
const agentsNamed = async (q) => desk.keyApi.get(`/agents?q=${encodeURIComponent(q)}&includeDeleted=true`);

test("an administrator adds, edits, filters and deletes an agent", async () => {
  const p = await page(b);
  await consolePage(p, desk, "agents");
  await row(p, "Agent 1").waitFor();
  assert.deepEqual(await axe(p), []);
  // One's own account can be edited, not reset, forced offline or deleted (the server refuses).
  const own = row(p, "admin@helpline.local");
  await own.getByRole("button", { name: "Edit" }).waitFor();
  await until(async () => (await own.getByRole("button", { name: "Delete" }).count()) === 0, 15_000, "no Delete on one's own row");
  assert.equal(await row(p, "Agent 1").getByRole("button", { name: "Delete" }).count(), 1);

  await p.getByRole("button", { name: "Add agent" }).click();
  const dialog = p.getByRole("dialog");
  await dialog.getByLabel("Name", { exact: true }).fill("Lin Wei");
  await dialog.getByLabel("Nickname").fill("Wei");
  await dialog.getByLabel("Staff number").fill("a1");
  await dialog.getByLabel("Email").fill("lin@example.com");
  await dialog.getByLabel("Role").selectOption({ label: "Agent" });
  await dialog.getByLabel("Support").check();
  await dialog.getByRole("button", { name: "Save" }).click();
  // The server's refusal sits under the field it names, which is focused.
  const staff = dialog.locator(".field.invalid", { hasText: "Staff number" });
  await staff.getByText("a1 is taken").waitFor();
  assert.equal(await dialog.getByLabel("Staff number").evaluate((e) => e === document.activeElement), true);
  assert.deepEqual(await axe(p), []);
  await dialog.getByLabel("Staff number").fill("s-200");
  await dialog.getByRole("button", { name: "Save" }).click();
  const secret = p.getByRole("dialog", { name: "First password of Lin Wei" });
  await secret.waitFor();
  const password = await secret.getByLabel("Password").inputValue();
  assert.ok(password.length >= 8, password);
  await calm(p);
  await shot(p, "console-agents-password");
  await secret.getByRole("button", { name: "Close" }).last().click();
  const [made] = await agentsNamed("Lin Wei");
  assert.equal(made.staffNo, "s-200");
  assert.equal(made.nickname, "Wei");
  assert.deepEqual(made.skillGroups.map((g) => g.name), ["Support"]);
  const login = await call(desk.api, "POST", "/auth/login", { body: { email: "lin@example.com", password } });
  assert.equal(login.mustChangePassword, true);

  await row(p, "Lin Wei").getByRole("button", { name: "Edit" }).click();
  await dialog.getByLabel("Nickname").fill("Wei W");
  await dialog.getByLabel("Support").uncheck();
  await dialog.getByLabel("Sales").check();
  await dialog.getByLabel("Name", { exact: true }).fill("");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.locator(".field.invalid", { hasText: "Name" }).locator(".error-text").waitFor();
  await dialog.getByLabel("Name", { exact: true }).fill("Lin Wei");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  const [edited] = await agentsNamed("Lin Wei");
  assert.equal(edited.nickname, "Wei W");
  assert.deepEqual(edited.skillGroups.map((g) => g.name), ["Sales"]);
  await row(p, "Wei W").waitFor();

  // Filters: by skill group, by role, by search.
  await p.getByLabel("Skill group").selectOption({ label: "Support" });
  await p.getByText("No agent matches.").waitFor();
  await p.getByLabel("Skill group").selectOption({ label: "Sales" });
  await until(async () => (await p.locator("table.agents-table tbody tr").count()) === 2, 15_000, "both Sales agents");
  await p.getByLabel("Skill group").selectOption({ label: "All skill groups" });
  await p.getByLabel("Role").selectOption({ label: "Administrator" });
  await until(async () => (await p.locator("table.agents-table tbody tr").count()) === 1, 15_000, "the administrator alone");
  await row(p, "admin@helpline.local").waitFor();
  await p.getByLabel("Role").selectOption({ label: "All roles" });
  await p.getByLabel("Search agents").fill("s-200");
  await until(async () => (await p.locator("table.agents-table tbody tr").count()) === 1, 15_000, "one search hit");
  await row(p, "Lin Wei").waitFor();
  await p.getByLabel("Search agents").fill("");

  await row(p, "Lin Wei").getByRole("button", { name: "Delete" }).click();
  await p.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await until(async () => (await row(p, "Lin Wei").count()) === 0, 15_000, "the deleted row to go");
  assert.equal((await desk.keyApi.get(`/agents/${made.id}`)).deleted, true);
  await p.getByLabel("Show deleted").check();
  await row(p, "Lin Wei").getByText("Deleted", { exact: true }).waitFor();
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test("a CSV with bad cells imports nothing and lists each by row and column; a good one imports all", async () => {
  const p = await page(b);
  await consolePage(p, desk, "agents");
  await p.getByRole("button", { name: "Batch add by CSV" }).click();
  const [download] = await Promise.all([p.waitForEvent("download"), p.getByRole("button", { name: "Download template" }).click()]);
  assert.equal(download.suggestedFilename(), "agents-template.csv");
  const bad = [
    "name,nickname,staff_no,email,role,skill_groups",
    "Chen Jie,Jie,c-1,not-an-email,Agent,Sales",
    "Zhao Min,Min,c-2,zhao@example.com,Nobody,Sales|Nowhere",
    "",
  ].join("\n");
  const file = p.getByLabel("CSV file");
  await file.setInputFiles({ name: "agents.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
  const refusal = p.locator(".csv-import .alert");
  await refusal.waitFor();
  const cells = await refusal.locator("tbody tr").evaluateAll((rows) => rows.map((r) => [...r.cells].slice(0, 2).map((c) => c.textContent).join(":")));
  for (const want of ["2:email", "3:role", "3:skill_groups"]) assert.ok(cells.includes(want), `${want} in ${cells}`);
  assert.deepEqual(await axe(p), []);
  await calm(p);
  await shot(p, "console-agents-csv");
  assert.equal((await agentsNamed("example.com")).filter((a) => /chen|zhao/.test(a.email)).length, 0, "nothing imported");

  const good = [
    "name,nickname,staff_no,email,role,skill_groups",
    "Chen Jie,Jie,c-1,chen@example.com,Agent,Sales",
    "Zhao Min,Min,c-2,zhao@example.com,Agent,Sales|Support",
    "",
  ].join("\n");
  await file.setInputFiles({ name: "agents.csv", mimeType: "text/csv", buffer: Buffer.from(good) });
  const shown = p.getByRole("dialog", { name: "Imported agents and their first passwords" });
  await shown.waitFor();
  assert.equal(await shown.locator("tbody tr").count(), 2);
  await shown.getByRole("button", { name: "Close" }).first().click();
  const zhao = (await agentsNamed("zhao@example.com"))[0];
  assert.deepEqual(zhao.skillGroups.map((g) => g.name).sort(), ["Sales", "Support"]);
  assert.equal((await agentsNamed("chen@example.com")).length, 1);
  await row(p, "Zhao Min").waitFor();
  await p.context().close();
});

test("live status moves as an agent signs in; force offline, resume and a password reset", async () => {
  const p = await page(b);
  await consolePage(p, desk, "agents");
  const mine = row(p, "Agent 1");
  await mine.getByText("Offline", { exact: true }).waitFor();
  const w = await page(b);
  await signInPage(w, desk, first);
  // Refreshed without a reload.
  await until(async () => !/Offline/.test(await mine.locator(".status-text").innerText()), 15_000, "a status other than offline");
  await calm(p);
  await shot(p, "console-agents");

  await mine.getByRole("button", { name: "Force offline" }).click();
  await p.getByRole("dialog").getByRole("button", { name: "Force offline" }).click();
  await mine.getByText("Forced offline").waitFor();
  assert.equal((await desk.keyApi.get(`/agents/${first.id}`)).forcedOffline, true);
  const refused = await call(desk.api, "POST", "/auth/login", { body: { email: first.email, password: first.password }, raw: true });
  assert.notEqual(refused.status, 200);
  await mine.getByRole("button", { name: "Resume online" }).click();
  await mine.getByRole("button", { name: "Force offline" }).waitFor();
  assert.equal((await desk.keyApi.get(`/agents/${first.id}`)).forcedOffline, false);

  await mine.getByRole("button", { name: "Reset password" }).click();
  await p.getByRole("dialog").getByRole("button", { name: "Reset password" }).click();
  const secret = p.getByRole("dialog", { name: "New password of Agent 1" });
  await secret.waitFor();
  const password = await secret.getByLabel("Password").inputValue();
  await secret.getByRole("button", { name: "Close" }).first().click();
  const login = await call(desk.api, "POST", "/auth/login", { body: { email: first.email, password } });
  assert.equal(login.mustChangePassword, true);
  assert.deepEqual(p.problems, []);
  await w.context().close();
  await p.context().close();
});

test("a role with the agents module over one group sees and adds only that group's agents", async () => {
  const role = await desk.keyApi.post("/roles", { name: "Sales leads", scopes: [{ module: "agents", groups: [sales.id] }] });
  const made = await desk.keyApi.post("/agents", { name: "Lead", nickname: "Lead", staffNo: "l-1", email: "lead@example.com", roleId: role.id, skillGroupIds: [sales.id] });
  const first = await call(desk.api, "POST", "/auth/login", { body: { email: "lead@example.com", password: made.password } });
  await call(desk.api, "POST", "/auth/password", { token: first.token, body: { currentPassword: made.password, newPassword: PASSWORD } });
  const p = await page(b);
  await consolePage(p, desk, "agents", { email: "lead@example.com", password: PASSWORD });
  await row(p, "Agent 1").waitFor();
  assert.equal(await row(p, "admin@helpline.local").count(), 0, "the administrator is in no group of the role");
  // No monitoring module: no live status is shown, rather than a guess.
  assert.equal(await p.locator("table.agents-table .dot").count(), 0);
  assert.deepEqual(await axe(p), []);

  await p.getByRole("button", { name: "Add agent" }).click();
  const dialog = p.getByRole("dialog");
  await dialog.getByLabel("Name", { exact: true }).fill("Sun Li");
  await dialog.getByLabel("Nickname").fill("Li");
  await dialog.getByLabel("Staff number").fill("s-300");
  await dialog.getByLabel("Email").fill("sun@example.com");
  await dialog.getByLabel("Role").selectOption({ label: "Agent" });
  // Support is offered (another agent is in it) but outside the role's range: refused.
  await dialog.getByLabel("Support").check();
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.locator(".fieldset.invalid", { hasText: "Skill groups" }).locator(".error-text").waitFor();
  await dialog.getByLabel("Support").uncheck();
  await dialog.getByLabel("Sales").check();
  await dialog.getByRole("button", { name: "Save" }).click();
  await p.getByRole("dialog", { name: "First password of Sun Li" }).waitFor();
  const [sun] = await agentsNamed("sun@example.com");
  assert.deepEqual(sun.skillGroups.map((g) => g.name), ["Sales"]);
  assert.equal(sun.roleId, 2);
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test("the agents page in Chinese", async () => {
  const p = await page(b, { locale: "zh-CN" });
  await consolePage(p, desk, "agents");
  await p.getByRole("heading", { name: "客服管理" }).waitFor();
  await row(p, "Zhao Min").waitFor();
  assert.deepEqual(await axe(p), []);
  await calm(p);
  await shot(p, "console-agents-zh");
  await p.context().close();
});
