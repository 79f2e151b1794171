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
export function t(key: Key, vars?: Vars): string {
  return fill(catalogues[lang.value][key], vars);
}

export type Vars = Record<string, string | number>;

function fill(text: string, vars?: Vars): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

/**
 * A section's own catalogue: the console's pages keep their texts beside their code, so two
 * pages never edit one file. Declare `en` `as const` and type `zhCN` as `Record<keyof typeof
 * en, string>`: a key missing or extra in Chinese is then a type error (and
 * test/i18n.test.mjs checks every `src/console/**\/i18n.ts` again on the built objects).
 * The function answers in the current language and re-renders with it, like `t`.
 */
export function catalogue<K extends string>(english: Record<K, string>, chinese: Record<K, string>) {
  return (key: K, vars?: Vars): string => fill((lang.value === "zh-CN" ? chinese : english)[key], vars);
}
