// Signing in as a person does: email and password, wrong ones and a lock shown in words, the
// forced first-password change, administrators' choice, and the ways a sign-in ends (signing
// out, a sign-in elsewhere, an administrator) returning to the sign-in page with the reason.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, call, Desk, page, PASSWORD, shot, signInPage, until } from "./harness.mjs";

let desk, b, group;

before(async () => {
  desk = await Desk.start();
  group = await desk.group("Sales");
  b = await browser();
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

const status = async (id) => (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === id)?.status;

test("the sign-in page passes axe in English and Chinese, and an agent lands on the workstation, online", async () => {
  const agent = await desk.agent(1, [group.id]);
  const zh = await page(b, { locale: "zh-CN" });
  await zh.goto(`${desk.base}/`);
  await zh.getByRole("heading", { name: "登录" }).waitFor();
  await shot(zh, "signin-zh-CN");
  assert.deepEqual(await axe(zh), []);
  const p = await page(b);
  await p.goto(`${desk.base}/`);
  await p.getByRole("heading", { name: "Sign in" }).waitFor();
  await shot(p, "signin-en");
  assert.deepEqual(await axe(p), []);
  await signInPage(p, desk, agent);
  await until(async () => (await status(agent.id)) === "free", 10_000, "the agent online with the login status");
  assert.deepEqual(await axe(p), []);
  assert.deepEqual([...p.problems, ...zh.problems], []);
});

test("a wrong password is told as such, and the lock after repeated ones says when to try again", async () => {
  const agent = await desk.agent(2, [group.id]);
  const p = await page(b);
  await p.goto(`${desk.base}/`);
  await p.getByLabel("Email").fill(agent.email);
  await p.getByLabel("Password").fill("not the password");
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByRole("alert").filter({ hasText: "Wrong email or password." }).waitFor();
  let locked = false;
  for (let i = 0; i < 8 && !locked; i++) {
    await p.getByRole("button", { name: "Sign in" }).click();
    await p.getByRole("button", { name: "Sign in" }).waitFor();
    await until(async () => !(await p.getByRole("button", { name: "Sign in" }).isDisabled()), 10_000, "the answer");
    locked = (await p.getByRole("alert").textContent()).includes("Too many attempts");
  }
  assert.ok(locked, "the lock is shown");
  assert.match(await p.getByRole("alert").textContent(), /Try again in \d+/);
});

test("the first sign-in's forced password change, then the workstation", async () => {
  const agent = await desk.agent(3, [group.id], { change: false });
  const p = await page(b);
  await p.goto(`${desk.base}/`);
  await p.getByLabel("Email").fill(agent.email);
  await p.getByLabel("Password").fill(agent.password);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByRole("heading", { name: "Choose a new password" }).waitFor();
  assert.deepEqual(await axe(p), []);
  await p.getByLabel("New password", { exact: true }).fill(PASSWORD);
  await p.getByLabel("Repeat the new password").fill(PASSWORD);
  await p.getByRole("button", { name: "Change password" }).click();
  await p.waitForURL(/\/workstation$/);
  const login = await call(desk.api, "POST", "/auth/login", { body: { email: agent.email, password: PASSWORD }, raw: true });
  assert.equal(login.status, 200, "the new password signs in");
  assert.equal(login.json.mustChangePassword, false);
});

test("an administrator chooses the workstation or the console, and the console links to the workstation", async () => {
  const admin = await desk.adminApi.post("/agents", { name: "Second admin", nickname: "Admin 2", staffNo: "adm2", email: "admin2@example.com", roleId: 1 });
  const first = await call(desk.api, "POST", "/auth/login", { body: { email: "admin2@example.com", password: admin.password } });
  await call(desk.api, "POST", "/auth/password", { token: first.token, body: { currentPassword: admin.password, newPassword: PASSWORD } });
  const p = await page(b);
  await p.goto(`${desk.base}/`);
  await p.getByLabel("Email").fill("admin2@example.com");
  await p.getByLabel("Password").fill(PASSWORD);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByRole("heading", { name: "Where to?" }).waitFor();
  assert.deepEqual(await axe(p), []);
  await p.getByRole("link", { name: /Administration console/ }).click();
  await p.waitForURL(/\/console$/);
  await p.getByRole("navigation", { name: "Console menu" }).waitFor();
  assert.deepEqual(await axe(p), []);
  await p.getByRole("link", { name: "Workstation", exact: true }).click();
  await p.waitForURL(/\/workstation$/);
  await p.locator(".status-select").waitFor();
});

test("signing out takes the agent offline, ends the token and returns to sign-in", async () => {
  const agent = await desk.agent(4, [group.id]);
  const p = await page(b);
  await signInPage(p, desk, agent);
  await until(async () => (await status(agent.id)) === "free", 10_000, "online");
  const token = await p.evaluate(() => JSON.parse(sessionStorage.getItem("helpline.signin")).token);
  await p.getByRole("button", { name: "Sign out" }).click();
  await p.waitForURL(/\/$/);
  await p.getByRole("status").filter({ hasText: "You signed out." }).waitFor();
  assert.equal(await status(agent.id), "offline");
  assert.equal((await call(desk.api, "GET", "/auth/me", { token, raw: true })).status, 401);
});

test("a sign-in elsewhere, or an administrator forcing the agent offline, returns to sign-in with the reason", async () => {
  const agent = await desk.agent(5, [group.id]);
  const p = await page(b);
  await signInPage(p, desk, agent);
  await desk.signIn(agent);
  await p.waitForURL(/\/$/);
  await p.getByRole("status").filter({ hasText: "You signed in somewhere else" }).waitFor();
  await signInPage(p, desk, agent);
  await desk.adminApi.post(`/agents/${agent.id}/force-offline`, {});
  await p.waitForURL(/\/$/);
  await p.getByRole("status").filter({ hasText: "An administrator took you offline." }).waitFor();
});

test("a sign-in that expires returns to sign-in, saying it expired", async () => {
  const short = await Desk.start({ tokenTtlSecs: 60 });
  try {
    const g = await short.group("Night");
    const agent = await short.agent(1, [g.id]);
    const p = await page(b);
    await signInPage(p, short, agent);
    await p.waitForURL(/\/$/, { timeout: 75_000 });
    await p.getByRole("status").filter({ hasText: "Your sign-in expired." }).waitFor();
  } finally {
    await short.stop();
  }
});
