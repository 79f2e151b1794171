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

/** The SDK's types (the global `helpline` is a `Helpline.SDK`). */
declare namespace Helpline {
    /** An agent's status, as the seed's SDK spells it. */
    type AgentStatus = "free" | "busy" | "rest" | "arrange" | "notReady" | "offline";

    /** What every call answers (the seed's CommonSDKResponse). */
    interface CommonSDKResponse {
        /** The call's outcome. */
        status: "success" | "error";
        /** What went wrong, when `status` is `error`. */
        errorMsg?: string;
        /** The desk's error code (`conflict`, `invalid_field`...), when it refused. */
        errorCode?: string;
    }

    /** The answer to `Chat.send`. */
    interface SendResponse extends CommonSDKResponse {
        /** The message's id (the one given, or a generated one). */
        msgId?: string;
        /** Its place in the conversation, once stored. */
        seq?: number | null;
    }

    /** `ready`: the SDK is signed in and connected; calls may be made. */
    interface ReadyEvent {
        /** The agent signed in. */
        agentId: number;
        /** Its status now. */
        status: AgentStatus;
    }

    /** `tokenExpired`: the SDK URL did not sign in (expired, used, unknown), or the
     * sign-in ended later (a newer sign-in of the agent elsewhere, logout, expiry). Load a
     * new SDK URL to go on. */
    interface TokenExpiredEvent {
        /** Why, in words. */
        message: string;
        /** The desk's code (`sdk_token_expired`, `sdk_token_used`, `sdk_token_unknown`,
         * `signed_out`, `network`...). */
        code: string;
    }

    /** `callIn`: a session is offered to the agent; accept it with `Chat.accept`. */
    interface CallInEvent {
        /** The session. */
        sessionId: string;
        /** Always `im` (online conversation). */
        type: "im";
        /** Seconds left to accept (by this browser's clock); 0: no countdown. */
        timeout: number;
        /** The user's name as the desk knows it: its user id. */
        nickname: string;
        /** The user's picture (the desk has none). */
        avatar: string | null;
        /** A remark about the user (the desk has none). */
        remark: string | null;
        /** Where the user came from: the channel's id. */
        peerSource: string | null;
        /** The channel's name. */
        channelName: string | null;
        /** Data the customer attached (the desk has none). */
        clientData: string | null;
        /** The user's id in the app. */
        userId: string;
        /** The conversation. */
        conversationId: string | null;
        /** When the offer lapses, ms since the epoch (the desk's clock). */
        deadlineMs: number | null;
        /** The agent who handed the session over, for a transfer. */
        transferredBy: number | null;
    }

    /** `userAccessed`: the agent serves the session now. */
    interface UserAccessedEvent {
        /** The session. */
        sessionId: string;
    }

    /** `autoTransfer`: the desk took an offered session away and offers it elsewhere. */
    interface AutoTransferEvent {
        /** The session. */
        sessionId: string;
        /** `offer_expired` (the countdown ran out), `unavailable` (the agent went offline),
         * or `unknown` (it left while the SDK could not resume its socket). */
        reason: string;
    }

    /** `transfer`: the session was handed to another group or agent. */
    interface TransferEvent {
        /** The session. */
        sessionId: string;
    }

    /** `sessionEnded`: the session ended. */
    interface SessionEndedEvent {
        /** The session. */
        sessionId: string;
        /** Who ended it: `client` (the user), `seat` (an agent), `admin`, `timer`; `unknown`
         * when it ended while the SDK could not resume its socket. */
        closeBy: string;
    }

    /** `statusChanged`: the agent's status changed. */
    interface StatusChangedEvent {
        /** The status now. */
        status: AgentStatus;
        /** The rest reason, when resting. */
        restReason: string | null;
    }

    /** `message`: a message of a session the agent serves. */
    interface MessageEvent {
        /** The session. */
        sessionId: string | null;
        /** The conversation. */
        conversationId: string;
        /** `user`, `agent` or `desk`. */
        from: string;
        /** The sender's id for it. */
        msgId: string;
        /** Its place (none for a flag message). */
        seq: number | null;
        /** When the desk took it, ms since the epoch. */
        time: number;
        /** `{type: "text", text}` or `{type: "custom", data}`. */
        body: unknown;
    }

    /** Every event and what it carries. */
    interface EventMap {
        ready: ReadyEvent;
        tokenExpired: TokenExpiredEvent;
        callIn: CallInEvent;
        userAccessed: UserAccessedEvent;
        autoTransfer: AutoTransferEvent;
        sessionEnded: SessionEndedEvent;
        transfer: TransferEvent;
        statusChanged: StatusChangedEvent;
        message: MessageEvent;
    }

    /** An event's name. */
    type EventName = keyof EventMap;

    /** A session id, as events give it (a number is taken too). */
    type SessionRef = string | number;

    /** Session calls. */
    interface ChatApi {
        /** Accepts an offered session. */
        accept(options: { sessionId: SessionRef }): Promise<CommonSDKResponse>;
        /** Ends a session the agent serves. */
        end(options: { sessionId: SessionRef }): Promise<CommonSDKResponse>;
        /** Hands a session to a skill group's queue (`groupId`, or the seed's
         * `skillGroupId`) or to a named agent (`agentId`, or the seed's `userId`). */
        transfer(options: {
            sessionId: SessionRef;
            groupId?: SessionRef;
            skillGroupId?: SessionRef;
            agentId?: SessionRef;
            userId?: SessionRef;
        }): Promise<CommonSDKResponse>;
        /** Sends the user a text message. */
        send(options: { sessionId: SessionRef; text: string; msgId?: string }): Promise<SendResponse>;
        /** The sessions the agent serves now. */
        sessions(): string[];
    }

    /** Agent calls. */
    interface AgentApi {
        /** Goes online (with the app's status after login). */
        online(): Promise<CommonSDKResponse>;
        /** Goes offline. */
        offline(): Promise<CommonSDKResponse>;
        /** Sets the status while online: `free`, `busy`, `arrange`, `notReady`, or `rest`
         * with `restReason` (or `reason`) naming an enabled rest reason. */
        setStatus(options: {
            status: string;
            restReason?: string;
            reason?: string;
        }): Promise<CommonSDKResponse>;
        /** The status now (`offline` until `ready`). */
        getStatus(): AgentStatus;
    }

    /** The global `helpline`. */
    interface SDK {
        /** The events' names. */
        readonly events: { readonly [K in EventName]: K };
        /** Calls `fn` each time `event` fires. */
        on<K extends EventName>(event: K, fn: (payload: EventMap[K]) => void): void;
        /** Stops calling `fn` for `event` (every handler of it, without `fn`). */
        off<K extends EventName>(event: K, fn?: (payload: EventMap[K]) => void): void;
        /** Session calls. */
        readonly Chat: ChatApi;
        /** Agent calls. */
        readonly Agent: AgentApi;
        /** The SDK's version. */
        readonly version: string;
        /** Starts over with another SDK URL (the page loading a second one does this). */
        load(sdkUrl: string): void;
    }
}

/** The SDK, once its script ran. */
declare var helpline: Helpline.SDK;
