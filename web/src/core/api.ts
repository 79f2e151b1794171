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
    /** The whole error body: a CSV upload's bad cells (`rows`), a flow's errors (`errors`). */
    readonly detail: ErrorDetail | null = null,
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

/** Sends a request with the sign-in's bearer token; answers the response, or throws an ApiError. */
async function send(method: Method, path: string, body: string | null, contentType: string | null, token?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  const bearer = token ?? session.token();
  if (bearer) headers["authorization"] = `Bearer ${bearer}`;
  if (contentType) headers["content-type"] = contentType;
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, { method, headers, body, cache: "no-store" });
  } catch {
    throw new ApiError(0, "network", null, "network", null);
  }
  if (!response.ok) throw refusal(response.status, await response.text(), response.headers.get("retry-after"));
  return response;
}

/** The ApiError of a refused request, from its status, body and `Retry-After`. */
function refusal(status: number, text: string, retryHeader: string | null): ApiError {
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  if (isErrorBody(parsed)) {
    const e = parsed.error;
    const retry = e.retryAfterSecs ?? (retryHeader ? Number(retryHeader) : null);
    return new ApiError(status, e.code, e.field ?? null, e.message, retry, e);
  }
  return new ApiError(status, "http", null, `HTTP ${status}`, null);
}

/** Calls the API with a JSON body (or none); answers the decoded JSON, or throws an ApiError. */
export async function call<T>(method: Method, path: string, body?: unknown, token?: string): Promise<T> {
  const response = await send(method, path, body === undefined ? null : JSON.stringify(body), body === undefined ? null : "application/json", token);
  const text = await response.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** Uploads a text file (a CSV import); answers the decoded JSON, or throws an ApiError. */
export async function upload<T>(path: string, text: string, contentType = "text/csv"): Promise<T> {
  const response = await send("POST", path, text, contentType);
  return (await response.json()) as T;
}

/** Fetches a file of the API (a CSV template, an export) and hands it to the browser to save. */
export async function download(path: string, fileName: string): Promise<void> {
  saveBlob(await fetchBlob(path), fileName);
}

/** Posts a file's raw bytes with the bearer, reporting progress (0 to 1) as it goes up;
 * answers the decoded JSON, or rejects with an ApiError naming the refused field. */
export function uploadFile<T>(path: string, file: Blob, onProgress: (done: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1${path}`);
    const bearer = session.token();
    if (bearer) xhr.setRequestHeader("authorization", `Bearer ${bearer}`);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, "network", null, "network", null));
    xhr.onload = () => {
      if (xhr.status < 200 || xhr.status >= 300) return reject(refusal(xhr.status, xhr.responseText, xhr.getResponseHeader("retry-after")));
      resolve((xhr.responseText ? JSON.parse(xhr.responseText) : null) as T);
    };
    xhr.send(file);
  });
}

/** Fetches a file of the API with the bearer as a Blob (tokens never go into URLs). */
export async function fetchBlob(path: string): Promise<Blob> {
  return (await send("GET", path, null, null)).blob();
}

/** Hands `blob` to the browser's download, named `fileName`. */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export function query(params: Record<string, string | number | undefined | null>): string {
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
