// The console's satisfaction configurations: stars or numbers, 1-10 labelled levels, the
// texts, the validity period and the send rules; which channels use each; the Android
// client's five-level limit marked; each change checked through the API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, consolePage, Desk, page, shot } from "./harness.mjs";

let desk;
let b;
before(async () => {
  desk = await Desk.start();
  b = await browser();
  const g = await desk.group("Sales");
  await desk.website("Shop", g.id, { rating: true });
});
after(async () => {
  await b?.close();
  await desk?.stop();
});

const configs = () => desk.keyApi.get("/satisfaction-configs");
const row = (p, name) => p.getByRole("row", { name: new RegExp(name) });

test("a configuration is added with three numeric levels, edited, and deleted once unbound", async () => {
  const p = await page(b);
  await consolePage(p, desk, "satisfaction");
  const shop = row(p, "Shop rating");
  await shop.getByRole("link", { name: "Shop" }).waitFor();
  assert.equal(await shop.getByText("Not shown by the Android client").count(), 0);
  assert.deepEqual(await axe(p), []);

  await p.getByRole("button", { name: "Add configuration" }).click();
  const dialog = p.getByRole("dialog");
  await dialog.getByLabel("Name").fill("Post-chat survey");
  await dialog.getByLabel("Numbers").check();
  await dialog.getByRole("button", { name: "Remove level 5" }).click();
  await dialog.getByRole("button", { name: "Remove level 4" }).click();
  await dialog.getByText("Not shown by the Android client").waitFor();
  await dialog.getByLabel("Level 1 label").fill("Poor");
  await dialog.getByLabel("Level 2 label").fill("Fine");
  await dialog.getByLabel("Level 3 label").fill("Great");
  await dialog.getByLabel("Invitation text").fill("How did we do?");
  await dialog.getByLabel("Thank-you text").fill("Thanks for telling us");
  await dialog.getByLabel("Agents may invite during the session").uncheck();
  await dialog.getByLabel("Users may ask to rate during human service").check();
  // Too short a validity: the server's words under the validity field.
  await dialog.getByLabel("Invitation valid for").fill("0");
  await dialog.getByRole("button", { name: "Save" }).click();
  const refused = await desk.keyApi.raw("POST", "/satisfaction-configs", {
    name: "x", kind: "numeric", levels: [{ value: 1, label: "a" }], invitationText: "a", thankYouText: "b", validitySecs: 0,
    sendRules: { autoOnEnd: true, agentMayInvite: false, userMayRate: true },
  });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error.field, "validitySecs");
  await dialog.locator(".field.invalid", { has: p.getByLabel("Invitation valid for") }).getByText(refused.json.error.message).waitFor();
  assert.deepEqual(await axe(p), []);
  await dialog.getByLabel("Invitation valid for").fill("2");
  await dialog.getByLabel("Unit of the validity period").selectOption("hours");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  const survey = row(p, "Post-chat survey");
  await survey.getByText("Not shown by the Android client").waitFor();
  const made = (await configs()).find((c) => c.name === "Post-chat survey");
  assert.equal(made.kind, "numeric");
  assert.deepEqual(made.levels, [{ value: 1, label: "Poor" }, { value: 2, label: "Fine" }, { value: 3, label: "Great" }]);
  assert.equal(made.invitationText, "How did we do?");
  assert.equal(made.thankYouText, "Thanks for telling us");
  assert.equal(made.validitySecs, 7200);
  assert.deepEqual(made.sendRules, { autoOnEnd: true, agentMayInvite: false, userMayRate: true });
  await shot(p, "console-satisfaction");

  // Edit: back to five levels, and the warning goes.
  await p.getByRole("button", { name: "Edit Post-chat survey" }).click();
  assert.equal(await dialog.getByLabel("Invitation valid for").inputValue(), "2");
  await dialog.getByRole("button", { name: "Add level" }).click();
  await dialog.getByLabel("Level 4 label").fill("Excellent");
  await dialog.getByRole("button", { name: "Add level" }).click();
  await dialog.getByLabel("Level 5 label").fill("Outstanding");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  await survey.getByText("5 levels").waitFor();
  assert.equal(await survey.getByText("Not shown by the Android client").count(), 0);
  assert.deepEqual((await configs()).find((c) => c.name === "Post-chat survey").levels.map((l) => l.label), ["Poor", "Fine", "Great", "Excellent", "Outstanding"]);

  // A bound configuration is refused in the dialog; an unbound one goes.
  await p.getByRole("button", { name: "Delete Shop rating" }).click();
  await dialog.getByRole("button", { name: "Delete" }).click();
  await dialog.getByRole("alert").getByText(/bound/).waitFor();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  assert.ok((await configs()).some((c) => c.name === "Shop rating"));
  await p.getByRole("button", { name: "Delete Post-chat survey" }).click();
  await dialog.getByRole("button", { name: "Delete" }).click();
  await survey.waitFor({ state: "detached" });
  assert.ok(!(await configs()).some((c) => c.name === "Post-chat survey"));
  assert.deepEqual(p.problems, []);
  await p.context().close();
});
