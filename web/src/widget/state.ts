// The chat page's state, as signals, and what the visitor does: start (identity, history,
// socket, trigger), send text, answer menus and forms, rate, end, attach files. Every frame
// goes through model.ts's pure functions; this file does the IO.
import { computed, signal } from "@preact/signals";
import { Api, Refused, UserSocket, visitor, website, type Link, type Message, type Website } from "./client";
import { deskData, deskOf, insert, obj, Received, shown, update, type Body, type Frame, type Item, type Obj } from "./model";
import { lang, t } from "./i18n";

export type Phase = { kind: "loading" } | { kind: "ready" } | { kind: "failed"; message: string; retryS: number | null };

export const phase = signal<Phase>({ kind: "loading" });
export const items = signal<Item[]>([]);
export const link = signal<Link>("connecting");
/** Whether a human agent serves the visitor now (src 26). */
export const inSeat = signal(false);
/** The serving agent's nickname, when the desk names it (`content.nickname` of src 26). */
export const agentName = signal<string | null>(null);
/** The rating rules (src 23, `menuSendRuleFlag`). */
export const rules = signal(0);
/** Sessions ahead in the queue (`queue` frames), null when not queued. */
export const queue = signal<number | null>(null);
/** Until when the agent is shown typing (ms). */
export const typingUntil = signal(0);
/** A bot is thinking (src 35). */
export const thinking = signal(false);
/** The last session ended (19 or 20) and no new one started. */
export const ended = signal<"ended" | "timeout" | null>(null);
/** Files being sent, by msgId. */
export const uploads = signal<Record<string, { name: string; done: number }>>({});
/** A problem to show once (a refused upload, a rating refused). */
export const notice = signal<string | null>(null);
/** New desk messages while the chat is not looked at. */
export const unread = signal(0);
/** Whether the visitor sees the chat (an embedding page may hide its frame). */
export const visible = signal(true);
/** When the first desk message was shown, ms after the page started (the test reads it). */
export const firstDeskMessageMs = signal<number | null>(null);
/** The channel, as its public description says. */
export const site = signal<Website | null>(null);

export const canEnd = computed(() => inSeat.value && ended.value === null);
export const canRate = computed(() => inSeat.value && (rules.value & 4) !== 0);

let api: Api | null = null;
let socket: UserSocket | null = null;
let webAppId = "";
let userId = "";
let conversation: number | null = null;
let received = new Received();
let triggered = false;
/** A reconnect's ping is out: its pong comes after the backlog. */
let catchingUp = false;
/** An app's own signed user token given by the host page (`identify`), instead of a visitor. */
let identity: string | null = null;

export function conversationId(): number | null {
  return conversation;
}
export function client(): Api | null {
  return api;
}
/** The socket, for the page's test hooks. */
export function currentSocket(): UserSocket | null {
  return socket;
}

const newId = () => `w-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

function fromHistory(m: Message): Item {
  return { msgId: m.msgId, seq: m.seq, mine: m.sender === "user", time: m.atMs, body: m.body };
}

/** What the state learns from a message, stored or not. */
function learn(body: Body, mine: boolean, live: boolean): void {
  const desk = deskOf(body);
  if (mine) {
    if (ended.value !== null && (!desk || desk.src !== "7")) ended.value = null;
    return;
  }
  typingUntil.value = 0;
  if (!desk) {
    thinking.value = false;
    return;
  }
  switch (desk.src) {
    case "12":
      if (live) typingUntil.value = Date.now() + 6_000;
      return;
    case "23":
      rules.value = Number(obj(desk.data["content"])["menuSendRuleFlag"]) || 0;
      return;
    case "26":
      inSeat.value = obj(desk.data["content"])["content"] === "inSeat";
      agentName.value = inSeat.value ? String(obj(desk.data["content"])["nickname"] ?? "") || null : null;
      if (inSeat.value) {
        queue.value = null;
        ended.value = null;
      }
      return;
    case "35":
      thinking.value = Number(obj(desk.data["content"])["thinking"]) === 1;
      return;
    case "19":
    case "20":
      ended.value = desk.src === "19" ? "ended" : "timeout";
      inSeat.value = false;
      queue.value = null;
      thinking.value = false;
      return;
    default:
      thinking.value = false;
  }
}

/** Whether a frame is about this page's conversation: an app's user (`identify`) may have
 * conversations with other channels on the same socket. */
function ours(frame: Frame): boolean {
  if (!("conversationId" in frame)) return true;
  if (conversation !== null) return frame.conversationId === conversation;
  return frame.type !== "message" || frame.from === webAppId || frame.to === webAppId;
}

function onFrame(frame: Frame): void {
  if (!ours(frame)) return;
  switch (frame.type) {
    case "message": {
      if (conversation === null) conversation = frame.conversationId;
      if (frame.seq !== null) received.saw(frame.seq);
      const mine = frame.from === userId;
      learn(frame.body, mine, true);
      if (!shown(frame.body)) return;
      items.value = insert(items.value, { msgId: frame.msgId, seq: frame.seq, mine, time: frame.time, body: frame.body });
      if (!mine) {
        if (firstDeskMessageMs.value === null) firstDeskMessageMs.value = performance.now();
        if (!visible.value) unread.value++;
      }
      return;
    }
    case "update":
      items.value = update(items.value, frame.seq, frame.body);
      return;
    case "ack": {
      if (conversation === null) conversation = frame.conversationId;
      if (frame.seq !== null) received.saw(frame.seq);
      const pending = items.value.find((x) => x.mine && x.seq === null && x.msgId === frame.msgId);
      if (pending && frame.seq !== null) items.value = insert(items.value, { ...pending, seq: frame.seq });
      return;
    }
    case "pong":
      if (catchingUp) {
        catchingUp = false;
        if (ended.value === null) trigger();
      }
      return;
    case "queue":
      queue.value = inSeat.value ? null : frame.position;
      return;
    case "error":
      if (frame.msgId) {
        const message = frame.message;
        const known = items.value.some((x) => x.msgId === frame.msgId);
        if (known) items.value = items.value.map((x) => (x.msgId === frame.msgId && x.seq === null ? { ...x, failed: message } : x));
        else notice.value = message;
      }
      return;
    default:
      return;
  }
}

/** Resends what the visitor wrote while the socket was down (the same msgId: never twice). */
function flush(): void {
  for (const item of items.value) {
    if (item.mine && item.seq === null && !item.failed && !(item.msgId in uploads.value)) transmit(item.msgId, item.body, false);
  }
}

function transmit(msgId: string, body: Body, onlineUserOnly: boolean): void {
  const frame = { type: "send", to: webAppId, msgId, onlineUserOnly, body };
  if (socket?.send(frame)) return;
  if (!api) return;
  api.post(webAppId, msgId, body, onlineUserOnly).then(
    (ack) => onFrame({ type: "ack", msgId, conversationId: ack.conversationId, seq: ack.seq, duplicate: false }),
    (e: unknown) => {
      // A network failure: the row stays pending and goes at the next connection.
      if (e instanceof Refused && e.status !== 0) onFrame({ type: "error", msgId, error: "refused", field: e.field, code: null, message: e.message });
    },
  );
}

/** The trigger (src 7): opens a session when none is live; the desk answers 23 and 26. */
function trigger(): void {
  transmit(newId(), { type: "custom", data: deskData("7", { triggeredContent: { language: lang.value } }) }, true);
}

async function loadHistory(): Promise<void> {
  if (!api) return;
  const list = await api.conversations();
  const channel = site.value?.channelId;
  const own = list.filter((c) => c.channelId === channel).sort((a, b) => b.lastSeq - a.lastSeq)[0];
  if (!own) return;
  conversation = own.id;
  received = new Received(own.lastSeq);
  const messages = own.lastSeq > 0 ? await api.history(own.id, null, 50) : [];
  let next: Item[] = [];
  for (const m of messages) {
    learn(m.body, m.sender === "user", false);
    if (shown(m.body)) next = insert(next, fromHistory(m));
  }
  // Messages that came live meanwhile stay.
  for (const x of items.value) next = insert(next, x);
  items.value = next;
}

/** Starts the chat: the visitor (or the host's identity), its history, the socket. */
export async function start(id: string): Promise<void> {
  webAppId = id;
  phase.value = { kind: "loading" };
  try {
    if (site.value === null) site.value = await website(webAppId);
    let token: string;
    if (identity) {
      token = identity;
      userId = subject(identity);
    } else {
      const v = await visitor(webAppId);
      token = v.token;
      userId = v.userId;
    }
    api = new Api(token);
    await loadHistory();
    socket?.stop();
    socket = new UserSocket(token, () => (conversation === null ? [] : [[conversation, received.through]]), {
      frame: onFrame,
      link: (l) => {
        link.value = l;
        if (l !== "open") return;
        if (!triggered) {
          triggered = true;
          trigger();
        } else {
          // Back after a drop: the flags sent meanwhile (seat status, rating rules) are not
          // replayed. The desk answers a ping only after the backlog, so at its pong the
          // page knows whether the chat ended meanwhile; if not, the trigger asks the state
          // again (it opens no session while one is live).
          catchingUp = true;
          socket?.send({ type: "ping" });
        }
        flush();
      },
      refused: () => void renew(),
    });
    socket.start();
    phase.value = { kind: "ready" };
    for (const card of waitingCards.splice(0)) sendDesk(deskData("22", { content: card }), false);
  } catch (e) {
    const refused = e instanceof Refused ? e : null;
    const message = refused?.status === 404 ? t("unknownSite") : t("failed", { message: e instanceof Error ? e.message : String(e) });
    phase.value = { kind: "failed", message, retryS: refused?.status === 429 ? (refused.retryAfterS ?? 10) : null };
    if (refused?.status === 429) setTimeout(() => void start(webAppId), (refused.retryAfterS ?? 10) * 1000);
  }
}

/**
 * The token ended (expired, or its secret rotated): the visitor's identity again (the same
 * visitor, from its cookie or kept token while they are valid), and the socket goes on with
 * it. A network failure changes nothing: the socket keeps trying.
 */
let renewing = false;
async function renew(): Promise<void> {
  if (renewing || identity) return;
  renewing = true;
  try {
    const v = await visitor(webAppId);
    if (v.userId !== userId) {
      // A new visitor (the old identity could not be kept): its own, empty, chat.
      socket?.stop();
      items.value = [];
      conversation = null;
      received = new Received();
      triggered = false;
      void start(webAppId);
      return;
    }
    if (api) api.token = v.token;
    socket?.start(v.token);
  } catch {
    // offline, or the desk away: the socket's own retries go on
  } finally {
    renewing = false;
  }
}

/** The host page passed the app's own signed user token: the chat starts again as that user. */
export function identify(token: string): void {
  if (identity === token) return;
  identity = token;
  items.value = [];
  conversation = null;
  received = new Received();
  triggered = false;
  if (webAppId) void start(webAppId);
}

/** The user a token names (its JWT payload's `sub`); the desk checks the signature. */
function subject(token: string): string {
  try {
    const payload = token.split(".")[1] ?? "";
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    return String((JSON.parse(json) as { sub?: unknown }).sub ?? "");
  } catch {
    return "";
  }
}

export function sendText(text: string): void {
  const body: Body = { type: "text", text };
  const msgId = newId();
  items.value = insert(items.value, { msgId, seq: null, mine: true, time: Date.now(), body });
  learn(body, true, true);
  transmit(msgId, body, false);
}

/** A desk message of the visitor's (10, 24, 27, a form's answer). */
export function sendDesk(data: string, onlineUserOnly: boolean): void {
  const body: Body = { type: "custom", data };
  const msgId = newId();
  if (!onlineUserOnly) items.value = insert(items.value, { msgId, seq: null, mine: true, time: Date.now(), body });
  transmit(msgId, body, onlineUserOnly);
}

export function resend(item: Item): void {
  items.value = items.value.filter((x) => x !== item);
  if (item.body.type === "text") sendText(item.body.text);
  else if (item.body.type === "custom") sendDesk(item.body.data, false);
}

export function rate(sessionId: string, level: { id: string; content: string }): void {
  sendDesk(deskData("10", { menuSelected: { id: level.id, content: level.content, sessionId } }), true);
}

/** Cards the host page sent before the chat had started. */
const waitingCards: Obj[] = [];

/** A product card (src 22) of the visitor's, from the host page: its four text fields only. */
export function sendCard(card: unknown): void {
  const c = obj(card);
  const text = (v: unknown) => (typeof v === "string" ? v.slice(0, 1024) : "");
  const content = { header: text(c["header"]), desc: text(c["desc"]), pic: text(c["pic"]), url: text(c["url"]) };
  if (!content.header) return;
  if (phase.value.kind !== "ready") {
    waitingCards.push(content);
    return;
  }
  sendDesk(deskData("22", { content }), false);
}

export function endChat(): void {
  sendDesk(deskData("27", { triggeredContent: { language: lang.value } }), true);
}

export function askToRate(): void {
  sendDesk(deskData("24", { triggeredContent: { language: lang.value } }), true);
}

export async function attach(file: File): Promise<void> {
  if (!api) return;
  const msgId = newId();
  uploads.value = { ...uploads.value, [msgId]: { name: file.name, done: 0 } };
  try {
    await api.upload(webAppId, msgId, file, (done) => {
      uploads.value = { ...uploads.value, [msgId]: { name: file.name, done } };
    });
  } catch (e) {
    notice.value = t("refusedFile", { name: file.name, message: e instanceof Error ? e.message : String(e) });
  } finally {
    const { [msgId]: _gone, ...rest } = uploads.value;
    uploads.value = rest;
  }
}
