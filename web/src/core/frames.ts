// The frames of /ws/agent. The socket's frames are not in the OpenAPI document (only REST
// routes are), so they are typed here from README "The agent's workstation stream"; message
// bodies reuse the generated Body type.
import type { Schemas } from "./api";

export type Body = Schemas["Body"];
export type Status = "offline" | "free" | "busy" | "rest" | "arrange" | "not_ready";

export interface SeatInfo {
  sessionId: number;
  conversationId: number | null;
  user: string;
  channelId: number | null;
  channelName: string | null;
  transferredBy: number | null;
}

export interface OfferInfo extends SeatInfo {
  deadlineMs: number;
}

export interface WireMessage {
  seq: number;
  msgId: string;
  sender: unknown;
  atMs: number;
  body: Body;
}

interface Numbered {
  feedSeq: number;
}

export type Frame =
  | ({ type: "state"; feed: string; resumed: boolean; online: boolean; status: Status; restReason: string | null; sessions: SeatInfo[]; offers: OfferInfo[] } & Numbered)
  | ({ type: "offer" } & OfferInfo & Numbered)
  | ({ type: "seated" } & SeatInfo & Numbered)
  | ({ type: "transcript"; sessionId: number; conversationId: number; user: string; messages: Schemas["Message"][] } & Numbered)
  | ({ type: "message"; sessionId: number | null; conversationId: number; from: "user" | "agent" | "desk"; msgId: string; seq: number | null; time: number; body: Body } & Numbered)
  | ({ type: "update"; conversationId: number; seq: number; body: Body } & Numbered)
  | ({ type: "typing"; sessionId: number | null; conversationId: number } & Numbered)
  | ({ type: "released"; sessionId: number; reason: "transferred" | "offer_expired" | "unavailable" } & Numbered)
  | ({ type: "ended"; sessionId: number; closeBy: string } & Numbered)
  | ({ type: "rated"; sessionId: number; value: number; label: string } & Numbered)
  | ({ type: "status"; online: boolean; status: Status; restReason: string | null } & Numbered)
  | ({ type: "signed_out"; cause: string } & Numbered);

/** Replies to commands sent over the socket: not numbered. */
export type Reply =
  | { type: "ok"; command: string; ref?: string; sessionId: number | null; msgId: string | null; seq: number | null }
  | { type: "error"; command: string | null; ref?: string; error: string; field: string | null; message: string }
  | { type: "pong"; ref?: string };
