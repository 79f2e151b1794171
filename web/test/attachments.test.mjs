// Files both ways on the workstation: a website visitor (played over the API) sends an image
// and a PDF, the agent sees the image previewed and downloads the PDF's exact bytes; the agent
// attaches a file with the button and the visitor downloads the same bytes; an executable
// named .png is refused with the server's words and nothing is sent. Checked through the API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { axe, browser, Desk, page, shot, signInPage, until } from "./harness.mjs";

let desk, b, p, user, conversationId;

const sha = (bytes) => crypto.createHash("sha256").update(bytes).digest("hex");

// A 2x2 red PNG, a one-page PDF and an ELF header: real bytes, so the server's sniffing decides.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==",
  "base64",
);
const PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
    "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
);
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120)]);

/** The visitor's upload, as the chat page sends it: raw bytes, the user token as Bearer. */
async function userUpload(name, bytes) {
  const q = new URLSearchParams({ to: user.to, msgId: `f-${name}`, name });
  const res = await fetch(`${desk.api}/api/v1/im/attachments?${q}`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.token}`, "x-forwarded-for": "127.0.0.1" },
    body: bytes,
  });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

async function userDownload(attachmentId) {
  const res = await fetch(`${desk.api}/api/v1/im/conversations/${conversationId}/attachments/${attachmentId}`, {
    headers: { authorization: `Bearer ${user.token}` },
  });
  assert.equal(res.status, 200);
  return { bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

const history = () => fetch(`${desk.api}/api/v1/im/conversations/${conversationId}/messages?after=0`, {
  headers: { authorization: `Bearer ${user.token}` },
}).then((r) => r.json()).then((h) => (Array.isArray(h) ? h : h.messages));

before(async () => {
  desk = await Desk.start();
  const group = await desk.group("Support");
  const channel = await desk.website("Shop", group.id);
  const agent = await desk.agent(1, [group.id]);
  b = await browser();
  p = await page(b);
  await signInPage(p, desk, agent);
  await until(async () => (await desk.adminApi.get("/monitoring/agents")).agents.find((a) => a.agentId === agent.id)?.status === "free", 15_000, "the agent free");
  user = await desk.user(channel);
  user.say("I have a picture of the problem");
  await p.locator(".offer").getByRole("button", { name: "Accept" }).click();
  const seat = await user.frame((f) => f.type === "message" && f.body.type === "custom" && f.body.data.includes("inSeat"), 10_000, "inSeat");
  conversationId = seat.conversationId;
});

after(async () => {
  await b?.close();
  await desk?.stop();
});

test("the visitor's image is previewed and its PDF downloads with the same bytes", async () => {
  const image = await userUpload("broken.png", PNG);
  assert.equal(image.attachment.contentType, "image/png");
  assert.equal(image.attachment.sha256, sha(PNG));
  const doc = await userUpload("invoice.pdf", PDF);
  assert.equal(doc.attachment.contentType, "application/pdf");

  const preview = p.locator("img.file-preview[alt='broken.png']");
  await preview.waitFor();
  await until(() => preview.evaluate((img) => img.complete && img.naturalWidth === 2), 10_000, "the preview drawn");
  const pdf = p.getByRole("button", { name: /^Download invoice\.pdf/ });
  await pdf.waitFor();
  const [download] = await Promise.all([p.waitForEvent("download"), pdf.click()]);
  assert.equal(download.suggestedFilename(), "invoice.pdf");
  assert.equal(sha(fs.readFileSync(await download.path())), sha(PDF));
  assert.deepEqual(await axe(p), []);
  await shot(p, "workstation-attachments");
});

test("the agent attaches a file with the button and the visitor gets the same bytes", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hl-attach-"));
  const file = path.join(dir, "label.pdf");
  fs.writeFileSync(file, PDF);
  const [chooser] = await Promise.all([p.waitForEvent("filechooser"), p.getByRole("button", { name: "Attach file" }).click()]);
  await chooser.setFiles(file);
  const frame = await user.frame((f) => f.type === "message" && f.from !== user.id && f.body.type === "file", 10_000, "the agent's file");
  assert.deepEqual(
    { name: frame.body.name, contentType: frame.body.contentType, size: frame.body.size },
    { name: "label.pdf", contentType: "application/pdf", size: PDF.length },
  );
  const got = await userDownload(frame.body.attachmentId);
  assert.equal(sha(got.bytes), sha(PDF));
  assert.match(got.headers.get("content-disposition") ?? "", /^attachment/);
  assert.equal(got.headers.get("x-content-type-options"), "nosniff");
  await p.getByRole("button", { name: /^Download label\.pdf/ }).waitFor();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("an executable named .png is refused with the server's words and nothing is sent", async () => {
  const before = (await history()).length;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hl-attach-"));
  const file = path.join(dir, "holiday.png");
  fs.writeFileSync(file, ELF);
  const [chooser] = await Promise.all([p.waitForEvent("filechooser"), p.getByRole("button", { name: "Attach file" }).click()]);
  await chooser.setFiles(file);
  const toast = p.locator(".toast", { hasText: "holiday.png was refused" });
  await toast.waitFor();
  assert.match(await toast.textContent(), /file:/, "the refusal names the field");
  // The button is usable again and nothing reached the conversation.
  await until(() => p.getByRole("button", { name: "Attach file" }).isEnabled(), 5_000, "attach enabled again");
  assert.equal((await history()).length, before);
  fs.rmSync(dir, { recursive: true, force: true });
});
