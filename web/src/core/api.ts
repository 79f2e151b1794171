// The typed client of helpline's REST API. Types come from api.gen.ts (generated from the
// server's OpenAPI document), so a renamed field is a type error here, not a silent undefined.
import type { components, paths } from "./api.gen";
import { session } from "./session";

export type Schemas = components["schemas"];

/** A refusal of the server, as its `{"error": {...}}` body says. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly field: string | null,
    message: string,
    /** For 429: seconds until the same request may be tried again. */
    readonly retryAfterSecs: number | null,
  ) {
    super(message);
  }
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

type ErrorDetail = Schemas["ErrorDetail"];

function isErrorBody(value: unknown): value is { error: ErrorDetail } {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error = (value as { error: unknown }).error;
  return typeof error === "object" && error !== null && "code" in error;
}

/** Calls the API; answers the decoded JSON, or throws an ApiError. */
export async function call<T>(method: Method, path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = {};
  const bearer = token ?? session.token();
  if (bearer) headers["authorization"] = `Bearer ${bearer}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", null, "network", null);
  }
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const retryHeader = response.headers.get("retry-after");
    if (isErrorBody(parsed)) {
      const e = parsed.error;
      const retry = e.retryAfterSecs ?? (retryHeader ? Number(retryHeader) : null);
      throw new ApiError(response.status, e.code, e.field ?? null, e.message, retry);
    }
    throw new ApiError(response.status, "http", null, `HTTP ${response.status}`, null);
  }
  return parsed as T;
}

function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export type RecordQuery = NonNullable<paths["/api/v1/records"]["get"]["parameters"]["query"]>;

export const api = {
  login: (req: Schemas["LoginRequest"]) => call<Schemas["LoginResponse"]>("POST", "/auth/login", req),
  logout: () => call<unknown>("POST", "/auth/logout"),
  me: () => call<Schemas["Me"]>("GET", "/auth/me"),
  changePassword: (req: Schemas["PasswordChange"]) => call<Schemas["LoginResponse"]>("POST", "/auth/password", req),
  ticket: () => call<Schemas["SocketTicket"]>("POST", "/ws-tickets"),
  command: (cmd: Record<string, unknown>) => call<Schemas["CommandReply"]>("POST", "/workstation/commands", cmd),
  transferTargets: () => call<Schemas["TransferTargets"]>("GET", "/workstation/transfer-targets"),
  quickReplies: () => call<Schemas["QuickReply"][]>("GET", "/quick-replies"),
  restReasons: () => call<Schemas["RestReason"][]>("GET", "/settings/rest-reasons"),
  extensions: () => call<Schemas["Extension"][]>("GET", "/extensions"),
  records: (q: RecordQuery) => call<Schemas["RecordPage"]>("GET", `/records${query(q)}`),
  record: (sessionId: number, q?: string) =>
    call<Schemas["RecordDetail"]>("GET", `/records/${sessionId}${query({ q })}`),
};
