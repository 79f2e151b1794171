// The language of the page: the remembered choice, else the first of navigator.languages we
// have, else English. Switching re-renders every component reading `lang`.
import { signal } from "@preact/signals";
import { en, type Catalogue, type Key } from "./en";
import { zhCN } from "./zh-CN";

export type Lang = "en" | "zh-CN";
export const catalogues: Record<Lang, Catalogue> = { en, "zh-CN": zhCN };
export type { Key };

const STORE = "helpline.lang";

function pick(): Lang {
  const saved = localStorage.getItem(STORE);
  if (saved === "en" || saved === "zh-CN") return saved;
  for (const l of navigator.languages ?? [navigator.language]) {
    const lower = l.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export const lang = signal<Lang>(pick());

export function setLang(next: Lang): void {
  localStorage.setItem(STORE, next);
  lang.value = next;
  document.documentElement.lang = next;
}

/** The text of `key` in the current language, with `{name}` replaced from `vars`. */
export function t(key: Key, vars?: Record<string, string | number>): string {
  const text = catalogues[lang.value][key];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}
