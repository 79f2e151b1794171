// The app's quick replies, loaded once, searched by keyword over title and content.
import { signal } from "@preact/signals";
import type { Schemas } from "../core/api";

export type QuickReply = Schemas["QuickReply"];
export const quickReplies = signal<QuickReply[]>([]);

export function search(q: string): QuickReply[] {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  return quickReplies.value.filter((r) => {
    const hay = `${r.title} ${r.content} ${r.group}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** Quick replies by group, groups in name order. */
export function grouped(list: QuickReply[]): [string, QuickReply[]][] {
  const by = new Map<string, QuickReply[]>();
  for (const r of list) by.set(r.group, [...(by.get(r.group) ?? []), r]);
  return [...by.entries()].sort(([a], [b]) => a.localeCompare(b));
}
