// What the chat page knows of its conversation, as plain data and pure functions: the
// frames of /ws/im (README "The user end"), the desk's messages read from a custom body's
// `data` (PROTOCOL.md), and the list of messages the page shows, kept in `seq` order with
// no gap and no duplicate however the frames arrive (history, resume, live, own acks).
import type { Schemas } from "../core/api";

export type Body = Schemas["Body"];
export type FileBody = Extract<Body, { type: "file" }>;

/** A frame the desk sends on /ws/im. */
export type Frame =
  | { type: "ack"; msgId: string; conversationId: number; seq: number | null; duplicate: boolean }
  | { type: "message"; conversationId: number; from: string; to: string; msgId: string; seq: number | null; time: number; onlineUserOnly: boolean; body: Body }
  | { type: "update"; conversationId: number; seq: number; body: Body }
  | { type: "queue"; conversationId: number; position: number }
  | { type: "error"; msgId: string | null; error: string; field: string | null; code: number | null; message: string; retryAfterMs?: number }
  | { type: "closed"; reason: string; message: string }
  | { type: "pong" };

export type Obj = Record<string, unknown>;
export const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
export const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
export const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);
export const num = (v: unknown): number | null => (typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v)) ? Number(v) : null);

/** A desk message: its `src` and the rest of its data; null for anything else. */
export interface Desk {
  src: string;
  data: Obj;
}

export function deskOf(body: Body): Desk | null {
  if (body.type !== "custom") return null;
  try {
    const data = obj(JSON.parse(body.data));
    if (data["customerServicePlugin"] !== 0 && data["customerServicePlugin"] !== "0") return null;
    const src = str(data["src"]);
    return src ? { src, data } : null;
  } catch {
    return null;
  }
}

/** Desk messages that are signals, never rows of the list. */
const SIGNALS = new Set(["7", "10", "12", "23", "24", "26", "27", "35"]);

/** One row of the list. `seq` null: the visitor's own message, not yet acknowledged. */
export interface Item {
  msgId: string;
  seq: number | null;
  mine: boolean;
  time: number;
  body: Body;
  /** Why it was not sent (the server's words), for the visitor's own. */
  failed?: string;
}

/** Whether a stored message is a row: desk signals are not (they change the state). */
export function shown(body: Body): boolean {
  const desk = deskOf(body);
  return desk === null || !SIGNALS.has(desk.src);
}

/**
 * The list with `item` in its place: stored rows by `seq` (one per seq, the later copy of
 * a seq is the same message and changes nothing), the visitor's pending rows after them in
 * the order they were written; a stored copy of a pending row (its ack, or its own message
 * frame) takes the pending row's place.
 */
export function insert(list: readonly Item[], item: Item): Item[] {
  if (item.seq === null) {
    if (list.some((x) => x.msgId === item.msgId && x.mine === item.mine)) {
      return list.map((x) => (x.msgId === item.msgId && x.mine === item.mine && x.seq === null ? item : x));
    }
    return [...list, item];
  }
  if (list.some((x) => x.seq === item.seq)) return list as Item[];
  const rest = list.filter((x) => !(x.seq === null && x.mine && item.mine && x.msgId === item.msgId));
  const stored = rest.filter((x) => x.seq !== null);
  const pending = rest.filter((x) => x.seq === null);
  let at = stored.length;
  while (at > 0 && (stored[at - 1]!.seq as number) > item.seq) at--;
  stored.splice(at, 0, item);
  return [...stored, ...pending];
}

/** The list after an `update` frame: the stored message's new body. */
export function update(list: readonly Item[], seq: number, body: Body): Item[] {
  return list.map((x) => (x.seq === seq ? { ...x, body } : x));
}

/**
 * What a reconnect resumes after: the highest seq up to which every message has come. Not
 * the highest seq held: the visitor's own message acknowledged over REST while the socket
 * was down has a seq above the desk's messages the socket missed meanwhile.
 */
export class Received {
  private above = new Set<number>();
  constructor(public through = 0) {}

  /** Everything up to `seq` is known (a history read of the whole conversation). */
  known(seq: number): void {
    if (seq > this.through) this.through = seq;
    this.settle();
  }

  saw(seq: number): void {
    if (seq > this.through) this.above.add(seq);
    this.settle();
  }

  private settle(): void {
    for (const s of this.above) if (s <= this.through) this.above.delete(s);
    while (this.above.delete(this.through + 1)) this.through++;
  }
}

/** The `data` of a desk message the visitor sends (a string, as the protocol wants). */
export function deskData(src: string, rest: Obj = {}): string {
  return JSON.stringify({ customerServicePlugin: 0, src, ...rest });
}

/** Whether a satisfaction menu (src 9) may still be rated: not rated, not past its time. */
export function ratingOpen(menu: Obj, nowMs: number): boolean {
  if (menu["selected"] && str(obj(menu["selected"])["id"])) return false;
  const expire = num(menu["expireTime"]);
  return expire === null || expire * 1000 > nowMs;
}

/** A satisfaction menu's levels, ascending by their numeric id (the protocol's order). */
export function levels(menu: Obj): { id: string; content: string }[] {
  return arr(menu["menu"])
    .map((l) => ({ id: str(l["id"]), content: str(l["content"]) }))
    .filter((l) => l.id !== "")
    .sort((a, b) => (num(a.id) ?? 0) - (num(b.id) ?? 0));
}

/** The reply to a task form (src 33): the same data, each variable's value filled, without
 * `nodeStatus`. */
export function formReply(data: Obj, values: Record<string, string>): string {
  const content = obj(data["content"]);
  const variables = arr(content["inputVariables"]).map((v) => ({ ...v, variableValue: values[str(v["name"])] ?? "" }));
  const { nodeStatus: _status, ...rest } = data;
  return JSON.stringify({ ...rest, content: { ...content, inputVariables: variables } });
}
