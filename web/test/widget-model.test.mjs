// The chat page's pure model (src/widget/model.ts), without a browser: the list keeps one row
// per seq in order however frames come (history, resume replays, acks, own echoes), and a
// reconnect resumes after the last seq every message came through; desk data is read as the
// protocol says; a task form's reply is the same data filled in.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "widget-model-")), "m.mjs");
await build({ entryPoints: [path.join(web, "src", "widget", "model.ts")], bundle: true, format: "esm", outfile: out, logLevel: "error" });
const m = await import(pathToFileURL(out).href);
fs.rmSync(path.dirname(out), { recursive: true });

const text = (t) => ({ type: "text", text: t });
const row = (seq, t, mine = false, msgId = `m${seq}`) => ({ msgId, seq, mine, time: 0, body: text(t) });
const seqs = (list) => list.map((x) => x.seq);

/** A small deterministic generator, so a failure names its seed. */
function rng(seed) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

test("rows stay in seq order, once each, whatever order and how often they come", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const random = rng(seed);
    const n = 1 + Math.floor(random() * 30);
    const arrivals = [];
    for (let s = 1; s <= n; s++) {
      const copies = 1 + Math.floor(random() * 3);
      for (let c = 0; c < copies; c++) arrivals.push(row(s, `t${s}`));
    }
    arrivals.sort(() => random() - 0.5);
    let list = [];
    for (const r of arrivals) list = m.insert(list, r);
    assert.deepEqual(seqs(list), Array.from({ length: n }, (_, i) => i + 1), `seed ${seed}`);
  }
});

test("a pending row of the visitor's is replaced by its stored copy, and stays after stored rows until then", () => {
  let list = [row(1, "welcome")];
  list = m.insert(list, { msgId: "w-1", seq: null, mine: true, time: 0, body: text("hi") });
  list = m.insert(list, row(2, "agent"));
  assert.deepEqual(list.map((x) => [x.seq, x.body.text]), [[1, "welcome"], [2, "agent"], [null, "hi"]]);
  list = m.insert(list, row(3, "hi", true, "w-1"));
  assert.deepEqual(list.map((x) => [x.seq, x.body.text]), [[1, "welcome"], [2, "agent"], [3, "hi"]]);
  // The same again (the ack after the echo, or a replay): nothing changes.
  assert.deepEqual(m.insert(list, row(3, "hi", true, "w-1")), list);
});

test("an update changes the body at its seq only", () => {
  const list = [row(1, "a"), row(2, "b")];
  assert.deepEqual(m.update(list, 2, text("B")).map((x) => x.body.text), ["a", "B"]);
});

test("a reconnect resumes after the last seq every message came through, not the highest seen", () => {
  const r = new m.Received(10);
  r.saw(13); // the visitor's own message acknowledged over REST while the socket was down
  assert.equal(r.through, 10, "11 and 12 were missed: resume after 10");
  r.saw(11);
  assert.equal(r.through, 11);
  r.saw(12);
  assert.equal(r.through, 13, "the gap closed: everything up to 13");
  r.saw(5);
  assert.equal(r.through, 13, "old seqs change nothing");
  r.known(20);
  assert.equal(r.through, 20);
});

test("desk data: the protocol's own only (customerServicePlugin 0, a string src)", () => {
  const custom = (data) => ({ type: "custom", data: JSON.stringify(data) });
  assert.deepEqual(m.deskOf(custom({ customerServicePlugin: 0, src: "15", content: {} })), { src: "15", data: { customerServicePlugin: 0, src: "15", content: {} } });
  assert.equal(m.deskOf(custom({ src: "15" })), null, "no customerServicePlugin: an ordinary custom message");
  assert.equal(m.deskOf({ type: "custom", data: "not json" }), null);
  assert.equal(m.deskOf(text("hi")), null);
  assert.equal(m.shown(custom({ customerServicePlugin: 0, src: "26", content: {} })), false, "seat status is a signal");
  assert.equal(m.shown(custom({ customerServicePlugin: 0, src: "19" })), true, "the end is a marker row");
});

test("satisfaction: levels ascending by numeric id; open until rated or expired", () => {
  const menu = { menu: [{ id: "10", content: "ten" }, { id: "2", content: "two" }, { id: "", content: "none" }], expireTime: 100 };
  assert.deepEqual(m.levels(menu).map((l) => l.id), ["2", "10"]);
  assert.equal(m.ratingOpen(menu, 99_000), true);
  assert.equal(m.ratingOpen(menu, 100_000), false);
  assert.equal(m.ratingOpen({ ...menu, selected: { id: "2" } }, 0), false);
});

test("a task form's reply is the same data with each value filled and nodeStatus removed", () => {
  const data = {
    customerServicePlugin: 0, src: "33", nodeStatus: 0, taskInfo: { id: 7 },
    content: { tip: "Your order", inputVariables: [{ name: "order", isRequired: true, formType: 0 }, { name: "size", formType: 1, chooseItemList: ["S", "M"] }] },
  };
  assert.deepEqual(JSON.parse(m.formReply(data, { order: "1042", size: "M" })), {
    customerServicePlugin: 0, src: "33", taskInfo: { id: 7 },
    content: { tip: "Your order", inputVariables: [
      { name: "order", isRequired: true, formType: 0, variableValue: "1042" },
      { name: "size", formType: 1, chooseItemList: ["S", "M"], variableValue: "M" },
    ] },
  });
});
