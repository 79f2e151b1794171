// The console's frame: the menu shows the sections the role opens and no others, a section
// outside the role says so, and the server's 403 names the missing module.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, call, consolePage, Desk, openSection, page, PASSWORD, shot } from "./harness.mjs";

let desk;
let b;
before(async () => {
  desk = await Desk.start();
  b = await browser();
});
after(async () => {
  await b?.close();
  await desk?.stop();
});

const menu = (p) => p.locator("nav.menu a").allInnerTexts();

test("an administrator sees every section; a role sees only its modules", async () => {
  const p = await page(b);
  await consolePage(p, desk);
  const all = await menu(p);
  for (const s of ["Monitoring", "Agents", "Roles", "Skill groups", "Service flows", "Channels", "Settings", "Service records", "Data analysis", "API access", "Apps"]) {
    assert.ok(all.includes(s), `${s} in ${all}`);
  }
  assert.deepEqual(await axe(p), []);
  await p.context().close();

  const role = await desk.keyApi.post("/roles", { name: "Watchers", scopes: [{ module: "monitoring", groups: null }] });
  const made = await desk.keyApi.post("/agents", { name: "Watcher", nickname: "Watcher", staffNo: "w1", email: "watcher@example.com", roleId: role.id, skillGroupIds: [] });
  const login = await call(desk.api, "POST", "/auth/login", { body: { email: "watcher@example.com", password: made.password } });
  await call(desk.api, "POST", "/auth/password", { token: login.token, body: { currentPassword: made.password, newPassword: PASSWORD } });
  const q = await page(b);
  await consolePage(q, desk, null, { email: "watcher@example.com", password: PASSWORD });
  assert.deepEqual(await menu(q), ["Monitoring"]);
  await openSection(q, "agents");
  await q.getByText("Your role cannot open this page.").waitFor();
  // The server refuses it too, naming the module.
  const refused = await call(desk.api, "GET", "/agents", { token: (await call(desk.api, "POST", "/auth/login", { body: { email: "watcher@example.com", password: PASSWORD } })).token, raw: true });
  assert.equal(refused.status, 403);
  assert.match(JSON.stringify(refused.json), /agents module/);
  assert.deepEqual(q.problems, []);
  await q.context().close();
});

test("the console speaks Chinese when chosen, and the choice is kept", async () => {
  const p = await page(b, { locale: "zh-CN" });
  await consolePage(p, desk);
  assert.ok((await menu(p)).includes("客服管理"));
  await shot(p, "console-shell-zh");
  await p.context().close();
});
