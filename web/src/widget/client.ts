// The chat page's calls to the desk: the visitor's identity, the user-end REST routes and
// the /ws/im socket that reconnects and resumes after the last seq of each conversation.
// The page is served by the desk, so every call is to its own origin.
import type { Schemas } from "../core/api";
import type { Body, Frame } from "./model";

export type Visitor = Schemas["Visitor"];
export type Conversation = Schemas["ConversationView"];
export type Message = Schemas["Message"];
export type Website = Schemas["WebsiteView"];

/** A refusal of the desk, in its words, with the field it names. */
export class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field: string | null = null,
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
  }
}

async function refusal(response: Response): Promise<Refused> {
  let message = `${response.status} ${response.statusText}`;
  let field: string | null = null;
  try {
    const body = (await response.json()) as { error?: { message?: string; field?: string | null } };
    if (body.error?.message) message = body.error.message;
    field = body.error?.field ?? null;
  } catch {
    // not JSON: the status says it
  }
  const retry = Number(response.headers.get("retry-after"));
  return new Refused(response.status, message, field, Number.isFinite(retry) && retry > 0 ? retry : null);
}

/** Where the page keeps its visitor token: a frame on another site gets no cookie. */
const tokenKey = (webAppId: string) => `helpline.visitor.${webAppId}`;

function stored(webAppId: string): string | null {
  try {
    return localStorage.getItem(tokenKey(webAppId));
  } catch {
    return null;
  }
}

/** The channel's public description (404: no such channel). */
export async function website(webAppId: string): Promise<Website> {
  const response = await fetch(`/api/v1/web/${encodeURIComponent(webAppId)}`);
  if (!response.ok) throw await refusal(response);
  return (await response.json()) as Website;
}

/** The visitor: the same as before when the cookie or the kept token says so. */
export async function visitor(webAppId: string): Promise<Visitor> {
  const kept = stored(webAppId);
  const response = await fetch(`/api/v1/web/${encodeURIComponent(webAppId)}/visitor`, {
    method: "POST",
    credentials: "same-origin",
    headers: kept ? { authorization: `Bearer ${kept}` } : {},
  });
  if (!response.ok) throw await refusal(response);
  const v = (await response.json()) as Visitor;
  try {
    localStorage.setItem(tokenKey(webAppId), v.token);
  } catch {
    // storage refused (a private window's frame): the cookie alone keeps the visitor
  }
  return v;
}

export class Api {
  constructor(public token: string) {}

  private async send(method: string, path: string, body?: BodyInit, type?: string): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (type) headers["content-type"] = type;
    const response = await fetch(path, { method, headers, body: body ?? null });
    if (!response.ok) throw await refusal(response);
    return response;
  }

  async conversations(): Promise<Conversation[]> {
    return (await this.send("GET", "/api/v1/im/conversations")).json() as Promise<Conversation[]>;
  }

  async history(conversation: number, before: number | null, limit = 50): Promise<Message[]> {
    const q = before === null ? `limit=${limit}` : `before=${before}&limit=${limit}`;
    return (await this.send("GET", `/api/v1/im/conversations/${conversation}/messages?${q}`)).json() as Promise<Message[]>;
  }

  /** Sends over REST (when the socket is down): stored before the answer, idempotent by msgId. */
  async post(to: string, msgId: string, body: Body, onlineUserOnly = false): Promise<{ conversationId: number; seq: number | null }> {
    const r = await this.send("POST", "/api/v1/im/messages", JSON.stringify({ to, msgId, onlineUserOnly, body }), "application/json");
    return r.json() as Promise<{ conversationId: number; seq: number | null }>;
  }

  async blob(conversation: number, attachment: number): Promise<Blob> {
    return (await this.send("GET", `/api/v1/im/conversations/${conversation}/attachments/${attachment}`)).blob();
  }

  /** Uploads a file as a message, with its progress (0..1). */
  upload(to: string, msgId: string, file: File, progress: (done: number) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const q = `to=${encodeURIComponent(to)}&msgId=${encodeURIComponent(msgId)}&name=${encodeURIComponent(file.name)}`;
      xhr.open("POST", `/api/v1/im/attachments?${q}`);
      xhr.setRequestHeader("authorization", `Bearer ${this.token}`);
      xhr.setRequestHeader("content-type", "application/octet-stream");
      xhr.upload.onprogress = (e) => e.lengthComputable && progress(e.loaded / e.total);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) return resolve();
        void refusal(new Response(xhr.responseText || null, { status: xhr.status, statusText: xhr.statusText })).then(reject);
      };
      xhr.onerror = () => reject(new Refused(0, "the connection failed"));
      xhr.send(file);
    });
  }
}

export type Link = "connecting" | "open" | "down";

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 20_000;
const PING_MS = 25_000;

/**
 * The visitor's socket. Each (re)connect passes `resume=<conversation>:<seq>` for every
 * conversation the page holds, from `resume()`: the desk sends what came after, then live
 * frames, so a drop loses nothing and doubles nothing. Backoff with jitter.
 */
export class UserSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = true;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ping: ReturnType<typeof setInterval> | null = null;
  /** Test hook: close the socket after this many more frames. */
  dropAfter: number | null = null;

  constructor(
    private token: string,
    private readonly resume: () => [number, number][],
    private readonly on: { frame(f: Frame): void; link(l: Link): void; refused(reason: string): void },
  ) {}

  /** Connects (again, with `token` when given): a pending retry or an open socket is replaced. */
  start(token = this.token): void {
    this.token = token;
    this.stopped = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const old = this.ws;
    this.ws = null;
    old?.close(1000, "bye");
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.ping !== null) clearInterval(this.ping);
    this.timer = this.ping = null;
    this.ws?.close(1000, "bye");
    this.ws = null;
  }

  /** Drops the socket as a network failure would: it reconnects and resumes. */
  drop(): void {
    this.ws?.close();
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(frame: Record<string, unknown>): boolean {
    if (!this.open) return false;
    this.ws!.send(JSON.stringify(frame));
    return true;
  }

  private connect(): void {
    this.on.link("connecting");
    const resume = this.resume().map(([c, s]) => `${c}:${s}`).join(",");
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${proto}//${location.host}/ws/im?token=${encodeURIComponent(this.token)}${resume ? `&resume=${resume}` : ""}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.on.link("open");
      this.ping = setInterval(() => this.send({ type: "ping" }), PING_MS);
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      let frame: Frame;
      try {
        frame = JSON.parse(String(e.data)) as Frame;
      } catch {
        return;
      }
      this.on.frame(frame);
      if (frame.type === "closed" && frame.reason !== "bye") this.on.refused(frame.reason);
      if (this.dropAfter !== null && --this.dropAfter <= 0) {
        this.dropAfter = null;
        ws.close();
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.ping !== null) clearInterval(this.ping);
      this.ping = null;
      if (this.stopped) return;
      this.on.link("down");
      // Refused before it opened while the network is up (an expired token, say): the page
      // asks for a new identity; offline, it only waits.
      if (!opened && this.attempt >= 2 && navigator.onLine) this.on.refused("unopened");
      const delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt++;
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.stopped) this.connect();
      }, delay);
    };
  }
}
