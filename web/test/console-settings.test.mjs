// Settings as an administrator sets them: status after login, routing, reception and the
// user-reply timeout saved as one document (an accept timeout of 3 s and a reply timeout of
// 30 s refused, each under its own field); the proactive rule (30 s refused, 120 s saved);
// rest reasons added (an empty name refused), renamed, disabled and enabled. Each change is
// checked through the API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, calm, consolePage, Desk, page, shot } from "./harness.mjs";

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

const invalid = (scope, label) => scope.locator(".field.invalid", { hasText: label }).locator(".error-text");

test("routing, reception, timeouts, the proactive rule and rest reasons are saved as set", async () => {
  const before = await desk.keyApi.get("/settings");
  const p = await page(b);
  await consolePage(p, desk, "settings");
  const main = p.getByRole("form", { name: "Settings" });
  await main.getByLabel("Accept timeout (seconds)").waitFor();
  assert.deepEqual(await axe(p), []);

  const loginTo = before.loginStatus === "free" ? "Not ready" : "Free";
  await main.getByLabel(new RegExp(`^${loginTo}:`)).check();
  await main.getByLabel(/^Priority in the skill group/).check();
  await main.getByLabel(/^Last receptionist first/).setChecked(!before.routing.lastReceptionistFirst);
  await main.getByLabel(/^Automatic reception/).setChecked(false);
  await main.getByLabel(/^Redirect on timeout/).setChecked(!before.reception.redirectOnTimeout);
  await main.getByLabel(/^Short break after timeout/).setChecked(!before.reception.autoShortBreak);
  await main.getByLabel("Accept timeout (seconds)").fill("3");
  await main.getByRole("button", { name: "Save settings" }).click();
  await invalid(main, "Accept timeout").waitFor();
  assert.equal(await main.getByLabel("Accept timeout (seconds)").evaluate((e) => e === document.activeElement), true);
  assert.deepEqual(await desk.keyApi.get("/settings"), before, "nothing saved");
  await main.getByLabel("Accept timeout (seconds)").fill("45");
  await main.getByLabel(/^End a session after the user is silent/).fill("30");
  await main.getByRole("button", { name: "Save settings" }).click();
  await invalid(main, "End a session after").waitFor();
  assert.equal(await invalid(main, "Accept timeout").count(), 0);
  await main.getByLabel(/^End a session after the user is silent/).fill("600");
  await main.getByLabel("Auto-termination message").fill("We close this chat as you have not replied.");
  await main.getByRole("button", { name: "Save settings" }).click();
  await p.getByText("Settings saved.").waitFor();
  const saved = await desk.keyApi.get("/settings");
  assert.deepEqual(saved, {
    loginStatus: before.loginStatus === "free" ? "not_ready" : "free",
    routing: { basic: "agent_priority", lastReceptionistFirst: !before.routing.lastReceptionistFirst },
    reception: { autoReception: false, acceptTimeoutSecs: 45, redirectOnTimeout: !before.reception.redirectOnTimeout, autoShortBreak: !before.reception.autoShortBreak },
    userReplyTimeoutSecs: 600,
    autoTerminationMessage: "We close this chat as you have not replied.",
  });

  const rule = p.getByRole("form", { name: "Proactive contact" });
  await rule.getByLabel(/^Agents may start chats/).check();
  await rule.getByLabel(/^End an unanswered proactive chat/).fill("30");
  await rule.getByRole("button", { name: "Save rule" }).click();
  await invalid(rule, "End an unanswered").getByText("is not between 60 and 86400 seconds").waitFor();
  await rule.getByLabel(/^End an unanswered proactive chat/).fill("120");
  await rule.getByRole("button", { name: "Save rule" }).click();
  await p.getByText("Proactive contact rule saved.").waitFor();
  assert.deepEqual(await desk.keyApi.get("/settings/proactive"), { enabled: true, timeoutSecs: 120 });

  const add = p.getByRole("form", { name: "Add reason" });
  await add.getByRole("button", { name: "Add reason" }).click();
  await invalid(add, "New reason").waitFor();
  await add.getByLabel("New reason").fill("Lunch");
  await add.getByRole("button", { name: "Add reason" }).click();
  const rest = p.locator("table.rest-table tbody tr");
  await rest.filter({ hasText: "Lunch" }).waitFor();
  await add.getByLabel("New reason").fill("Meeting");
  await add.getByRole("button", { name: "Add reason" }).click();
  await rest.filter({ hasText: "Meeting" }).waitFor();
  await rest.filter({ hasText: "Lunch" }).getByRole("button", { name: "Rename" }).click();
  const dialog = p.getByRole("dialog");
  await dialog.getByLabel("Reason").fill("Lunch break");
  await dialog.getByRole("button", { name: "Save" }).click();
  await rest.filter({ hasText: "Lunch break" }).waitFor();
  await rest.filter({ hasText: "Meeting" }).getByRole("button", { name: "Disable" }).click();
  await rest.filter({ hasText: "Meeting" }).getByText("Disabled").waitFor();
  const reasons = async () => Object.fromEntries((await desk.keyApi.get("/settings/rest-reasons")).map((r) => [r.name, r.enabled]));
  assert.deepEqual(await reasons(), { "Lunch break": true, Meeting: false });
  await rest.filter({ hasText: "Meeting" }).getByRole("button", { name: "Enable" }).click();
  await rest.filter({ hasText: "Meeting" }).getByText("Enabled").waitFor();
  assert.deepEqual(await reasons(), { "Lunch break": true, Meeting: true });
  await rest.filter({ hasText: "Meeting" }).getByRole("button", { name: "Disable" }).click();
  await rest.filter({ hasText: "Meeting" }).getByText("Disabled").waitFor();
  assert.deepEqual(await axe(p), []);
  await calm(p);
  await p.locator(".console-main").evaluate((e) => e.scrollTo(0, 0));
  await shot(p, "console-settings");
  assert.deepEqual(p.problems, []);
  await p.context().close();
});
