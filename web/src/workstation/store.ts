// The workstation's state as signals, folded from the agent's feed. The server is the truth:
// this only applies what the frames say, and sends commands.
import { batch, computed, signal } from "@preact/signals";
import type { Body, Frame, OfferInfo, Reply, SeatInfo, Status } from "../core/frames";
import { fromRecord, fromTranscript, merge, type Msg } from "./messages";
import { api, ApiError } from "../core/api";
import { AgentSocket, type Link } from "../core/socket";

export { fromRecord, merge, type From, type Msg } from "./messages";

export type ChatState = "offer" | "serving" | "ended";

export interface Chat {
  sessionId: number;
  conversationId: number | null;
  user: string;
  channelId: number | null;
  channelName: string | null;
  state: ChatState;
  deadlineMs: number | null;
  transferredBy: number | null;
  messages: Msg[];
  unread: number;
  since: number;
  typingUntil: number;
  closeBy: string | null;
  rating: { value: number; label: string } | null;
  /** Older messages than the first one held may exist. */
  hasOlder: boolean;
}

export const presence = signal<{ online: boolean; status: Status; restReason: string | null }>({
  online: false,
  status: "offline",
  restReason: null,
});
export const chats = signal<ReadonlyMap<number, Chat>>(new Map());
export const selected = signal<number | null>(null);
export const link = signal<Link>("connecting");
export const linkNote = signal<"restored" | "reloaded" | null>(null);
export const notices = signal<{ id: number; text: string; kind: "info" | "error" }[]>([]);
export const now = signal(Date.now());
/** What screen readers hear: polite for messages, assertive for offers. */
export const announce = signal({ polite: "", assertive: "" });

export const offers = computed(() => [...chats.value.values()].filter((c) => c.state === "offer"));
export const serving = computed(() => [...chats.value.values()].filter((c) => c.state === "serving"));
export const finished = computed(() => [...chats.value.values()].filter((c) => c.state === "ended").reverse());
export const current = computed(() => (selected.value === null ? null : chats.value.get(selected.value) ?? null));

let noticeId = 0;
export function notify(text: string, kind: "info" | "error" = "info"): void {
  const id = ++noticeId;
  notices.value = [...notices.value.slice(-3), { id, text, kind }];
  setTimeout(() => (notices.value = notices.value.filter((n) => n.id !== id)), 4000);
}

function put(chat: Chat): void {
  const next = new Map(chats.value);
  next.set(chat.sessionId, chat);
  chats.value = next;
}

function edit(sessionId: number, change: (c: Chat) => Partial<Chat>): Chat | null {
  const c = chats.value.get(sessionId);
  if (!c) return null;
  const updated = { ...c, ...change(c) };
  put(updated);
  return updated;
}

function fresh(seat: SeatInfo, state: ChatState, extra: Partial<Chat> = {}): Chat {
  const old = chats.value.get(seat.sessionId);
  return {
    sessionId: seat.sessionId,
    conversationId: seat.conversationId,
    user: seat.user,
    channelId: seat.channelId,
    // The server names both on every seat and offer, the `state` frame's too.
    channelName: seat.channelName ?? old?.channelName ?? null,
    state,
    deadlineMs: null,
    transferredBy: seat.transferredBy ?? null,
    messages: old?.messages ?? [],
    unread: old?.unread ?? 0,
    since: old?.since ?? Date.now(),
    typingUntil: 0,
    closeBy: null,
    rating: old?.rating ?? null,
    hasOlder: old?.hasOlder ?? false,
    ...extra,
  };
}

/** Fills a session's transcript from its record (after a restart the feed sends none). */
async function backfill(sessionId: number): Promise<void> {
  try {
    const detail = await api.record(sessionId);
    const cid = detail.record.conversationId ?? 0;
    edit(sessionId, (c) => ({ messages: merge(c.messages, detail.messages.map((m) => fromRecord(cid, m))) }));
  } catch {
    // the record may not be durable yet; live frames still arrive
  }
}

function isVisible(sessionId: number): boolean {
  return selected.value === sessionId && document.visibilityState === "visible";
}

function textOf(body: Body): string {
  if (body.type === "file") return body.name;
  return body.type === "text" ? body.text : (body.description ?? "");
}

export type ReleasedKey = "offers.lapsed" | "offers.released.transferred" | "offers.released.unavailable";

/** What the page does beside the state: bell, notifications, marks, the sign-in's end. */
export const hooks = {
  offer: (_chat: Chat) => {},
  firstState: () => {},
  message: (_chat: Chat, _msg: Msg) => {},
  released: (_key: ReleasedKey, _user: string) => {},
  ended: (_cause: string) => {},
};

let firstState = true;

function apply(frame: Frame): void {
  switch (frame.type) {
    case "state": {
      presence.value = { online: frame.online, status: frame.status, restReason: frame.restReason };
      if (!frame.resumed) {
        const next = new Map<number, Chat>();
        for (const c of chats.value.values()) if (c.state === "ended") next.set(c.sessionId, c);
        for (const s of frame.sessions) next.set(s.sessionId, fresh(s, "serving"));
        for (const o of frame.offers) next.set(o.sessionId, fresh(o, "offer", { deadlineMs: o.deadlineMs }));
        for (const c of chats.value.values()) {
          if (c.state === "serving" && !next.has(c.sessionId)) next.set(c.sessionId, { ...c, state: "ended", closeBy: "unknown" });
        }
        chats.value = next;
        if (!firstState) linkNote.value = "reloaded";
        for (const s of frame.sessions) if ((next.get(s.sessionId)?.messages.length ?? 0) === 0) void backfill(s.sessionId);
      } else if (!firstState) {
        linkNote.value = "restored";
      }
      if (firstState) {
        firstState = false;
        hooks.firstState();
      }
      break;
    }
    case "offer": {
      const o: OfferInfo = frame;
      const chat = fresh(o, "offer", { deadlineMs: frame.deadlineMs, since: Date.now() });
      put(chat);
      announce.value = { ...announce.value, assertive: `${chat.user}|${frame.feedSeq}` };
      hooks.offer(chat);
      break;
    }
    case "seated": {
      put(fresh(frame, "serving"));
      if (selected.value === null || chats.value.get(selected.value)?.state !== "serving") selected.value = frame.sessionId;
      break;
    }
    case "transcript": {
      const msgs = frame.messages.map((m) => fromTranscript(frame.conversationId, m));
      edit(frame.sessionId, (c) => {
        // The user's words that came with the chat are unread until the agent looks.
        const known = new Set(c.messages.map((m) => m.key));
        const fresh = msgs.filter((m) => m.from === "user" && !known.has(m.key)).length;
        return {
          conversationId: frame.conversationId,
          messages: merge(c.messages, msgs),
          hasOlder: (msgs[0]?.seq ?? 1) > 1,
          unread: isVisible(frame.sessionId) ? c.unread : c.unread + fresh,
        };
      });
      break;
    }
    case "message": {
      const key = frame.seq === null ? `m:${frame.msgId}` : `${frame.conversationId}:${frame.seq}`;
      const msg: Msg = { key, seq: frame.seq, msgId: frame.msgId, from: frame.from, time: frame.time, body: frame.body };
      const target =
        frame.sessionId ?? [...chats.value.values()].find((c) => c.conversationId === frame.conversationId && c.state !== "ended")?.sessionId;
      if (target === undefined) break;
      // A user's typing flag (src 12) is shown as typing, not as a message.
      if (frame.seq === null && frame.body.type === "custom" && frame.body.data.includes('"12"')) {
        edit(target, () => ({ typingUntil: Date.now() + 5000 }));
        break;
      }
      const chat = edit(target, (c) => ({
        messages: merge(c.messages, [msg]),
        unread: msg.from === "user" && !isVisible(target) ? c.unread + 1 : c.unread,
        typingUntil: msg.from === "user" ? 0 : c.typingUntil,
      }));
      if (chat && msg.from === "user") {
        announce.value = { ...announce.value, polite: `${chat.user}: ${textOf(msg.body)}` };
      }
      if (chat) hooks.message(chat, msg);
      break;
    }
    case "update": {
      for (const c of chats.value.values()) {
        if (c.conversationId !== frame.conversationId) continue;
        const key = `${frame.conversationId}:${frame.seq}`;
        if (!c.messages.some((m) => m.key === key)) continue;
        edit(c.sessionId, (x) => ({ messages: x.messages.map((m) => (m.key === key ? { ...m, body: frame.body } : m)) }));
      }
      break;
    }
    case "typing": {
      const id = frame.sessionId ?? [...chats.value.values()].find((c) => c.conversationId === frame.conversationId)?.sessionId;
      if (id !== undefined) edit(id, () => ({ typingUntil: Date.now() + 5000 }));
      break;
    }
    case "released": {
      const c = chats.value.get(frame.sessionId);
      if (!c) break;
      const next = new Map(chats.value);
      next.delete(frame.sessionId);
      chats.value = next;
      if (selected.value === frame.sessionId) selected.value = null;
      const key: ReleasedKey = frame.reason === "offer_expired" ? "offers.lapsed" : frame.reason === "transferred" ? "offers.released.transferred" : "offers.released.unavailable";
      hooks.released(key, c.user);
      break;
    }
    case "ended":
      edit(frame.sessionId, () => ({ state: "ended", closeBy: frame.closeBy, typingUntil: 0 }));
      break;
    case "rated":
      // The invitation's `selected` came just before, as an `update`.
      edit(frame.sessionId, () => ({ rating: { value: frame.value, label: frame.label } }));
      break;
    case "status":
      presence.value = { online: frame.online, status: frame.status, restReason: frame.restReason };
      break;
    case "signed_out":
      break;
  }
}


const waiting = new Map<string, { resolve: (r: Reply) => void }>();
let refs = 0;

export const socket = new AgentSocket({
  frame: (f) => batch(() => apply(f)),
  reply: (r) => {
    if (r.ref) {
      waiting.get(r.ref)?.resolve(r);
      waiting.delete(r.ref);
    }
  },
  link: (l) => {
    link.value = l;
    if (l === "open") setTimeout(() => (linkNote.value = null), 4000);
  },
  ended: (cause) => hooks.ended(cause),
});

/** Sends a command (over the socket when open, else REST); answers its ok reply or throws. */
export async function command(cmd: Record<string, unknown>): Promise<void> {
  const ref = `c${++refs}`;
  if (socket.send({ ...cmd, ref })) {
    const reply = await new Promise<Reply>((resolve) => {
      waiting.set(ref, { resolve });
      setTimeout(() => {
        if (waiting.delete(ref)) resolve({ type: "error", command: null, error: "timeout", field: null, message: "timeout" });
      }, 10_000);
    });
    if (reply.type === "error") throw new ApiError(400, reply.error, reply.field, reply.message, null);
    return;
  }
  await api.command(cmd);
}

let msgIds = 0;
/** Sends a body to a session; shown as pending until the stored copy arrives on the feed. */
export async function sendBody(sessionId: number, body: Body): Promise<void> {
  const msgId = `w${Date.now().toString(36)}${(++msgIds).toString(36)}`;
  const pending: Msg = { key: `m:${msgId}`, seq: null, msgId, from: "agent", time: Date.now(), body, pending: true };
  edit(sessionId, (c) => ({ messages: [...c.messages, pending] }));
  try {
    await command({ type: "send", sessionId, msgId, body });
  } catch (e) {
    edit(sessionId, (c) => ({ messages: c.messages.filter((m) => m.key !== pending.key) }));
    throw e;
  }
}

export function markRead(sessionId: number): void {
  const c = chats.value.get(sessionId);
  if (c && c.unread > 0) edit(sessionId, () => ({ unread: 0 }));
}

export function prependOlder(sessionId: number, msgs: Msg[]): void {
  edit(sessionId, (c) => ({ messages: merge(c.messages, msgs), hasOlder: false }));
}
