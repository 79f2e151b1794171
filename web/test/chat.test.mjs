// Serving a chat from offer to rating and end: the transcript renders the flow's menu and
// form with the user's choices and the user's card; typing goes both ways; Enter sends and
// Shift+Enter breaks the line; `#` quick replies and the quick reply panel; a card; the
// rating invitation and the user's rating; the end. Each checked on the user's side or
// through the API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, browser, Desk, page, shot, signInPage, until } from "./harness.mjs";

let desk, b, group, channel, agent, p, user;

const node = (id, module) => ({ id, module });
const edge = (from, port, to) => ({ from, port, to });

before(async () => {
  desk = await Desk.start();
  group = await desk.group("Support");
  const flow = await desk.adminApi.post("/flows", {
    name: "reception",
    graph: {
      nodes: [
        node("start", { type: "start" }),
        node("menu", { type: "branch", style: "menu", text: "Please select the service you require", invalidPrompt: "Please pick one",
          options: [{ port: "pre", content: "Pre-sales" }, { port: "after", content: "After-sales" }] }),
        node("topic", { type: "collect", form: "options", text: "What is it about?", variable: "topic", invalidPrompt: "Please pick one", options: [{ content: "Delivery" }, { content: "Refund" }] }),
        node("desk", { type: "transfer_to_agent", group: group.id }),
        node("end", { type: "end", replyTimeoutSecs: 0, autoTerminationMessage: "", humanTerminationMessage: "Thank you for chatting with us" }),
      ],
      edges: [edge("start", "next", "menu"), edge("menu", "pre", "topic"), edge("menu", "after", "topic"), edge("topic", "next", "desk"), edge("desk", "next", "end")],
    },
  });
  channel = await desk.website("Shop", group.id, { rating: true });
  await desk.adminApi.put(`/channels/${channel.id}`, { name: "Shop", kind: { type: "website" }, skillGroup: group.id, satisfaction: channel.satisfaction, flow: flow.id });
  for (const [g, title, content] of [["Greetings", "Hello", "Hello, how can I help you today?"], ["Refunds", "Refund time", "Refunds reach your account within 5 working days."], ["Refunds", "Refund form", "Please fill in the refund form on your order page."]]) {
    await desk.adminApi.post("/quick-replies", { group: g, title, content });
  }
  agent = await desk.agent(1, [group.id]);
  b = await browser();
  p = await page(b);
  await signInPage(p, desk, agent);
  await until(async () => (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === agent.id)?.status === "free", 15_000, "the agent free");
  user = await desk.user(channel);
  user.say("hi");
  await user.frame((f) => f.type === "message" && f.body.type === "custom" && f.body.data.includes('"15"'), 10_000, "the menu");
  user.say("Pre-sales");
  await user.frame((f) => f.type === "message" && f.body.type === "custom" && f.body.data.includes('"21"'), 10_000, "the form");
  user.say("Refund");
  await p.locator(".offer").getByRole("button", { name: "Accept" }).click();
  await user.frame((f) => f.type === "message" && f.body.type === "custom" && f.body.data.includes("inSeat"), 10_000, "inSeat");
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

const sent = (text) => user.frame((f) => f.type === "message" && f.from !== user.id && f.body.type === "text" && f.body.text === text, 10_000, `"${text}" at the user`);

test("the transcript shows the flow's menu and form with the user's choices", async () => {
  const menu = p.locator(".choices", { hasText: "Please select the service you require" });
  await menu.waitFor();
  assert.equal(await menu.locator("li.chosen").textContent(), "Pre-sales");
  await p.locator(".choices", { hasText: "What is it about?" }).locator("li.chosen", { hasText: "Refund" }).waitFor();
  assert.deepEqual(await axe(p), []);
});

test("invite rating: the user gets the satisfaction menu, rates, and the agent sees the rating", async () => {
  await p.getByRole("button", { name: "Invite rating" }).click();
  const menu = await user.frame((f) => f.type === "message" && f.body.type === "custom" && JSON.parse(f.body.data).src === "9", 10_000, "src 9");
  const content = JSON.parse(menu.body.data).menuContent;
  const best = content.menu[content.menu.length - 1];
  user.desk(10, { menuSelected: { id: best.id, content: best.content, sessionId: content.sessionId } }, true);
  await p.locator(".rating-msg li.chosen", { hasText: best.content }).waitFor();
  await p.locator(".chat-banner", { hasText: "Rated 5" }).waitFor();
  await p.locator(".toast").first().waitFor({ state: "detached" });
  // The menu at the top of the view, the rating below it, for the picture.
  const box = p.locator(".transcript");
  const at = () => box.evaluate((e) => [e.scrollTop, e.scrollHeight, e.clientHeight]);
  await box.hover();
  await p.mouse.wheel(0, -60);
  await until(async () => (await at())[0] < (await at())[1] - (await at())[2] - 30, 5_000, "the wheel");
  // The view stays where the agent scrolled it, across the re-renders of the clock's ticks.
  const [top] = await at();
  const since = p.locator(".chat-item.on .since");
  const tick = await since.textContent();
  await until(async () => (await since.textContent()) !== tick, 5_000, "a tick of the clock");
  assert.equal((await at())[0], top, "no jump after scrolling");
  await shot(p, "chat-menu-rating-en");
  await p.locator("select[aria-label='Language']").selectOption("zh-CN");
  await p.locator(".chat-banner", { hasText: "评价 5" }).waitFor();
  await p.locator(".toast").first().waitFor({ state: "detached" });
  await shot(p, "chat-menu-rating-zh-CN");
  assert.deepEqual(await axe(p), []);
  await p.locator("select[aria-label='语言']").selectOption("en");
});

test("Enter sends, Shift+Enter breaks the line, and the user sees the agent typing", async () => {
  const box = p.locator("#composer-input");
  await box.click();
  await p.keyboard.type("First line");
  await p.keyboard.press("Shift+Enter");
  await p.keyboard.type("second line");
  await user.frame((f) => f.type === "message" && f.body.type === "custom" && f.body.data.includes('"12"'), 10_000, "typing at the user");
  await p.keyboard.press("Enter");
  await sent("First line\nsecond line");
  assert.equal(await box.inputValue(), "");
  await p.locator(".msg.from-agent", { hasText: "second line" }).waitFor();
  assert.equal(await p.locator(".msg.from-agent", { hasText: "second line" }).count(), 1, "shown once");
});

test("the user's typing shows, and a user's message is announced", async () => {
  user.desk(12, {}, true);
  await p.locator(".typing", { hasText: "typing" }).waitFor();
  user.say("Where is my refund?");
  await p.locator(".msg.from-user", { hasText: "Where is my refund?" }).waitFor();
  assert.match(await p.locator("#live-messages").textContent(), /Where is my refund\?/);
});

test("# opens the quick replies: keyword search, arrow keys and Enter insert the reply", async () => {
  await p.locator("#composer-input").click();
  await p.keyboard.type("#refund");
  const popup = p.locator("#qr-popup");
  await popup.waitFor();
  assert.equal(await popup.locator(".qr-option").count(), 2);
  assert.equal(await popup.locator(".qr-option").first().getAttribute("aria-selected"), "true");
  await p.keyboard.press("ArrowDown");
  assert.equal(await popup.locator(".qr-option").nth(1).getAttribute("aria-selected"), "true");
  await p.keyboard.press("Enter");
  await popup.waitFor({ state: "detached" });
  assert.equal(await p.locator("#composer-input").inputValue(), "Refunds reach your account within 5 working days.");
  await p.keyboard.press("Enter");
  await sent("Refunds reach your account within 5 working days.");
});

test("the quick reply panel sends a reply of a group, the user's card shows, and a card is sent", async () => {
  user.desk(22, { content: { header: "Blue kettle", desc: "1.7 l, steel", pic: "https://shop.example/kettle.png", url: "https://shop.example/kettle" } }, false);
  await p.locator(".card-msg", { hasText: "Blue kettle" }).waitFor();
  const item = p.locator(".qr-item", { hasText: "Hello, how can I help you today?" });
  await item.getByRole("button", { name: "Send" }).click();
  await sent("Hello, how can I help you today?");
  await p.getByRole("button", { name: "Card", exact: true }).click();
  await p.getByLabel("Title").fill("Order 1042");
  await p.getByLabel("Description").fill("Refund requested");
  await p.getByRole("button", { name: "Send card" }).click();
  const card = await user.frame((f) => f.type === "message" && f.body.type === "custom" && f.body.data.includes("Order 1042"), 10_000, "the card");
  assert.equal(JSON.parse(card.body.data).src, "22");
});

test("End ends the chat: the user hears it ended and the record says the agent ended it", async () => {
  await p.getByRole("button", { name: "End", exact: true }).click();
  await user.frame((f) => f.type === "message" && f.body.type === "custom" && JSON.parse(f.body.data).src === "19", 10_000, "src 19");
  await p.locator(".chat-banner", { hasText: "Chat ended (by you)" }).waitFor();
  await p.locator(".finished .chat-item").waitFor();
  const rec = await until(async () => (await desk.adminApi.get("/records")).records.find((r) => r.closeBy === "seat"), 10_000, "the record");
  assert.equal(rec.satisfaction.value, 5);
  assert.deepEqual(p.problems, []);
});
