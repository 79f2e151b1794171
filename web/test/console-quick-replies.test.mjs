// The console's quick replies: listed under their groups, searched and filtered, added,
// edited and deleted in a dialog, and uploaded by CSV with every bad cell shown; each change
// checked through the API, each refusal shown at the field it names.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { axe, browser, consolePage, Desk, page, shot, until } from "./harness.mjs";

let desk;
let b;
before(async () => {
  desk = await Desk.start();
  b = await browser();
  for (const [group, title, content] of [
    ["Greetings", "Hello", "Hello, how can I help you today?"],
    ["Greetings", "Goodbye", "Thank you for contacting us. Have a nice day!"],
    ["Prices", "Shipping cost", "Shipping is free for orders over 50 EUR."],
  ]) await desk.keyApi.post("/quick-replies", { group, title, content });
});
after(async () => {
  await b?.close();
  await desk?.stop();
});

const replies = () => desk.keyApi.get("/quick-replies");
const group = (p, name) => p.locator("section.qr-group", { has: p.getByRole("heading", { name: new RegExp(`^${name}`) }) });

test("quick replies are listed by group, added, edited, searched and deleted", async () => {
  const p = await page(b);
  await consolePage(p, desk, "quick-replies");
  await group(p, "Greetings").getByRole("cell", { name: "Goodbye", exact: true }).waitFor();
  assert.equal(await group(p, "Prices").getByRole("row").count(), 2);
  assert.deepEqual(await axe(p), []);

  // A refusal lands under the field it names, in the server's words.
  await p.getByRole("button", { name: "Add quick reply" }).click();
  const dialog = p.getByRole("dialog");
  await dialog.getByLabel("Group").fill("Prices");
  await dialog.getByLabel("Content").fill("Returns are free within 30 days.");
  await dialog.getByRole("button", { name: "Save" }).click();
  const refused = await desk.keyApi.raw("POST", "/quick-replies", { group: "Prices", title: "", content: "Returns are free within 30 days." });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error.field, "title");
  const titleField = dialog.locator(".field.invalid", { has: p.getByLabel("Title") });
  await titleField.locator(".error-text").filter({ hasText: refused.json.error.message }).waitFor();
  assert.equal(await p.evaluate(() => document.activeElement?.closest(".field")?.querySelector("label")?.textContent), "Title");
  assert.deepEqual(await axe(p), []);
  await dialog.getByLabel("Title").fill("Returns");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  await group(p, "Prices").getByRole("cell", { name: "Returns", exact: true }).waitFor();
  assert.ok((await replies()).some((r) => r.group === "Prices" && r.title === "Returns" && r.content === "Returns are free within 30 days."));

  // Edit: a new group moves it there.
  await p.getByRole("button", { name: "Edit Returns" }).click();
  await dialog.getByLabel("Group").fill("After sales");
  await dialog.getByLabel("Content").fill("Returns are free within 60 days.");
  await dialog.getByRole("button", { name: "Save" }).click();
  await group(p, "After sales").getByRole("cell", { name: "Returns are free within 60 days.", exact: true }).waitFor();
  const edited = (await replies()).find((r) => r.title === "Returns");
  assert.equal(edited.group, "After sales");
  assert.equal(edited.content, "Returns are free within 60 days.");

  // Search and the group filter ask the server.
  await p.getByLabel("Search quick replies").fill("free");
  await until(async () => (await p.locator("section.qr-group").count()) === 2, 10_000, "two groups with 'free'");
  assert.equal(await p.getByRole("cell", { name: "Hello", exact: true }).count(), 0);
  await p.getByLabel("Search quick replies").fill("");
  await p.getByLabel("Group", { exact: true }).selectOption("Greetings");
  await until(async () => (await p.locator("section.qr-group").count()) === 1, 10_000, "only Greetings");
  await group(p, "Greetings").getByRole("cell", { name: "Hello", exact: true }).waitFor();
  await p.getByLabel("Group", { exact: true }).selectOption("");
  await group(p, "After sales").waitFor();
  await shot(p, "console-quick-replies");

  // Delete, after asking.
  await p.getByRole("button", { name: "Delete Goodbye" }).click();
  await p.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await p.getByRole("cell", { name: "Goodbye", exact: true }).waitFor({ state: "detached" });
  assert.ok(!(await replies()).some((r) => r.title === "Goodbye"));
  // Its button went with it: the focus is on the page's heading, not lost.
  assert.equal(await p.evaluate(() => document.activeElement?.textContent), "Quick replies");
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test("a CSV upload lists every bad cell and imports nothing, then a good one imports all", async () => {
  const p = await page(b);
  await consolePage(p, desk, "quick-replies");
  await p.getByRole("button", { name: "Bulk upload" }).click();
  const box = p.locator("section.card-box", { has: p.getByRole("heading", { name: "Bulk upload" }) });
  const [download] = await Promise.all([p.waitForEvent("download"), box.getByRole("button", { name: "Download template" }).click()]);
  assert.equal(download.suggestedFilename(), "quick-replies.csv");
  const template = fs.readFileSync(await download.path(), "utf8");
  assert.match(template, /^\uFEFF?group,title,content\r?\n/);
  const before = (await replies()).length;

  const bad = "group,title,content\nHolidays,Opening hours,We are open 9 to 5.\n,Closed,We are closed today.\nHolidays,Open late,\n";
  await box.getByLabel("CSV file").setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
  const errors = box.getByRole("alert");
  await errors.getByText(/Nothing was imported/).waitFor();
  const cells = await errors.locator("tbody tr").evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll("td")].slice(0, 2).map((c) => c.textContent)));
  assert.deepEqual(cells, [["3", "group"], ["4", "content"]]);
  assert.equal((await replies()).length, before);
  assert.deepEqual(await axe(p), []);

  const good = "group,title,content\nHolidays,Opening hours,We are open 9 to 5.\nHolidays,Closed days,We are closed on public holidays.\n";
  await box.getByLabel("CSV file").setInputFiles({ name: "good.csv", mimeType: "text/csv", buffer: Buffer.from(good) });
  await p.getByText("Imported 2.").waitFor();
  await group(p, "Holidays").getByRole("cell", { name: "Closed days", exact: true }).waitFor();
  assert.equal((await replies()).filter((r) => r.group === "Holidays").length, 2);
  await p.context().close();
});
