"use strict";
/**
 * helpline's agent SDK: embeds the agent workstation in another system (the seed's
 * "Solution Two: SDK Integration", its global `tccc` here `helpline`).
 *
 * A page loads the SDK URL its backend got from `POST /api/v1/sdk/login-tokens`:
 *
 *     <script src="https://desk.example.com/sdk/agent.js?token=hs_..." crossorigin="anonymous"></script>
 *
 * The script reads its own URL, exchanges the token for a sign-in of the agent
 * (`POST /api/v1/sdk/sessions`; the URL works once, within 10 minutes), opens the agent's
 * socket `/ws/agent` on the same origin with a single-use ticket asked just before each
 * (re)connect (`POST /api/v1/ws-tickets`: no sign-in token in a URL), and fires `ready`. Commands answer a
 * `CommonSDKResponse` and never reject. A dropped socket is reopened with backoff and
 * resumed where it stopped, so no event is lost or fired twice.
 *
 * `ready` and `tokenExpired` are remembered: a handler added after one fired is called
 * once with it at once (asynchronously), so a page may register before or after the script
 * loaded. The other events are fired to the handlers registered at the time.
 */
(() => {
    var _a;
    /** The SDK's version, bumped with its behaviour. */
    const VERSION = "1.0.0";
    /** A command unanswered this long answers an error (the socket is likely dead). */
    const REPLY_TIMEOUT_MS = 30000;
    /** The first reconnect waits about this long; each failure doubles it. */
    const RECONNECT_FIRST_MS = 500;
    /** The longest wait between reconnects. */
    const RECONNECT_MAX_MS = 30000;
    /** A ping this often keeps proxies from closing an idle socket. */
    const PING_EVERY_MS = 25000;
    const EVENT_NAMES = [
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
    const STICKY = new Set(["ready", "tokenExpired"]);
    const success = () => ({ status: "success" });
    const failure = (errorMsg, errorCode) => errorCode === undefined ? { status: "error", errorMsg } : { status: "error", errorMsg, errorCode };
    const str = (v) => (v === null || v === undefined ? null : String(v));
    const num = (v) => (typeof v === "number" ? v : null);
    /** The desk's status spelling (`not_ready`) as the seed's (`notReady`). */
    function sdkStatus(online, status) {
        if (!online)
            return "offline";
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
    function socketStatus(status) {
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
    function wireId(v) {
        const n = typeof v === "number" ? v : typeof v === "string" && /^[0-9]+$/.test(v) ? Number(v) : NaN;
        return Number.isSafeInteger(n) && n > 0 ? n : null;
    }
    /** Handlers by event, with the remembered payloads of sticky events. */
    class Emitter {
        constructor() {
            this.handlers = new Map();
            this.remembered = new Map();
        }
        on(event, fn) {
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
                    if (set === null || set === void 0 ? void 0 : set.has(fn))
                        call(fn, payload);
                });
            }
        }
        off(event, fn) {
            var _a;
            if (fn === undefined)
                this.handlers.delete(event);
            else
                (_a = this.handlers.get(event)) === null || _a === void 0 ? void 0 : _a.delete(fn);
        }
        emit(event, payload) {
            var _a;
            if (STICKY.has(event))
                this.remembered.set(event, payload);
            for (const fn of Array.from((_a = this.handlers.get(event)) !== null && _a !== void 0 ? _a : []))
                call(fn, payload);
        }
        /** Forgets the sticky events (a new SDK URL starts over). */
        forget() {
            this.remembered.clear();
        }
    }
    /** Calls a handler; its exceptions are the page's, not the SDK's. */
    function call(fn, payload) {
        try {
            fn(payload);
        }
        catch (e) {
            console.error("helpline: an event handler threw", e);
        }
    }
    /** One SDK URL's life: the exchange, the socket and its reconnects. */
    class Connection {
        constructor(origin, sdkToken, emitter) {
            this.origin = origin;
            this.sdkToken = sdkToken;
            this.emitter = emitter;
            this.socket = null;
            this.signIn = null;
            this.agentId = 0;
            /** The feed being followed and the last event taken from it. */
            this.feed = null;
            this.feedSeq = 0;
            this.ready = false;
            this.stopped = false;
            this.failures = 0;
            this.nextRef = 0;
            this.pending = new Map();
            this.pingTimer = null;
            this.reconnectTimer = null;
            this.seen = {
                online: false,
                status: "offline",
                restReason: null,
                sessions: new Set(),
                offers: new Set(),
            };
        }
        /** Exchanges the SDK URL's token, then connects. */
        async start() {
            var _a, _b, _c, _d;
            let response;
            try {
                response = await fetch(`${this.origin}/api/v1/sdk/sessions`, {
                    method: "POST",
                    headers: { "content-type": "application/json" },
                    body: JSON.stringify({ token: this.sdkToken }),
                    credentials: "omit",
                });
            }
            catch (e) {
                this.expire(`cannot reach helpline at ${this.origin}: ${String(e)}`, "network");
                return;
            }
            const body = (await response.json().catch(() => null));
            if (this.stopped)
                return;
            if (!response.ok || body === null || typeof body.token !== "string") {
                const error = ((_a = body === null || body === void 0 ? void 0 : body.error) !== null && _a !== void 0 ? _a : {});
                this.expire((_b = str(error.message)) !== null && _b !== void 0 ? _b : `helpline answered ${response.status}`, (_c = str(error.code)) !== null && _c !== void 0 ? _c : `http_${response.status}`);
                return;
            }
            this.signIn = body.token;
            this.agentId = (_d = num(body.agentId)) !== null && _d !== void 0 ? _d : 0;
            void this.connect();
        }
        /** Closes for good, firing nothing (another SDK URL takes over, or the end). */
        stop() {
            this.stopped = true;
            if (this.reconnectTimer !== null)
                clearTimeout(this.reconnectTimer);
            this.stopPing();
            this.failAll("the SDK was stopped");
            const socket = this.socket;
            this.socket = null;
            socket === null || socket === void 0 ? void 0 : socket.close(1000, "bye");
        }
        /** Sends a command; answers its reply, never rejects. */
        command(type, fields) {
            const socket = this.socket;
            if (!this.ready || socket === null || socket.readyState !== WebSocket.OPEN) {
                return Promise.resolve({
                    ok: false,
                    message: "not connected to helpline (wait for ready, or a reconnect)",
                    code: "not_connected",
                });
            }
            const ref = `r${++this.nextRef}`;
            return new Promise((resolve) => {
                const timer = setTimeout(() => {
                    this.pending.delete(ref);
                    resolve({ ok: false, message: `no answer to ${type} in time`, code: "timeout" });
                }, REPLY_TIMEOUT_MS);
                this.pending.set(ref, { command: type, resolve, timer });
                socket.send(JSON.stringify(Object.assign(Object.assign({ type }, fields), { ref })));
            });
        }
        /**
         * Asks for a single-use socket ticket (`POST /api/v1/ws-tickets`), so the sign-in
         * token never travels in a URL a proxy may log. Answers the ticket, or null after
         * handling the failure (the sign-in ended: `tokenExpired`; otherwise a reconnect).
         */
        async ticket() {
            var _a, _b, _c;
            let response;
            try {
                response = await fetch(`${this.origin}/api/v1/ws-tickets`, {
                    method: "POST",
                    headers: { authorization: `Bearer ${(_a = this.signIn) !== null && _a !== void 0 ? _a : ""}` },
                    credentials: "omit",
                });
            }
            catch (_d) {
                // The network: try again later.
                this.failures += 1;
                this.reconnect();
                return null;
            }
            const body = (await response.json().catch(() => null));
            if (this.stopped)
                return null;
            if (response.status === 401 || response.status === 403) {
                const error = ((_b = body === null || body === void 0 ? void 0 : body.error) !== null && _b !== void 0 ? _b : {});
                this.expire(`the sign-in ended: ${(_c = str(error.message)) !== null && _c !== void 0 ? _c : response.status}`, "signed_out");
                return null;
            }
            const ticket = str(body === null || body === void 0 ? void 0 : body.ticket);
            if (!response.ok || ticket === null) {
                this.failures += 1;
                this.reconnect();
                return null;
            }
            return ticket;
        }
        async connect() {
            if (this.stopped || this.signIn === null)
                return;
            const ticket = await this.ticket();
            if (ticket === null || this.stopped)
                return;
            const ws = this.origin.replace(/^http/, "ws");
            let url = `${ws}/ws/agent?ticket=${encodeURIComponent(ticket)}`;
            if (this.feed !== null)
                url += `&resume=${encodeURIComponent(`${this.feed}:${this.feedSeq}`)}`;
            const socket = new WebSocket(url);
            this.socket = socket;
            // Served: the server sent its state frame (a socket that opens and closes without
            // one counts as one that failed to open).
            let served = false;
            socket.onopen = () => this.startPing(socket);
            socket.onmessage = (event) => {
                if (this.socket !== socket || typeof event.data !== "string")
                    return;
                let frame;
                try {
                    frame = JSON.parse(event.data);
                }
                catch (_a) {
                    return;
                }
                if (frame === null || typeof frame !== "object")
                    return;
                if (frame.type === "state") {
                    served = true;
                    this.failures = 0;
                }
                this.take(frame);
            };
            socket.onclose = () => {
                if (this.socket !== socket)
                    return;
                this.socket = null;
                this.stopPing();
                this.failAll("the connection closed before an answer; the state after the reconnect tells");
                if (this.stopped)
                    return;
                if (served) {
                    this.reconnect();
                }
                else {
                    void this.checkSignIn();
                }
            };
        }
        /** After a socket failed to open: a 401 means the sign-in ended, not the network. */
        async checkSignIn() {
            var _a, _b, _c;
            try {
                const response = await fetch(`${this.origin}/api/v1/sdk/sessions/current`, {
                    headers: { authorization: `Bearer ${(_a = this.signIn) !== null && _a !== void 0 ? _a : ""}` },
                    credentials: "omit",
                });
                if (this.stopped)
                    return;
                if (response.status === 401 || response.status === 403) {
                    const body = (await response.json().catch(() => null));
                    const error = ((_b = body === null || body === void 0 ? void 0 : body.error) !== null && _b !== void 0 ? _b : {});
                    this.expire(`the sign-in ended: ${(_c = str(error.message)) !== null && _c !== void 0 ? _c : response.status}`, "signed_out");
                    return;
                }
            }
            catch (_d) {
                // The network: try again later.
            }
            this.failures += 1;
            this.reconnect();
        }
        reconnect() {
            if (this.stopped)
                return;
            const base = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** Math.min(this.failures, 16));
            // Jitter spreads a desk's agents out after a restart.
            const delay = base / 2 + Math.random() * (base / 2);
            this.reconnectTimer = setTimeout(() => {
                this.reconnectTimer = null;
                void this.connect();
            }, delay);
        }
        startPing(socket) {
            this.stopPing();
            this.pingTimer = setInterval(() => {
                if (socket.readyState === WebSocket.OPEN)
                    socket.send('{"type":"ping"}');
            }, PING_EVERY_MS);
        }
        stopPing() {
            if (this.pingTimer !== null)
                clearInterval(this.pingTimer);
            this.pingTimer = null;
        }
        failAll(message) {
            for (const [ref, p] of this.pending) {
                clearTimeout(p.timer);
                this.pending.delete(ref);
                p.resolve({ ok: false, message, code: "not_connected" });
            }
        }
        /** The sign-in is over: no more reconnects. */
        expire(message, code) {
            if (this.stopped)
                return;
            this.stop();
            this.seen.online = false;
            this.seen.status = "offline";
            this.emitter.emit("tokenExpired", { message, code });
        }
        /** One frame from the socket. */
        take(frame) {
            const type = frame.type;
            if (type === "ok" || type === "error") {
                this.answer(frame);
                return;
            }
            if (type === "pong")
                return;
            if (type === "state") {
                this.state(frame);
                return;
            }
            const feedSeq = num(frame.feedSeq);
            if (feedSeq !== null) {
                // Each event once: a resumed socket may repeat what was taken already.
                if (feedSeq <= this.feedSeq)
                    return;
                this.feedSeq = feedSeq;
            }
            this.event(frame);
        }
        /** A reply, matched by its `ref` (or, without one, to the oldest of its command). */
        answer(frame) {
            var _a, _b;
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
                p === null || p === void 0 ? void 0 : p.resolve({ ok: true, frame });
                return;
            }
            const code = (_a = str(frame.error)) !== null && _a !== void 0 ? _a : "error";
            const field = str(frame.field);
            const message = (_b = str(frame.message)) !== null && _b !== void 0 ? _b : code;
            p === null || p === void 0 ? void 0 : p.resolve({ ok: false, message: field === null ? message : `${field}: ${message}`, code });
            // The sign-in expired with the socket open: the next command (a ping, at least)
            // is refused so.
            if (code === "unauthorized")
                this.expire(`the sign-in ended: ${message}`, "signed_out");
        }
        /** The socket's first frame: where the agent stands, and the feed to follow. */
        state(frame) {
            var _a;
            const seen = this.seen;
            const resumed = frame.resumed === true && this.feed !== null && str(frame.feed) === this.feed;
            const status = sdkStatus(frame.online === true, frame.status);
            const restReason = str(frame.restReason);
            const sessions = new Set((Array.isArray(frame.sessions) ? frame.sessions : []).map((s) => String(s.sessionId)));
            const offers = Array.isArray(frame.offers) ? frame.offers : [];
            // Resumed: the frames after our last number follow (the state is as of the newest,
            // so its number is not ours). Otherwise the state is the truth as of its number.
            if (resumed)
                return;
            this.feed = str(frame.feed);
            this.feedSeq = (_a = num(frame.feedSeq)) !== null && _a !== void 0 ? _a : 0;
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
                for (const offer of offers)
                    this.emitter.emit("callIn", callIn(offer));
                return;
            }
            // A socket that could not resume: tell what changed while it was away.
            if (before.status !== status)
                this.emitter.emit("statusChanged", { status, restReason });
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
                if (!before.offers.has(String(offer.sessionId)))
                    this.emitter.emit("callIn", callIn(offer));
            }
            for (const id of sessions) {
                if (!before.sessions.has(id))
                    this.emitter.emit("userAccessed", { sessionId: id });
            }
        }
        /** An event of the feed. */
        event(frame) {
            var _a, _b, _c, _d;
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
                    const reason = (_a = str(frame.reason)) !== null && _a !== void 0 ? _a : "unknown";
                    if (reason === "transferred")
                        this.emitter.emit("transfer", { sessionId });
                    else
                        this.emitter.emit("autoTransfer", { sessionId, reason });
                    break;
                }
                case "ended":
                    seen.offers.delete(sessionId);
                    seen.sessions.delete(sessionId);
                    this.emitter.emit("sessionEnded", { sessionId, closeBy: (_b = str(frame.closeBy)) !== null && _b !== void 0 ? _b : "unknown" });
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
                        time: (_c = num(frame.time)) !== null && _c !== void 0 ? _c : 0,
                        body: frame.body,
                    });
                    break;
                case "signed_out":
                    this.expire(`signed out: ${(_d = str(frame.cause)) !== null && _d !== void 0 ? _d : "the sign-in ended"}`, "signed_out");
                    break;
                default:
                    // transcript, typing, rated: the workstation's; the SDK has no event for them.
                    break;
            }
        }
    }
    /** An offer as the seed's callIn. */
    function callIn(offer) {
        var _a;
        const deadlineMs = num(offer.deadlineMs);
        const user = String((_a = offer.user) !== null && _a !== void 0 ? _a : "");
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
    function create() {
        const emitter = new Emitter();
        let connection = null;
        const run = async (type, fields) => {
            if (connection === null)
                return failure("the SDK has no sign-in", "not_connected");
            const reply = await connection.command(type, fields);
            return reply.ok ? success() : failure(reply.message, reply.code);
        };
        const session = (sessionId) => { var _a; return (_a = wireId(sessionId)) !== null && _a !== void 0 ? _a : failure(`sessionId: ${String(sessionId)} is not a session id`, "invalid_field"); };
        const events = {};
        for (const name of EVENT_NAMES)
            events[name] = name;
        const sdk = {
            version: VERSION,
            events: Object.freeze(events),
            on: (event, fn) => emitter.on(event, fn),
            off: (event, fn) => emitter.off(event, fn),
            load(sdkUrl) {
                connection === null || connection === void 0 ? void 0 : connection.stop();
                connection = null;
                emitter.forget();
                let url;
                try {
                    url = new URL(sdkUrl, document.baseURI);
                }
                catch (_a) {
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
                    var _a, _b;
                    const id = session(options.sessionId);
                    if (typeof id !== "number")
                        return Promise.resolve(id);
                    const group = (_a = options.groupId) !== null && _a !== void 0 ? _a : options.skillGroupId;
                    const agent = (_b = options.agentId) !== null && _b !== void 0 ? _b : options.userId;
                    if ((group === undefined) === (agent === undefined)) {
                        return Promise.resolve(failure("give one of groupId (skillGroupId) or agentId (userId)", "invalid_field"));
                    }
                    const target = wireId(group !== null && group !== void 0 ? group : agent);
                    if (target === null) {
                        const field = group !== undefined ? "groupId" : "agentId";
                        return Promise.resolve(failure(`${field}: ${String(group !== null && group !== void 0 ? group : agent)} is not an id`, "invalid_field"));
                    }
                    return group !== undefined
                        ? run("transfer_to_group", { sessionId: id, groupId: target })
                        : run("transfer_to_agent", { sessionId: id, agentId: target });
                },
                async send({ sessionId, text, msgId }) {
                    const id = session(sessionId);
                    if (typeof id !== "number")
                        return id;
                    if (typeof text !== "string" || text === "")
                        return failure("text: must be a non-empty string", "invalid_field");
                    if (connection === null)
                        return failure("the SDK has no sign-in", "not_connected");
                    const ownId = msgId !== null && msgId !== void 0 ? msgId : `sdk-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
                    const reply = await connection.command("send", {
                        sessionId: id,
                        msgId: ownId,
                        body: { type: "text", text },
                    });
                    if (!reply.ok)
                        return Object.assign(Object.assign({}, failure(reply.message, reply.code)), { msgId: ownId });
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
                    var _a;
                    const status = typeof (options === null || options === void 0 ? void 0 : options.status) === "string" ? socketStatus(options.status) : null;
                    if (status === null) {
                        return Promise.resolve(failure(`status: ${String(options === null || options === void 0 ? void 0 : options.status)} is not free, busy, rest, arrange or notReady`, "invalid_field"));
                    }
                    const reason = (_a = options.restReason) !== null && _a !== void 0 ? _a : options.reason;
                    return run("status", reason === undefined ? { status } : { status, reason });
                },
                getStatus: () => { var _a; return (_a = connection === null || connection === void 0 ? void 0 : connection.seen.status) !== null && _a !== void 0 ? _a : "offline"; },
            },
        };
        return sdk;
    }
    /** This script's own URL (`document.currentScript`, or the last SDK script on the page). */
    function ownUrl() {
        const current = document.currentScript;
        if (current instanceof HTMLScriptElement && current.src !== "")
            return current.src;
        const scripts = Array.from(document.getElementsByTagName("script")).filter((s) => s.src.includes("/sdk/agent.js"));
        return scripts.length > 0 ? scripts[scripts.length - 1].src : null;
    }
    const page = window;
    // A second SDK URL on the same page switches the account (the seed's FAQ): the handlers
    // stay, the sign-in is the new one's.
    const sdk = (_a = page.helpline) !== null && _a !== void 0 ? _a : create();
    page.helpline = sdk;
    const url = ownUrl();
    if (url !== null)
        sdk.load(url);
})();
