// The hosted chat page (/web/im/chat/?webAppId=), a visitor's whole chat against the agent's
// workstation: the flow's menu and form answered by buttons, the queue, the agent accepts,
// both sides talk, typing both ways, a card, files both ways, the agent invites a rating and
// the visitor rates with the stars, the visitor ends the chat; a returning visitor keeps its
// history; the socket dropped at random frames loses and doubles nothing (compared with a
// steady socket of the same visitor and with the stored conversation); the offline banner;
// a phone in Chinese. Checked through the API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { axe, browser, Desk, page, shot, signInPage, until, User } from "./harness.mjs";

let desk, b, group, channel, agent, ws, v, chatUrl;

const sha = (bytes) => crypto.createHash("sha256").update(bytes).digest("hex");
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==",
  "base64",
);
const PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
    "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
);
const node = (id, module) => ({ id, module });
const edge = (from, port, to) => ({ from, port, to });

/** The visitor's token, as the page keeps it. */
const visitorToken = (p) => p.evaluate((id) => localStorage.getItem(`helpline.visitor.${id}`), channel.kind.webAppId);

/** The conversation as the API has it, for the visitor of page `p`. */
async function history(p) {
  const token = await visitorToken(p);
  const get = (route) => fetch(`${desk.api}/api/v1/im${route}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json());
  const [conversation] = await get("/conversations");
  if (!conversation) return [];
  const all = [];
  for (let after = 0; ; ) {
    const page = await get(`/conversations/${conversation.id}/messages?after=${after}&limit=100`);
    all.push(...page);
    if (page.length < 100) return all;
    after = page[page.length - 1].seq;
  }
}

function tempFile(name, bytes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hl-widget-"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

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
  channel = await desk.website("Acme Shop", group.id, { rating: true });
  await desk.adminApi.put(`/channels/${channel.id}`, { name: "Acme Shop", kind: { type: "website" }, skillGroup: group.id, satisfaction: channel.satisfaction, flow: flow.id });
  chatUrl = `${desk.base}/web/im/chat/?webAppId=${channel.kind.webAppId}`;
  agent = await desk.agent(1, [group.id]);
  b = await browser();
  ws = await page(b);
  await signInPage(ws, desk, agent);
  await until(async () => (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === agent.id)?.status === "free", 15_000, "the agent free");
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

test("a visitor answers the flow with buttons, waits, and is connected to the agent", async () => {
  // The agent busy: the session waits in the queue until the agent is free again.
  await ws.locator("#status-select").selectOption("busy");
  await until(async () => (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === agent.id)?.status === "busy", 10_000, "the agent busy");
  v = await page(b);
  await v.goto(chatUrl);
  await v.getByRole("heading", { name: "Acme Shop" }).waitFor();
  const menu = v.locator(".choices", { hasText: "Please select the service you require" });
  await menu.waitFor();
  assert.deepEqual(await axe(v), []);
  await menu.getByRole("button", { name: "Pre-sales" }).click();
  // Locked once chosen: the choice pressed, every option disabled.
  await menu.getByRole("button", { name: "Pre-sales", pressed: true }).waitFor();
  assert.equal(await menu.getByRole("button", { name: "After-sales" }).isDisabled(), true);
  const form = v.locator(".choices", { hasText: "What is it about?" });
  await form.getByRole("button", { name: "Refund" }).click();
  await form.getByRole("button", { name: "Refund", pressed: true }).waitFor();
  // No agent free: the visitor is first in the queue.
  await v.locator(".status.queue", { hasText: "You are number 1 in the queue" }).waitFor();
  assert.match(await v.locator(".seat").textContent(), /Waiting for an agent/);
  await shot(v, "widget-menu-queue");
  await ws.locator("#status-select").selectOption("free");
  await ws.locator(".offer").getByRole("button", { name: "Accept" }).click();
  await v.locator(".seat.on", { hasText: "Connected to Agent 1" }).waitFor();
  await v.locator(".status.queue").waitFor({ state: "detached" });
  // The visitor's answers are stored as the visitor's own messages, in order.
  const texts = (await history(v)).filter((m) => m.sender === "user" && m.body.type === "text").map((m) => m.body.text);
  assert.deepEqual(texts, ["Pre-sales", "Refund"]);
});

test("both sides talk and see each other typing; the agent's card shows", async () => {
  await ws.locator("#composer-input").click();
  await ws.keyboard.type("Hello, I can help with the refund.");
  await v.locator(".status.typing", { hasText: "Agent 1 is typing" }).waitFor();
  await ws.keyboard.press("Enter");
  await v.locator(".row.theirs", { hasText: "Hello, I can help with the refund." }).waitFor();

  const box = v.getByLabel("Message");
  await box.click();
  await v.keyboard.type("Order 1042 arrived broken");
  await ws.locator(".typing", { hasText: "typing" }).waitFor();
  await v.keyboard.press("Enter");
  await ws.locator(".msg.from-user", { hasText: "Order 1042 arrived broken" }).waitFor();
  assert.equal(await box.inputValue(), "");
  await v.locator(".row.mine", { hasText: "Order 1042 arrived broken" }).locator("time").waitFor();

  await ws.getByRole("button", { name: "Card", exact: true }).click();
  await ws.getByLabel("Title").fill("Order 1042");
  await ws.getByLabel("Description").fill("Refund requested");
  await ws.getByRole("button", { name: "Send card" }).click();
  await v.locator(".card-msg", { hasText: "Order 1042" }).waitFor();
  assert.deepEqual(await axe(v), []);
});

test("files both ways: the visitor's image reaches the agent, the agent's PDF downloads intact", async () => {
  const png = tempFile("broken.png", PNG);
  const [chooser] = await Promise.all([v.waitForEvent("filechooser"), v.getByRole("button", { name: "Attach a file" }).click()]);
  await chooser.setFiles(png);
  const preview = ws.locator("img.file-preview[alt='broken.png']");
  await preview.waitFor();
  await until(() => preview.evaluate((img) => img.complete && img.naturalWidth === 2), 10_000, "the agent's preview");
  const own = v.locator(".row.mine img[alt='Image broken.png']");
  await own.waitFor();
  await until(() => own.evaluate((img) => img.complete && img.naturalWidth === 2), 10_000, "the visitor's preview");

  const pdf = tempFile("label.pdf", PDF);
  const [agentChooser] = await Promise.all([ws.waitForEvent("filechooser"), ws.getByRole("button", { name: "Attach file" }).click()]);
  await agentChooser.setFiles(pdf);
  const button = v.getByRole("button", { name: /^Download label\.pdf/ });
  await button.waitFor();
  const [download] = await Promise.all([v.waitForEvent("download"), button.click()]);
  assert.equal(download.suggestedFilename(), "label.pdf");
  assert.equal(sha(fs.readFileSync(await download.path())), sha(PDF));

  // An executable named .png: refused in the server's words, nothing sent.
  const before = (await history(v)).length;
  const elf = tempFile("holiday.png", Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120)]));
  const [third] = await Promise.all([v.waitForEvent("filechooser"), v.getByRole("button", { name: "Attach a file" }).click()]);
  await third.setFiles(elf);
  const q = new URLSearchParams({ to: channel.kind.webAppId, msgId: "probe", name: "holiday.png" });
  const refused = await fetch(`${desk.api}/api/v1/im/attachments?${q}`, { method: "POST", headers: { authorization: `Bearer ${await visitorToken(v)}` }, body: fs.readFileSync(elf) });
  assert.equal(refused.status, 400);
  const words = (await refused.json()).error.message;
  await v.locator(".banner.notice", { hasText: `holiday.png was not sent: ${words}` }).waitFor();
  assert.equal((await history(v)).length, before);
});

test("the agent invites a rating: the visitor rates with the stars, locked after, thanked", async () => {
  await ws.getByRole("button", { name: "Invite rating" }).click();
  const rating = v.locator(".rating");
  await rating.waitFor();
  assert.match(await rating.textContent(), /You can rate until/);
  const stars = rating.getByRole("button");
  assert.equal(await stars.count(), 5);
  await stars.nth(4).hover();
  await rating.locator(".level-label", { hasText: "Very satisfied" }).waitFor();
  await shot(v, "widget-desktop");
  await stars.nth(4).click();
  await rating.locator(".picked", { hasText: "You rated: Very satisfied" }).waitFor();
  await rating.getByText("Thank you for your rating").waitFor();
  assert.equal(await stars.nth(0).isDisabled(), true);
  await ws.locator(".chat-banner", { hasText: "Rated 5" }).waitFor();
  assert.deepEqual(await axe(v), []);
});

test("a returning visitor keeps its history; the socket dropped at random frames loses and doubles nothing", async () => {
  await v.reload();
  await v.locator(".row.theirs", { hasText: "Hello, I can help with the refund." }).waitFor();
  await v.locator(".rating .picked", { hasText: "Very satisfied" }).waitFor();
  // A steady socket of the same visitor, never dropped, beside the page's.
  const steady = await User.open(desk.api, await visitorToken(v), "steady", channel.kind.webAppId);
  // Twelve rounds: the socket closes after 1 to 3 more frames, the agent and the visitor
  // each write one message meanwhile.
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 3) + 1;
  for (let i = 1; i <= 12; i++) {
    await v.evaluate((n) => window.helplineChatPage.dropAfter(n), random());
    await ws.locator("#composer-input").fill(`agent ${i}`);
    await ws.locator("#composer-input").press("Enter");
    await v.getByLabel("Message").fill(`visitor ${i}`);
    await v.getByLabel("Message").press("Enter");
  }
  await v.locator(".row.theirs", { hasText: "agent 12" }).waitFor();
  await v.locator(".row.mine", { hasText: "visitor 12" }).locator("time").waitFor();
  const stored = (await history(v)).filter((m) => !(m.body.type === "custom" && /"src":"(12|23|26|7|10|24|27)"/.test(m.body.data))).map((m) => m.seq);
  await until(async () => JSON.stringify(await v.evaluate(() => window.helplineChatPage.seqs())) === JSON.stringify(stored), 10_000, "the page's rows to be the stored messages");
  const seqs = await v.evaluate(() => window.helplineChatPage.seqs());
  assert.deepEqual(seqs, [...new Set(seqs)], "no duplicate");
  for (let i = 1; i <= 12; i++) {
    assert.equal(await v.locator(".row.theirs .text").getByText(`agent ${i}`, { exact: true }).count(), 1, `agent ${i} once`);
  }
  // What the steady socket got, from its first stored message on, is what the page shows.
  const last = stored[stored.length - 1];
  await until(() => steady.frames.some((f) => f.type === "message" && f.seq === last), 10_000, "the steady socket to catch up");
  const steadySeqs = steady.frames.filter((f) => f.type === "message" && typeof f.seq === "number").map((f) => f.seq);
  assert.ok(steadySeqs.length >= 24, `the steady socket saw the rounds: ${steadySeqs}`);
  assert.deepEqual(seqs.filter((q) => q >= steadySeqs[0]), steadySeqs);
  steady.close();
});

test("offline: the banner shows, a message written meanwhile goes once the connection is back", async () => {
  await v.context().setOffline(true);
  await v.evaluate(() => window.helplineChatPage.drop());
  await v.locator(".banner.offline").waitFor();
  await v.getByLabel("Message").fill("written offline");
  await v.getByLabel("Message").press("Enter");
  await v.locator(".row.mine .bubble.pending", { hasText: "written offline" }).waitFor();
  await shot(v, "widget-offline");
  await v.context().setOffline(false);
  await ws.locator(".msg.from-user", { hasText: "written offline" }).waitFor({ timeout: 30_000 });
  await v.locator(".banner.offline").waitFor({ state: "detached", timeout: 30_000 });
  assert.equal((await history(v)).filter((m) => m.body.type === "text" && m.body.text === "written offline").length, 1);
});

test("the visitor ends the chat: asked first, the end marker shows, the record says the visitor ended it", async () => {
  await v.getByRole("button", { name: "End chat" }).waitFor({ timeout: 5000 }).catch(async (e) => {
    console.log("DEBUG frames", JSON.stringify(await v.evaluate(() => window.helplineChatPage.frames())));
    throw e;
  });
  await v.getByRole("button", { name: "End chat" }).click();
  const dialog = v.getByRole("alertdialog");
  await dialog.waitFor();
  await dialog.getByRole("button", { name: "End chat" }).click();
  await v.locator(".marker", { hasText: "The chat has ended" }).waitFor();
  await v.locator(".seat", { hasText: "The chat has ended" }).waitFor();
  assert.equal(await v.getByRole("button", { name: "End chat" }).count(), 0);
  const rec = await until(async () => (await desk.adminApi.get("/records")).records.find((r) => r.closeBy === "client"), 10_000, "the record");
  assert.equal(rec.satisfaction.value, 5);
  assert.deepEqual(v.problems, []);
});

test("on a phone in Chinese: full screen, 16 px inputs, axe-clean", async () => {
  const context = await b.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: "zh-CN" });
  const phone = await context.newPage();
  await phone.goto(`${chatUrl}&lang=zh-CN`);
  const menu = phone.locator(".choices", { hasText: "Please select the service you require" });
  await menu.waitFor();
  assert.equal(await phone.getByLabel("消息").getAttribute("placeholder"), "请输入消息…");
  assert.equal(await phone.evaluate(() => document.documentElement.lang), "zh-CN");
  const box = await phone.locator(".panel").boundingBox();
  assert.deepEqual([box.width, box.height], [390, 844], "full screen");
  assert.equal(await phone.getByLabel("消息").evaluate((e) => getComputedStyle(e).fontSize), "16px");
  assert.deepEqual(await axe(phone), []);
  await shot(phone, "widget-mobile-zh-CN");
  await context.close();
});

test("an unknown webAppId says so", async () => {
  const p = await page(b);
  await p.goto(`${desk.base}/web/im/chat/?webAppld=nosuchchannel`);
  await p.getByRole("alert").filter({ hasText: "not available" }).waitFor();
  await p.context().close();
});
