// The console's third-party extensions: added with an https URL (any other refused at the
// URL field in the server's words), always visible or only in a session, enabled or not,
// edited and deleted; each change checked through the API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, consolePage, Desk, page, shot } from "./harness.mjs";

let desk;
let b;
before(async () => {
  desk = await Desk.start();
  b = await browser();
  await desk.keyApi.post("/extensions", { name: "Orders", url: "https://orders.example.com/lookup", alwaysVisible: false, enabled: true });
});
after(async () => {
  await b?.close();
  await desk?.stop();
});

const extensions = () => desk.keyApi.get("/extensions");

test("an extension is refused without https, added, edited and deleted", async () => {
  const p = await page(b);
  await consolePage(p, desk, "extensions");
  await p.getByRole("row", { name: /Orders/ }).getByText("During a session").waitFor();
  assert.deepEqual(await axe(p), []);

  // By keyboard: Enter opens the dialog on its first field, Escape closes it and gives the
  // focus back to the button.
  await p.getByRole("button", { name: "Add extension" }).focus();
  await p.keyboard.press("Enter");
  const dialog = p.getByRole("dialog");
  await dialog.waitFor();
  assert.equal(await p.evaluate(() => document.activeElement?.id), await dialog.getByLabel("Tab name").getAttribute("id"));
  await p.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal(await p.evaluate(() => document.activeElement?.textContent), "Add extension");

  await p.getByRole("button", { name: "Add extension" }).click();
  await dialog.getByLabel("Tab name").fill("CRM");
  await dialog.getByLabel("Page URL").fill("http://crm.example.com/customer");
  await dialog.getByLabel("Always visible").check();
  await dialog.getByRole("button", { name: "Save" }).click();
  const refused = await desk.keyApi.raw("POST", "/extensions", { name: "CRM", url: "http://crm.example.com/customer", alwaysVisible: true, enabled: true });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error.field, "url");
  await dialog.locator(".field.invalid", { has: p.getByLabel("Page URL") }).getByText(refused.json.error.message).waitFor();
  assert.deepEqual(await axe(p), []);
  await dialog.getByLabel("Page URL").fill("https://crm.example.com/customer");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  const crm = p.getByRole("row", { name: /CRM/ });
  await crm.getByText("Always").waitFor();
  const made = (await extensions()).find((x) => x.name === "CRM");
  assert.deepEqual({ ...made, id: 0 }, { id: 0, name: "CRM", url: "https://crm.example.com/customer", alwaysVisible: true, enabled: true });
  await shot(p, "console-extensions");

  await p.getByRole("button", { name: "Edit CRM" }).click();
  await dialog.getByLabel("Enabled").uncheck();
  await dialog.getByLabel("Always visible").uncheck();
  await dialog.getByRole("button", { name: "Save" }).click();
  await crm.getByText("Off").waitFor();
  const edited = (await extensions()).find((x) => x.id === made.id);
  assert.equal(edited.enabled, false);
  assert.equal(edited.alwaysVisible, false);

  await p.getByRole("button", { name: "Delete CRM" }).click();
  await dialog.getByRole("button", { name: "Delete" }).click();
  await crm.waitFor({ state: "detached" });
  assert.ok(!(await extensions()).some((x) => x.id === made.id));
  assert.deepEqual(p.problems, []);
  await p.context().close();
});
