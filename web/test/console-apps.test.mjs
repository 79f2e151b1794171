// The console's apps (administrators of app 1 only): listed, and a new one made with its
// first administrator, whose password is shown once and signs in; a bad email refused at
// its field; an administrator of another app sees no Apps entry.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, call, consolePage, Desk, page, PASSWORD } from "./harness.mjs";

let desk;
let b;
let owner;
before(async () => {
  desk = await Desk.start();
  b = await browser();
  // A second owner (an administrator of app 1) asks the API what the page is told: the
  // first one signs in through the browser, and an API key is no owner.
  const made = await desk.keyApi.post("/agents", { name: "Owner", nickname: "Owner", staffNo: "o2", email: "owner2@example.com", roleId: 1, skillGroupIds: [] });
  const first = await call(desk.api, "POST", "/auth/login", { body: { email: "owner2@example.com", password: made.password } });
  const other = { email: "owner2@example.com", password: PASSWORD };
  await call(desk.api, "POST", "/auth/password", { token: first.token, body: { currentPassword: made.password, newPassword: PASSWORD } });
  owner = await desk.signIn(other);
});
after(async () => {
  await b?.close();
  await desk?.stop();
});

test("an app is made with its first administrator, whose password is shown once", async () => {
  const p = await page(b);
  await consolePage(p, desk, "apps");
  await p.getByRole("row", { name: /This app/ }).waitFor();
  assert.deepEqual(await axe(p), []);
  await p.getByRole("button", { name: "Create app" }).click();
  const dialog = p.getByRole("dialog");
  await dialog.getByLabel("Name").fill("Second shop");
  await dialog.getByLabel("First administrator's email").fill("not an email");
  await dialog.getByRole("button", { name: "Create app" }).click();
  const refused = await owner.raw("POST", "/apps", { name: "x", adminEmail: "not an email" });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error.field, "adminEmail");
  await dialog.locator(".field.invalid", { has: p.getByLabel("First administrator's email") }).getByText(refused.json.error.message).waitFor();
  assert.deepEqual(await axe(p), []);
  await dialog.getByLabel("First administrator's email").fill("owner@second.example.com");
  await dialog.getByRole("button", { name: "Create app" }).click();
  const shown = p.getByRole("dialog", { name: "App created" });
  const password = await shown.getByLabel("First password of owner@second.example.com").inputValue();
  await shown.getByText(/Second shop \(app \d+\) is ready/).waitFor();
  assert.deepEqual(await axe(p), []);
  await shown.getByRole("button", { name: "Close" }).last().click();
  await p.getByRole("cell", { name: "Second shop" }).waitFor();
  const apps = await owner.get("/apps");
  const made = apps.find((a) => a.name === "Second shop");
  assert.ok(made && made.id !== 1);
  // The password shown signs its administrator in, into the new app.
  const login = await call(desk.api, "POST", "/auth/login", { body: { email: "owner@second.example.com", password } });
  assert.equal(login.mustChangePassword, true);
  await call(desk.api, "POST", "/auth/password", { token: login.token, body: { currentPassword: password, newPassword: PASSWORD } });
  const q = await page(b);
  await consolePage(q, desk, null, { email: "owner@second.example.com", password: PASSWORD });
  const menu = await q.locator("nav.menu a").allInnerTexts();
  assert.ok(menu.includes("API access") && !menu.includes("Apps"), `${menu}`);
  await q.context().close();
  assert.deepEqual(p.problems, []);
  await p.context().close();
});
