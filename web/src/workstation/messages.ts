// A chat's messages: their shape, merged once each in seq order, from the feed's transcript
// frames and the records' transcripts, and a rating shown on its invitation.
import type { Body } from "../core/frames";
import type { Schemas } from "../core/api";

export type From = "user" | "agent" | "desk";

export interface Msg {
  /** conversation:seq for stored messages, m:<msgId> for flags and pending sends. */
  key: string;
  seq: number | null;
  msgId: string;
  from: From;
  time: number;
  body: Body;
  pending?: boolean;
}

/** Merges messages in seq order, once each (a replay or a reconnect never doubles one). */
export function merge(list: Msg[], incoming: Msg[]): Msg[] {
  // The usual case, a new stored message after the last one: appended without a re-sort
  // (a long conversation must not cost a sort per message).
  const only = incoming.length === 1 ? incoming[0] : undefined;
  const last = list[list.length - 1];
  if (only && only.seq !== null && (!last || (last.seq !== null && only.seq > last.seq))) {
    const pending = `m:${only.msgId}`;
    return only.from === "agent" ? [...list.filter((m) => m.key !== pending), only] : [...list, only];
  }
  const byKey = new Map(list.map((m) => [m.key, m]));
  let changed = false;
  for (const m of incoming) {
    if (m.seq !== null) byKey.delete(`m:${m.msgId}`); // the stored copy replaces a pending one
    const had = byKey.get(m.key);
    if (!had || had.body !== m.body) {
      byKey.set(m.key, m);
      changed = true;
    }
  }
  if (!changed && byKey.size === list.length) return list;
  return [...byKey.values()].sort((a, b) => {
    if (a.seq !== null && b.seq !== null) return a.seq - b.seq;
    return a.time - b.time;
  });
}

export function fromTranscript(conversationId: number, m: Schemas["Message"]): Msg {
  const from: From =
    m.sender === "user" ? "user" : typeof m.sender === "object" && m.sender.desk.agent != null ? "agent" : "desk";
  return { key: `${conversationId}:${m.seq}`, seq: m.seq, msgId: m.msgId, from, time: m.atMs, body: m.body };
}

export function fromRecord(conversationId: number, m: Schemas["TranscriptMessage"]): Msg {
  const from: From = m.from === "user" ? "user" : m.agentId != null ? "agent" : "desk";
  return { key: `${conversationId}:${m.seq}`, seq: m.seq, msgId: `r${m.seq}`, from, time: m.atMs, body: m.body };
}
