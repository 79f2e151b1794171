// The agent's feed over /ws/agent, shared by the workstation (core/socket.ts) and the agent
// SDK (web/sdk/main.ts): a fresh single-use ticket before every (re)connect (the sign-in
// token never goes into a URL), `resume=<feed>:<feedSeq>` after a drop so no event is lost
// or doubled, and backoff with jitter so a restarted server is not hit by every tab at once.
// It imports nothing: the SDK runs on customers' pages, where only this file may come along
// (no API client, no sessionStorage sign-in, no UI).

export type Link = "connecting" | "open" | "down";

/** What a ticket request came to: the ticket, the end of the sign-in (with its cause), or
 * null to try again after the backoff. */
export type Ticket = { ticket: string } | { ended: string } | null;

/** The fields of a frame this reads; the rest is the handlers'. */
interface Wire {
  type?: unknown;
  feed?: unknown;
  feedSeq?: unknown;
  resumed?: unknown;
  cause?: unknown;
}

export interface FeedEvents<F, R> {
  /** The `state` frame of each socket, and every numbered frame once, in order. */
  frame(frame: F): void;
  /** A frame without a number: the replies to commands. */
  reply(reply: R): void;
  link(link: Link, attempt: number): void;
  /** The sign-in is no longer valid (the ticket refused, a `signed_out` frame, or `verify`). */
  ended(cause: string): void;
}

export interface FeedOptions {
  /** Where helpline is, e.g. `https://desk.example.com`: the SDK runs on another origin. */
  origin: string;
  /** Asks a single-use ticket for the next socket. */
  ticket(): Promise<Ticket>;
  /** Asked when a socket closed before the server's `state` frame (its upgrade was refused,
   * say): answers the cause when the sign-in ended, null to retry. Without it: retry. */
  verify?(): Promise<string | null>;
}

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

export class FeedSocket<F = Record<string, unknown>, R = Record<string, unknown>> {
  feed: string | null = null;
  feedSeq = 0;
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly on: FeedEvents<F, R>,
    private readonly options: FeedOptions,
  ) {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, "bye");
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

  private down(): void {
    this.on.link("down", this.attempt);
  }

  private retry(): void {
    if (this.stopped) return;
    const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** Math.min(this.attempt, 16));
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }

  private end(cause: string): void {
    if (this.stopped) return;
    this.stop();
    this.on.ended(cause);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.on.link("connecting", this.attempt);
    let ticket: Ticket;
    try {
      ticket = await this.options.ticket();
    } catch {
      ticket = null;
    }
    if (this.stopped) return;
    if (ticket === null) {
      this.down();
      this.retry();
      return;
    }
    if ("ended" in ticket) {
      this.end(ticket.ended);
      return;
    }
    const origin = this.options.origin.replace(/^http/, "ws");
    const resume = this.feed !== null ? `&resume=${encodeURIComponent(`${this.feed}:${this.feedSeq}`)}` : "";
    const ws = new WebSocket(`${origin}/ws/agent?ticket=${encodeURIComponent(ticket.ticket)}${resume}`);
    this.ws = ws;
    // Served once the state frame came: a socket that closes before it failed to open, and
    // only a served one resets the backoff.
    let served = false;
    ws.onopen = () => {
      if (this.ws === ws) this.on.link("open", 0);
    };
    ws.onmessage = (event: MessageEvent) => {
      if (this.ws !== ws || typeof event.data !== "string") return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(event.data);
      } catch {
        return;
      }
      if (parsed === null || typeof parsed !== "object") return;
      const data = parsed as Wire;
      if (!("feedSeq" in data)) {
        this.on.reply(parsed as R);
        return;
      }
      const feedSeq = typeof data.feedSeq === "number" ? data.feedSeq : 0;
      if (data.type === "state") {
        served = true;
        this.attempt = 0;
        // Resumed: the frames after our number follow (the view already holds them), so the
        // number stays ours; otherwise the view is the truth as of its number.
        this.feed = typeof data.feed === "string" ? data.feed : null;
        if (data.resumed !== true) this.feedSeq = feedSeq;
        this.on.frame(parsed as F);
        return;
      }
      if (feedSeq <= this.feedSeq) return; // seen already: never apply an event twice
      this.feedSeq = feedSeq;
      this.on.frame(parsed as F);
      if (data.type === "signed_out") this.end(String(data.cause));
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.down();
      if (served || this.options.verify === undefined) {
        this.retry();
        return;
      }
      void this.options.verify().then(
        (cause) => (cause === null ? this.retry() : this.end(cause)),
        () => this.retry(),
      );
    };
  }
}
