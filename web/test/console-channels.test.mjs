// The console's channels: an in-app virtual number (user id, name, avatar, flow, skill group,
// satisfaction, proactive group) and a website channel with its launcher's corner and colour
// and its embed script and link shown with copy buttons; the pickers list the app's flows, groups and configurations; each change
// checked through the API, a refusal shown at the field it names.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, calm, consolePage, Desk, page, shot, until } from "./harness.mjs";

let desk;
let b;
let sales;
let vip;
let flow;
let shop;
before(async () => {
  desk = await Desk.start();
  b = await browser();
  sales = await desk.group("Sales");
  vip = await desk.group("VIP");
  flow = await desk.keyApi.post("/flows", {
    name: "Reception",
    graph: {
      nodes: [
        { id: "start", module: { type: "start" } },
        { id: "desk", module: { type: "transfer_to_agent", group: sales.id } },
        { id: "end", module: { type: "end", replyTimeoutSecs: 0, autoTerminationMessage: "", humanTerminationMessage: "Thank you for chatting with us" } },
      ],
      edges: [{ from: "start", port: "next", to: "desk" }, { from: "desk", port: "next", to: "end" }],
    },
  });
  shop = await desk.website("Shop", sales.id, { rating: true });
  await desk.keyApi.post("/satisfaction-configs", {
    name: "Quick poll", kind: "numeric", levels: [1, 2, 3].map((value) => ({ value, label: `Level ${value}` })), invitationText: "Rate us", thankYouText: "Thanks",
    validitySecs: 600, sendRules: { autoOnEnd: true, agentMayInvite: false, userMayRate: false },
  });
});
after(async () => {
  await b?.close();
  await desk?.stop();
});

const channels = () => desk.keyApi.get("/channels");

test("an in-app virtual number is added with every field, refused at its user id, edited and deleted", async () => {
  const p = await page(b);
  await consolePage(p, desk, "channels");
  await p.getByRole("link", { name: "Shop" }).waitFor();
  assert.deepEqual(await axe(p), []);
  await p.getByRole("link", { name: "Add channel" }).click();
  await p.getByRole("heading", { name: "New channel" }).waitFor();
  await p.getByLabel("Name").fill("App support");
  await p.getByLabel("Virtual number user id").fill("customer service");
  // The pickers offer the app's flows, groups and configurations.
  const flowOptions = await p.getByLabel("Session service flow").locator("option").allInnerTexts();
  assert.deepEqual(flowOptions, ["None", "Reception"]);
  assert.deepEqual(await p.getByLabel("Skill group").locator("option").allInnerTexts(), ["None", "Sales", "VIP"]);
  assert.deepEqual(await p.getByLabel("Satisfaction configuration").locator("option").allInnerTexts(), ["None", "Shop rating", "Quick poll"]);
  // A configuration the Android client cannot draw says so where it is chosen.
  await p.getByLabel("Satisfaction configuration").selectOption({ label: "Quick poll" });
  await p.getByText("Its 3 levels are not shown by the Android client, which draws exactly five.").waitFor();
  await p.getByLabel("Session service flow").selectOption({ label: "Reception" });
  await p.getByLabel("Skill group").selectOption({ label: "Sales" });
  await p.getByLabel("Satisfaction configuration").selectOption({ label: "Shop rating" });
  await p.getByLabel("Proactive contact group").selectOption({ label: "VIP" });
  await p.getByLabel("Avatar URL").fill("https://cdn.example.com/desk.png");
  await p.getByLabel("The flow sends menus and forms as task messages").check();
  await p.getByRole("button", { name: "Save" }).click();
  const refused = await desk.keyApi.raw("POST", "/channels", { name: "x", kind: { type: "in_app", userId: "customer service" } });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error.field, "kind.userId");
  await p.locator(".field.invalid", { has: p.getByLabel("Virtual number user id") }).getByText(refused.json.error.message).waitFor();
  assert.deepEqual(await axe(p), []);
  await p.getByLabel("Virtual number user id").fill("cs-001");
  await p.getByRole("button", { name: "Save" }).click();
  await p.getByRole("heading", { name: "App support" }).waitFor();
  const made = (await channels()).find((c) => c.name === "App support");
  assert.deepEqual(made.kind, { type: "in_app", userId: "cs-001", avatarUrl: "https://cdn.example.com/desk.png", proactiveGroup: vip.id });
  assert.equal(made.flow, flow.id);
  assert.equal(made.skillGroup, sales.id);
  assert.equal(made.satisfaction, shop.satisfaction);
  assert.equal(made.taskMessages, true);
  assert.ok(p.url().endsWith(`#/channels/${made.id}`));
  assert.equal(await p.getByText("Embed script").count(), 0);

  // Edit: a new name and no flow.
  await p.getByLabel("Name").fill("App help");
  await p.getByLabel("Session service flow").selectOption({ label: "None" });
  await p.getByRole("button", { name: "Save" }).click();
  await p.getByRole("heading", { name: "App help" }).waitFor();
  const edited = (await channels()).find((c) => c.id === made.id);
  assert.equal(edited.name, "App help");
  assert.equal(edited.flow ?? null, null);
  assert.equal(edited.kind.userId, "cs-001");
  assert.equal(edited.taskMessages, true, "kept");

  await p.getByRole("button", { name: "Delete" }).click();
  await p.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await p.getByRole("heading", { name: "Channels" }).waitFor();
  assert.ok(!(await channels()).some((c) => c.id === made.id));
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test("a website channel shows the embed script and link the server gives, with copy buttons", async () => {
  const p = await page(b);
  await p.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: desk.base });
  await consolePage(p, desk, "channels/new");
  await p.getByLabel("Name").fill("Help centre");
  await p.getByLabel("Website").check();
  await p.getByLabel("Skill group").selectOption({ label: "VIP" });
  await p.getByLabel("Allowed origins").fill("https://shop.example.com");
  // The launcher: bottom right in the desk's blue until chosen.
  assert.equal(await p.getByLabel("Position").inputValue(), "bottom_right");
  assert.equal(await p.getByLabel("Colour").inputValue(), "#2457c5");
  await p.getByLabel("Position").selectOption({ label: "Bottom left" });
  await p.getByLabel("Colour").fill("#aa3300");
  await p.locator(".ch-color").getByText("#aa3300").waitFor();
  await p.getByRole("button", { name: "Save" }).click();
  await p.getByRole("heading", { name: "Help centre" }).waitFor();
  const made = (await channels()).find((c) => c.name === "Help centre");
  assert.equal(made.kind.type, "website");
  assert.equal(made.skillGroup, vip.id);
  assert.deepEqual(made.allowedOrigins, ["https://shop.example.com"]);
  assert.equal(made.launcherPosition, "bottom_left");
  assert.equal(made.themeColor, "#aa3300");
  assert.equal(await p.getByLabel("Position").inputValue(), "bottom_left", "the saved corner is shown");
  // Another colour, saved with the rest; the corner stays.
  await p.getByLabel("Colour").fill("#1a7f4b");
  await p.getByRole("button", { name: "Save" }).click();
  await until(async () => (await desk.keyApi.get(`/channels/${made.id}`)).themeColor === "#1a7f4b", undefined, "the new colour");
  assert.equal((await desk.keyApi.get(`/channels/${made.id}`)).launcherPosition, "bottom_left");
  const embed = p.getByLabel("Embed script");
  assert.equal(await embed.inputValue(), made.access.embedScript);
  assert.equal(await p.getByLabel("Chat page link").inputValue(), made.access.link);
  assert.match(made.access.embedScript, new RegExp(made.kind.webAppId));
  assert.equal(await p.getByRole("link", { name: "Open the chat page" }).getAttribute("href"), made.access.link);
  // The type is fixed once made.
  assert.ok(await p.getByLabel("In-app virtual number").isDisabled());
  await p.locator(".copyable", { has: embed }).getByRole("button", { name: "Copy" }).click();
  await p.getByText("Copied.").waitFor();
  assert.equal(await p.evaluate(() => navigator.clipboard.readText()), made.access.embedScript);
  assert.deepEqual(await axe(p), []);
  await shot(p, "console-channels");
  await p.getByRole("button", { name: "Save" }).scrollIntoViewIfNeeded();
  await calm(p);
  await shot(p, "console-channels-launcher");
  assert.deepEqual(p.problems, []);
  await p.context().close();
});

test("the channels page in Chinese", async () => {
  const p = await page(b, { locale: "zh-CN" });
  await consolePage(p, desk, `channels/${shop.id}`);
  await p.getByText("嵌入脚本").waitFor();
  await p.getByText("聊天页面链接").waitFor();
  assert.deepEqual(await axe(p), []);
  await shot(p, "console-channels-zh");
  await p.context().close();
});
