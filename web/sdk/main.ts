// The agent SDK's code, bundled by esbuild (web/build.mjs) into the classic script
// web/dist/agent.js: the page loads it with `<script src>` and gets the global `helpline`.
// Its public types are web/sdk/agent.ts (tsc makes web/dist/agent.d.ts of it); the socket
// (tickets, resume, backoff, each event once) is the workstation's, core/feed.ts.
import { FeedSocket, type Ticket } from "../src/core/feed";

/** The SDK's version, bumped with its behaviour. */
const VERSION = "1.0.0";
/** A command unanswered this long answers an error (the socket is likely dead). */
const REPLY_TIMEOUT_MS = 30_000;
/** A ping this often keeps proxies from closing an idle socket. */
const PING_EVERY_MS = 25_000;

const EVENT_NAMES: Helpline.EventName[] = [
    "ready",
    "tokenExpired",
    "callIn",
    "userAccessed",
    "autoTransfer",
    "sessionEnded",
    "transfer",
    "statusChanged",
    "message",
];
/** Events remembered for handlers added later. */
const STICKY: ReadonlySet<Helpline.EventName> = new Set<Helpline.EventName>(["ready", "tokenExpired"]);

type Handler = (payload: never) => void;
type Frame = Record<string, unknown>;
type Reply = { ok: true; frame: Frame } | { ok: false; message: string; code: string };

/** What the socket's `state` frame and events say of the agent. */
interface Seen {
    online: boolean;
    status: Helpline.AgentStatus;
    restReason: string | null;
    sessions: Set<string>;
    offers: Set<string>;
}

const success = (): Helpline.CommonSDKResponse => ({ status: "success" });
const failure = (errorMsg: string, errorCode?: string): Helpline.CommonSDKResponse =>
    errorCode === undefined ? { status: "error", errorMsg } : { status: "error", errorMsg, errorCode };

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (typeof v === "number" ? v : null);

/** The desk's status spelling (`not_ready`) as the seed's (`notReady`). */
function sdkStatus(online: boolean, status: unknown): Helpline.AgentStatus {
    if (!online) return "offline";
    switch (status) {
        case "free":
        case "busy":
        case "rest":
        case "arrange":
        case "offline":
            return status;
        case "not_ready":
        case "notReady":
            return "notReady";
        default:
            return "offline";
    }
}

/** The seed's status names (`free rest Arrange NotReady StopNotReady`, any case) as the
 * socket's. */
function socketStatus(status: string): string | null {
    switch (status.toLowerCase()) {
        case "free":
        case "stopnotready":
            return "free";
        case "busy":
            return "busy";
        case "rest":
            return "rest";
        case "arrange":
            return "arrange";
        case "notready":
        case "not_ready":
            return "not_ready";
        default:
            return null;
    }
}

/** A session id for the socket, or null. */
function wireId(v: unknown): number | null {
    const n = typeof v === "number" ? v : typeof v === "string" && /^[0-9]+$/.test(v) ? Number(v) : NaN;
    return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** Handlers by event, with the remembered payloads of sticky events. */
class Emitter {
    private handlers = new Map<Helpline.EventName, Set<Handler>>();
    private remembered = new Map<Helpline.EventName, unknown>();

    on(event: Helpline.EventName, fn: Handler): void {
        if (!EVENT_NAMES.includes(event) || typeof fn !== "function") {
            console.warn(`helpline: no event ${String(event)} or no function`);
            return;
        }
        let set = this.handlers.get(event);
        if (!set) {
            set = new Set();
            this.handlers.set(event, set);
        }
        set.add(fn);
        if (this.remembered.has(event)) {
            const payload = this.remembered.get(event);
            void Promise.resolve().then(() => {
                if (set?.has(fn)) call(fn, payload);
            });
        }
    }

    off(event: Helpline.EventName, fn?: Handler): void {
        if (fn === undefined) this.handlers.delete(event);
        else this.handlers.get(event)?.delete(fn);
    }

    emit<K extends Helpline.EventName>(event: K, payload: Helpline.EventMap[K]): void {
        if (STICKY.has(event)) this.remembered.set(event, payload);
        for (const fn of Array.from(this.handlers.get(event) ?? [])) call(fn, payload);
    }

    /** Forgets the sticky events (a new SDK URL starts over). */
    forget(): void {
        this.remembered.clear();
    }
}

/** Calls a handler; its exceptions are the page's, not the SDK's. */
function call(fn: Handler, payload: unknown): void {
    try {
        (fn as (p: unknown) => void)(payload);
    } catch (e) {
        console.error("helpline: an event handler threw", e);
    }
}

/** A command waiting for its answer. */
interface Pending {
    command: string;
    resolve: (reply: Reply) => void;
    timer: ReturnType<typeof setTimeout>;
}

/** One SDK URL's life: the exchange, the socket and its reconnects. */
class Connection {
    private signIn: string | null = null;
    private agentId = 0;
    private ready = false;
    private stopped = false;
    private nextRef = 0;
    private pending = new Map<string, Pending>();
    private pingTimer: ReturnType<typeof setInterval> | null = null;
    readonly seen: Seen = {
        online: false,
        status: "offline",
        restReason: null,
        sessions: new Set(),
        offers: new Set(),
    };
    /** The socket, on helpline's origin (not the page's), following the agent's feed. */
    private readonly feed: FeedSocket<Frame, Frame>;

    constructor(
        private readonly origin: string,
        private readonly sdkToken: string,
        private readonly emitter: Emitter,
    ) {
        this.feed = new FeedSocket<Frame, Frame>(
            {
                frame: (frame) => (frame.type === "state" ? this.state(frame) : this.event(frame)),
                reply: (frame) => this.reply(frame),
                link: (link) => {
                    if (link === "open") {
                        this.startPing();
                    } else if (link === "down") {
                        this.stopPing();
                        this.failAll("the connection closed before an answer; the state after the reconnect tells");
                    }
                },
                ended: (message) => this.expire(message, "signed_out"),
            },
            { origin, ticket: () => this.ticket(), verify: () => this.checkSignIn() },
        );
    }

    /** Exchanges the SDK URL's token, then connects. */
    async start(): Promise<void> {
        let response: Response;
        try {
            response = await fetch(`${this.origin}/api/v1/sdk/sessions`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ token: this.sdkToken }),
                credentials: "omit",
            });
        } catch (e) {
            this.expire(`cannot reach helpline at ${this.origin}: ${String(e)}`, "network");
            return;
        }
        const body = (await response.json().catch(() => null)) as Frame | null;
        if (this.stopped) return;
        if (!response.ok || body === null || typeof body.token !== "string") {
            const error = (body?.error ?? {}) as Frame;
            this.expire(
                str(error.message) ?? `helpline answered ${response.status}`,
                str(error.code) ?? `http_${response.status}`,
            );
            return;
        }
        this.signIn = body.token;
        this.agentId = num(body.agentId) ?? 0;
        this.feed.start();
    }

    /** Closes for good, firing nothing (another SDK URL takes over, or the end). */
    stop(): void {
        this.stopped = true;
        this.feed.stop();
        this.stopPing();
        this.failAll("the SDK was stopped");
    }

    /** Sends a command; answers its reply, never rejects. */
    command(type: string, fields: Frame): Promise<Reply> {
        const ref = `r${this.nextRef + 1}`;
        if (!this.ready || !this.feed.send({ type, ...fields, ref })) {
            return Promise.resolve({
                ok: false,
                message: "not connected to helpline (wait for ready, or a reconnect)",
                code: "not_connected",
            });
        }
        this.nextRef += 1;
        return new Promise((resolve) => {
            const timer = setTimeout(() => {
                this.pending.delete(ref);
                resolve({ ok: false, message: `no answer to ${type} in time`, code: "timeout" });
            }, REPLY_TIMEOUT_MS);
            this.pending.set(ref, { command: type, resolve, timer });
        });
    }

    /**
     * Asks for a single-use socket ticket (`POST /api/v1/ws-tickets`), so the sign-in
     * token never travels in a URL a proxy may log. Answers the ticket, the end of the
     * sign-in (`tokenExpired`), or null for a reconnect after the backoff.
     */
    private async ticket(): Promise<Ticket> {
        let response: Response;
        try {
            response = await fetch(`${this.origin}/api/v1/ws-tickets`, {
                method: "POST",
                headers: { authorization: `Bearer ${this.signIn ?? ""}` },
                credentials: "omit",
            });
        } catch {
            // The network: try again later.
            return null;
        }
        const body = (await response.json().catch(() => null)) as Frame | null;
        if (response.status === 401 || response.status === 403) {
            const error = (body?.error ?? {}) as Frame;
            return { ended: `the sign-in ended: ${str(error.message) ?? response.status}` };
        }
        const ticket = str(body?.ticket);
        return response.ok && ticket !== null ? { ticket } : null;
    }

    /** After a socket failed to open: a 401 means the sign-in ended, not the network.
     * Answers why it ended, or null to reconnect. */
    private async checkSignIn(): Promise<string | null> {
        try {
            const response = await fetch(`${this.origin}/api/v1/sdk/sessions/current`, {
                headers: { authorization: `Bearer ${this.signIn ?? ""}` },
                credentials: "omit",
            });
            if (response.status === 401 || response.status === 403) {
                const body = (await response.json().catch(() => null)) as Frame | null;
                const error = (body?.error ?? {}) as Frame;
                return `the sign-in ended: ${str(error.message) ?? response.status}`;
            }
        } catch {
            // The network: try again later.
        }
        return null;
    }

    private startPing(): void {
        this.stopPing();
        this.pingTimer = setInterval(() => this.feed.send({ type: "ping" }), PING_EVERY_MS);
    }

    private stopPing(): void {
        if (this.pingTimer !== null) clearInterval(this.pingTimer);
        this.pingTimer = null;
    }

    private failAll(message: string): void {
        for (const [ref, p] of this.pending) {
            clearTimeout(p.timer);
            this.pending.delete(ref);
            p.resolve({ ok: false, message, code: "not_connected" });
        }
    }

    /** The sign-in is over: no more reconnects. */
    private expire(message: string, code: string): void {
        if (this.stopped) return;
        this.stop();
        this.seen.online = false;
        this.seen.status = "offline";
        this.emitter.emit("tokenExpired", { message, code });
    }

    /** A frame without a number: a command's reply, or the answer to a ping. */
    private reply(frame: Frame): void {
        const type = frame.type;
        if (type === "ok" || type === "error") this.answer(frame);
        else if (type !== "pong") this.event(frame);
    }

    /** A reply, matched by its `ref` (or, without one, to the oldest of its command). */
    private answer(frame: Frame): void {
        let ref = str(frame.ref);
        if (ref === null || !this.pending.has(ref)) {
            ref = null;
            for (const [r, p] of this.pending) {
                if (p.command === frame.command) {
                    ref = r;
                    break;
                }
            }
        }
        const p = ref === null ? undefined : this.pending.get(ref);
        if (ref !== null && p !== undefined) {
            this.pending.delete(ref);
            clearTimeout(p.timer);
        }
        if (frame.type === "ok") {
            p?.resolve({ ok: true, frame });
            return;
        }
        const code = str(frame.error) ?? "error";
        const field = str(frame.field);
        const message = str(frame.message) ?? code;
        p?.resolve({ ok: false, message: field === null ? message : `${field}: ${message}`, code });
        // The sign-in expired with the socket open: the next command (a ping, at least)
        // is refused so.
        if (code === "unauthorized") this.expire(`the sign-in ended: ${message}`, "signed_out");
    }

    /** Each socket's first frame: where the agent stands. */
    private state(frame: Frame): void {
        // Resumed: the frames after our last number follow (the socket keeps the number). The
        // socket asks to resume only the feed it follows, and the server answers resumed only
        // to a resume of its current feed. Otherwise the state is the truth as of its number.
        if (frame.resumed === true) return;
        const seen = this.seen;
        const status = sdkStatus(frame.online === true, frame.status);
        const restReason = str(frame.restReason);
        const sessions = new Set(
            (Array.isArray(frame.sessions) ? (frame.sessions as Frame[]) : []).map((s) => String(s.sessionId)),
        );
        const offers = Array.isArray(frame.offers) ? (frame.offers as Frame[]) : [];
        const first = !this.ready;
        const before = { status: seen.status, sessions: seen.sessions, offers: seen.offers };
        seen.online = frame.online === true;
        seen.status = status;
        seen.restReason = restReason;
        seen.sessions = sessions;
        seen.offers = new Set(offers.map((o) => String(o.sessionId)));
        if (first) {
            this.ready = true;
            this.emitter.emit("ready", { agentId: this.agentId, status });
            for (const offer of offers) this.emitter.emit("callIn", callIn(offer));
            return;
        }
        // A socket that could not resume: tell what changed while it was away.
        if (before.status !== status) this.emitter.emit("statusChanged", { status, restReason });
        for (const id of before.sessions) {
            if (!sessions.has(id) && !seen.offers.has(id)) {
                this.emitter.emit("sessionEnded", { sessionId: id, closeBy: "unknown" });
            }
        }
        for (const id of before.offers) {
            if (!seen.offers.has(id) && !sessions.has(id)) {
                this.emitter.emit("autoTransfer", { sessionId: id, reason: "unknown" });
            }
        }
        for (const offer of offers) {
            if (!before.offers.has(String(offer.sessionId))) this.emitter.emit("callIn", callIn(offer));
        }
        for (const id of sessions) {
            if (!before.sessions.has(id)) this.emitter.emit("userAccessed", { sessionId: id });
        }
    }

    /** An event of the feed. */
    private event(frame: Frame): void {
        const seen = this.seen;
        const sessionId = String(frame.sessionId);
        switch (frame.type) {
            case "offer":
                seen.offers.add(sessionId);
                this.emitter.emit("callIn", callIn(frame));
                break;
            case "seated":
                seen.offers.delete(sessionId);
                seen.sessions.add(sessionId);
                this.emitter.emit("userAccessed", { sessionId });
                break;
            case "released": {
                seen.offers.delete(sessionId);
                seen.sessions.delete(sessionId);
                const reason = str(frame.reason) ?? "unknown";
                if (reason === "transferred") this.emitter.emit("transfer", { sessionId });
                else this.emitter.emit("autoTransfer", { sessionId, reason });
                break;
            }
            case "ended":
                seen.offers.delete(sessionId);
                seen.sessions.delete(sessionId);
                this.emitter.emit("sessionEnded", { sessionId, closeBy: str(frame.closeBy) ?? "unknown" });
                break;
            case "status": {
                seen.online = frame.online === true;
                seen.status = sdkStatus(seen.online, frame.status);
                seen.restReason = str(frame.restReason);
                this.emitter.emit("statusChanged", { status: seen.status, restReason: seen.restReason });
                break;
            }
            case "message":
                this.emitter.emit("message", {
                    sessionId: str(frame.sessionId),
                    conversationId: String(frame.conversationId),
                    from: String(frame.from),
                    msgId: String(frame.msgId),
                    seq: num(frame.seq),
                    time: num(frame.time) ?? 0,
                    body: frame.body,
                });
                break;
            case "signed_out":
                this.expire(`signed out: ${str(frame.cause) ?? "the sign-in ended"}`, "signed_out");
                break;
            default:
                // transcript, typing, rated: the workstation's; the SDK has no event for them.
                break;
        }
    }
}

/** An offer as the seed's callIn. */
function callIn(offer: Frame): Helpline.CallInEvent {
    const deadlineMs = num(offer.deadlineMs);
    const user = String(offer.user ?? "");
    return {
        sessionId: String(offer.sessionId),
        type: "im",
        timeout: deadlineMs === null ? 0 : Math.max(0, Math.ceil((deadlineMs - Date.now()) / 1000)),
        nickname: user,
        avatar: null,
        remark: null,
        peerSource: str(offer.channelId),
        channelName: str(offer.channelName),
        clientData: null,
        userId: user,
        conversationId: str(offer.conversationId),
        deadlineMs,
        transferredBy: num(offer.transferredBy),
    };
}

/** The SDK object: one per page, whatever SDK URLs it loads. */
function create(): Helpline.SDK {
    const emitter = new Emitter();
    let connection: Connection | null = null;

    const run = async (type: string, fields: Frame): Promise<Helpline.CommonSDKResponse> => {
        if (connection === null) return failure("the SDK has no sign-in", "not_connected");
        const reply = await connection.command(type, fields);
        return reply.ok ? success() : failure(reply.message, reply.code);
    };
    const session = (sessionId: unknown): number | Helpline.CommonSDKResponse =>
        wireId(sessionId) ?? failure(`sessionId: ${String(sessionId)} is not a session id`, "invalid_field");

    const events = {} as { [K in Helpline.EventName]: K };
    for (const name of EVENT_NAMES) (events as Record<string, string>)[name] = name;

    const sdk: Helpline.SDK = {
        version: VERSION,
        events: Object.freeze(events),
        on: (event, fn) => emitter.on(event, fn as Handler),
        off: (event, fn) => emitter.off(event, fn as Handler | undefined),
        load(sdkUrl: string): void {
            connection?.stop();
            connection = null;
            emitter.forget();
            let url: URL;
            try {
                url = new URL(sdkUrl, document.baseURI);
            } catch {
                emitter.emit("tokenExpired", { message: `${sdkUrl} is not a URL`, code: "sdk_token_unknown" });
                return;
            }
            const token = url.searchParams.get("token");
            if (token === null || token === "") {
                emitter.emit("tokenExpired", {
                    message: "the SDK URL has no token; ask your backend for one",
                    code: "sdk_token_unknown",
                });
                return;
            }
            const current = new Connection(url.origin, token, emitter);
            connection = current;
            void current.start();
        },
        Chat: {
            accept({ sessionId }) {
                const id = session(sessionId);
                return typeof id === "number" ? run("accept", { sessionId: id }) : Promise.resolve(id);
            },
            end({ sessionId }) {
                const id = session(sessionId);
                return typeof id === "number" ? run("end", { sessionId: id }) : Promise.resolve(id);
            },
            transfer(options) {
                const id = session(options.sessionId);
                if (typeof id !== "number") return Promise.resolve(id);
                const group = options.groupId ?? options.skillGroupId;
                const agent = options.agentId ?? options.userId;
                if ((group === undefined) === (agent === undefined)) {
                    return Promise.resolve(
                        failure("give one of groupId (skillGroupId) or agentId (userId)", "invalid_field"),
                    );
                }
                const target = wireId(group ?? agent);
                if (target === null) {
                    const field = group !== undefined ? "groupId" : "agentId";
                    return Promise.resolve(failure(`${field}: ${String(group ?? agent)} is not an id`, "invalid_field"));
                }
                return group !== undefined
                    ? run("transfer_to_group", { sessionId: id, groupId: target })
                    : run("transfer_to_agent", { sessionId: id, agentId: target });
            },
            async send({ sessionId, text, msgId }) {
                const id = session(sessionId);
                if (typeof id !== "number") return id;
                if (typeof text !== "string" || text === "") return failure("text: must be a non-empty string", "invalid_field");
                if (connection === null) return failure("the SDK has no sign-in", "not_connected");
                const ownId = msgId ?? `sdk-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
                const reply = await connection.command("send", {
                    sessionId: id,
                    msgId: ownId,
                    body: { type: "text", text },
                });
                if (!reply.ok) return { ...failure(reply.message, reply.code), msgId: ownId };
                return { status: "success", msgId: ownId, seq: num(reply.frame.seq) };
            },
            sessions() {
                return connection === null ? [] : Array.from(connection.seen.sessions);
            },
        },
        Agent: {
            online: () => run("online", {}),
            offline: () => run("offline", {}),
            setStatus(options) {
                const status = typeof options?.status === "string" ? socketStatus(options.status) : null;
                if (status === null) {
                    return Promise.resolve(
                        failure(`status: ${String(options?.status)} is not free, busy, rest, arrange or notReady`, "invalid_field"),
                    );
                }
                const reason = options.restReason ?? options.reason;
                return run("status", reason === undefined ? { status } : { status, reason });
            },
            getStatus: () => connection?.seen.status ?? "offline",
        },
    };
    return sdk;
}

/** This script's own URL (`document.currentScript`, or the last SDK script on the page). */
function ownUrl(): string | null {
    const current = document.currentScript;
    if (current instanceof HTMLScriptElement && current.src !== "") return current.src;
    const scripts = Array.from(document.getElementsByTagName("script")).filter((s) =>
        s.src.includes("/sdk/agent.js"),
    );
    return scripts.length > 0 ? scripts[scripts.length - 1].src : null;
}

const page = window as unknown as { helpline?: Helpline.SDK };
// A second SDK URL on the same page switches the account (the seed's FAQ): the handlers
// stay, the sign-in is the new one's.
const sdk = page.helpline ?? create();
page.helpline = sdk;
const url = ownUrl();
if (url !== null) sdk.load(url);
