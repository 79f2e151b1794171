// The agent's socket: a fresh single-use ticket before every (re)connect (the sign-in token
// never goes into a URL), `resume=<feed>:<feedSeq>` after a drop so no event is lost or
// doubled, and backoff with jitter so a restarted server is not hit by every tab at once.
import { api, ApiError } from "./api";
import type { Frame, Reply } from "./frames";

export type Link = "connecting" | "open" | "down";

export interface SocketEvents {
  frame(frame: Frame): void;
  reply(reply: Reply): void;
  link(link: Link, attempt: number): void;
  /** The sign-in is no longer valid (401 on the ticket, or a signed_out frame). */
  ended(cause: string): void;
}

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

export class AgentSocket {
  feed: string | null = null;
  feedSeq = 0;
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly on: SocketEvents) {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close();
    this.ws = null;
  }

  /** Drops the socket as a network failure would (it reconnects and resumes). */
  drop(): void {
    this.ws?.close();
  }

  send(command: Record<string, unknown>): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(command));
    return true;
  }

  private retry(): void {
    if (this.stopped) return;
    this.on.link("down", this.attempt);
    const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.on.link("connecting", this.attempt);
    let ticket: string;
    try {
      ticket = (await api.ticket()).ticket;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        this.on.ended(e.status === 401 ? "expired" : e.code);
        return;
      }
      this.retry();
      return;
    }
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const resume = this.feed ? `&resume=${encodeURIComponent(`${this.feed}:${this.feedSeq}`)}` : "";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/agent?ticket=${encodeURIComponent(ticket)}${resume}`);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.on.link("open", 0);
    };
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      const data = JSON.parse(event.data) as Frame | Reply;
      if (!("feedSeq" in data)) {
        this.on.reply(data);
        return;
      }
      if (data.type === "state") {
        // Resumed: the frames after our number follow (the view already holds them), so the
        // number stays ours; otherwise the view is the truth as of its number.
        this.feed = data.feed;
        if (!data.resumed) this.feedSeq = data.feedSeq;
        this.on.frame(data);
        return;
      }
      if (data.feedSeq <= this.feedSeq) return; // seen already: never apply an event twice
      this.feedSeq = data.feedSeq;
      this.on.frame(data);
      if (data.type === "signed_out") {
        this.stopped = true;
        this.on.ended(data.cause);
      }
    };
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null;
      this.retry();
    };
  }
}
