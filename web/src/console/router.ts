// The console's place: the hash (`#/agents/12`), so a reload or a shared link opens the same
// page, the server serves one page for all of them, and Back works without a server route.
import { signal } from "@preact/signals";

function parse(): string[] {
  return location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
}

/** The path's segments: the section first, then what the section makes of the rest. */
export const route = signal<string[]>(parse());

addEventListener("hashchange", () => {
  route.value = parse();
});

/** Goes to `path` (segments, or one string like "agents/12"). */
export function go(path: string | (string | number)[]): void {
  const parts = typeof path === "string" ? path.split("/").filter(Boolean) : path.map(String);
  location.hash = `#/${parts.map(encodeURIComponent).join("/")}`;
}

/** The href of `path`, for links a person can open in a new tab. */
export function href(...parts: (string | number)[]): string {
  return `#/${parts.map((p) => encodeURIComponent(String(p))).join("/")}`;
}
