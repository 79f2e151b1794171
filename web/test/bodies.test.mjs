// Every body of shared/PROTOCOL.md drawn by the workstation's MessageBody in Chromium: cards,
// order cards, menus and forms with the user's choice, satisfaction with the rating, rich
// text sanitized, streaming text, v2 menus, form collection, bot welcomes.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { browser } from "./harness.mjs";

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
let b, p;

const desk = (src, fields) => ({ type: "custom", data: JSON.stringify({ customerServicePlugin: 0, src, ...fields }) });
const BODIES = [
  { type: "text", text: "plain words" },
  desk("22", { content: { header: "Blue kettle", desc: "1.7 l", pic: "https://shop.example/k.png", url: "javascript:alert(1)" } }),
  desk("28", { content: { guide: "Your order", name: "Order 1042", desc: "2 items", pic: "" } }),
  desk("15", { content: { header: "Pick one", items: [{ content: "Pre-sales", desc: "" }, { content: "After-sales", desc: "" }], selected: { content: "After-sales", desc: "" } } }),
  desk("21", { content: { type: 1, header: "What do you like to eat?", items: [{ content: "Apple", desc: "" }, { content: "Peach", desc: "" }], selected: { content: "Peach" } } }),
  desk("9", { menuContent: { head: "Please rate", tail: "Thanks", type: 1, menu: [{ id: "1", content: "Bad" }, { id: "5", content: "Great" }], selected: { id: "5", content: "Great" }, sessionId: "7", expireTime: 1 } }),
  desk("30", { content: "**bold** and [a link](https://example.com) <img src=x onerror=alert(1)><script>window.pwned=1</script>" }),
  desk("31", { chunks: ["Hel", "lo"], isFinished: 0 }),
  desk("31", { chunks: ["Done", "!"], isFinished: 1 }),
  desk("32", { status: 0, content: { header: "Choose", items: [{ content: "One" }, { content: "Two" }] } }),
  desk("33", { nodeStatus: 2, content: { tip: "Your details", inputVariables: [{ name: "phone", placeholder: "number", isRequired: true, formType: 0, variableValue: "5550100" }] } }),
  desk("29", { subtype: "welcome_msg", content: { title: "Welcome", items: [{ content: "Orders" }] } }),
  desk("19", {}),
  { type: "custom", data: "{\"title\":\"App card\",\"description\":\"from the app\"}", description: "App card" },
];

before(async () => {
  const out = await build({
    entryPoints: [path.join(web, "test", "bodies.entry.tsx")], bundle: true, format: "iife", write: false,
    jsx: "automatic", jsxImportSource: "preact", logLevel: "error",
  });
  b = await browser();
  p = await (await b.newContext()).newPage();
  // A page of an origin of its own (storage works there), answered by the browser's routing.
  const html = `<!doctype html><html><head><meta charset="utf-8"></head><body><div id="root"></div><script>${out.outputFiles[0].text.replace(/<\/script/g, "<\\/script")}</script></body></html>`;
  await p.route("http://bodies.test/", (route) => route.fulfill({ contentType: "text/html", body: html }));
  p.on("pageerror", (e) => console.error("page error:", e));
  await p.goto("http://bodies.test/");
  await p.evaluate((bodies) => window.drawBodies(bodies), BODIES);
});

after(async () => {
  await b?.close();
});

const at = (i) => p.locator(`[data-i="${i}"]`);

test("text, cards and order cards; a card's unsafe link is dropped", async () => {
  assert.equal(await at(0).textContent(), "plain words");
  await at(1).locator(".card-msg", { hasText: "Blue kettle" }).waitFor();
  assert.equal(await at(1).locator("a").count(), 0, "a javascript: URL is no link");
  assert.equal(await at(1).locator("img").getAttribute("src"), "https://shop.example/k.png");
  assert.match(await at(2).textContent(), /Your order.*Order 1042.*2 items/);
});

test("menus and forms show the user's choice; satisfaction shows the rating", async () => {
  assert.equal(await at(3).locator("li.chosen").textContent(), "After-sales");
  assert.equal(await at(4).locator("li.chosen").textContent(), "Peach");
  assert.match(await at(5).locator("li.chosen").textContent(), /Great/);
  assert.match(await at(5).textContent(), /Chosen: Great/);
});

test("rich text is Markdown, sanitized", async () => {
  await at(6).locator(".rich strong", { hasText: "bold" }).waitFor();
  assert.equal(await at(6).locator(".rich a").getAttribute("rel"), "noopener noreferrer");
  assert.equal(await at(6).locator("script").count(), 0);
  assert.equal(await at(6).locator("[onerror]").count(), 0);
  assert.equal(await p.evaluate(() => window.pwned), undefined);
});

test("streaming text joins its chunks and shows it is still writing until finished", async () => {
  assert.equal(await at(7).locator(".text").textContent(), "Hello");
  assert.equal(await at(7).locator(".cursor").count(), 1);
  assert.equal(await at(8).locator(".text").textContent(), "Done!");
  assert.equal(await at(8).locator(".cursor").count(), 0);
});

test("v2 menus, form collection, bot welcomes, the end line and an app's own custom message", async () => {
  assert.match(await at(9).textContent(), /Choose.*One.*Two/);
  assert.match(await at(10).textContent(), /Your details.*phone.*5550100/);
  assert.match(await at(11).textContent(), /Welcome.*Orders/);
  assert.equal(await at(12).textContent(), "Session ended");
  assert.match(await at(13).textContent(), /App card/);
});
