// The console's API access: an API key made (its secret shown once, and it works), listed
// without its secret, revoked after asking (and refused from then on); the IM secret made and
// rotated, shown once, with the old one's grace period as the server says.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, call, consolePage, Desk, page, shot } from "./harness.mjs";

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

test("an API key is shown once, works, and is revoked; an empty name is refused at its field", async () => {
  const p = await page(b);
  await consolePage(p, desk, "access");
  const keys = p.locator("section", { has: p.getByRole("heading", { name: "API keys" }) });
  await keys.getByRole("cell", { name: "browser tests", exact: true }).waitFor();
  assert.deepEqual(await axe(p), []);

  await keys.getByRole("button", { name: "Create key" }).click();
  const refused = await desk.keyApi.raw("POST", "/api-keys", { name: "" });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error.field, "name");
  await keys.locator(".field.invalid").getByText(refused.json.error.message).waitFor();

  await keys.getByLabel("What the key is for").fill("Order system");
  await keys.getByRole("button", { name: "Create key" }).click();
  const dialog = p.getByRole("dialog", { name: "API key created" });
  await dialog.getByText("Shown once").waitFor();
  const secret = await dialog.getByLabel("API key").inputValue();
  assert.ok(secret.length > 20);
  assert.deepEqual(await axe(p), []);
  await dialog.getByRole("button", { name: "Close" }).last().click();
  await dialog.waitFor({ state: "detached" });
  // Listed without its secret; the key works.
  await keys.getByRole("cell", { name: "Order system", exact: true }).waitFor();
  assert.equal(await p.getByText(secret).count(), 0);
  const listed = await desk.keyApi.get("/api-keys");
  const made = listed.find((k) => k.name === "Order system");
  assert.deepEqual(Object.keys(made).sort(), ["id", "name"]);
  assert.ok(Array.isArray(await desk.as(secret).get("/channels")));

  await keys.getByRole("button", { name: "Revoke Order system" }).click();
  await p.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
  await keys.getByRole("cell", { name: "Order system", exact: true }).waitFor({ state: "detached" });
  assert.ok(!(await desk.keyApi.get("/api-keys")).some((k) => k.id === made.id));
  assert.equal((await desk.as(secret).raw("GET", "/channels")).status, 401);
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test("the IM secret is made, then rotated with the old one's grace period shown", async () => {
  const p = await page(b);
  await consolePage(p, desk, "access");
  const im = p.locator("section", { has: p.getByRole("heading", { name: "IM secret" }) });
  await im.getByText(/Not configured/).waitFor();
  await im.getByRole("button", { name: "Make secret" }).click();
  await p.getByRole("dialog").getByRole("button", { name: "Rotate secret" }).click();
  const shown = p.getByRole("dialog", { name: "New IM secret" });
  await shown.getByText("This is the app's first secret.").waitFor();
  const first = await shown.getByLabel("IM secret").inputValue();
  assert.ok(first.length > 20);
  await shown.getByRole("button", { name: "Close" }).last().click();
  await im.getByText("Configured").waitFor();
  assert.equal((await desk.keyApi.get("/im/secret")).configured, true);

  await im.getByRole("button", { name: "Rotate secret" }).click();
  await p.getByRole("dialog").getByRole("button", { name: "Rotate secret" }).click();
  await shown.getByText(/Tokens signed with the old secret keep working until/).waitFor();
  const second = await shown.getByLabel("IM secret").inputValue();
  assert.notEqual(second, first);
  assert.deepEqual(await axe(p), []);
  await shown.getByRole("button", { name: "Close" }).last().click();
  await im.getByText(/The previous secret still works until/).waitFor();
  await shot(p, "console-access");
  const status = await desk.keyApi.get("/im/secret");
  assert.ok(status.previousValidUntilMs > Date.now());
  // The new secret signs user tokens the desk accepts.
  desk.secret = second;
  const ch = await desk.keyApi.post("/channels", { name: "App", kind: { type: "in_app", userId: "cs-1" } });
  const user = await desk.inAppUser("user-1", ch.kind.userId);
  user.close();
  await p.context().close();
});
