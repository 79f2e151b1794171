// Light or dark: follows prefers-color-scheme unless the person chose one (remembered).
import { signal } from "@preact/signals";

export type Theme = "system" | "light" | "dark";
const STORE = "helpline.theme";

function saved(): Theme {
  const v = localStorage.getItem(STORE);
  return v === "light" || v === "dark" ? v : "system";
}

export const theme = signal<Theme>(saved());

function apply(value: Theme): void {
  const root = document.documentElement;
  if (value === "system") delete root.dataset["theme"];
  else root.dataset["theme"] = value;
}

export function setTheme(value: Theme): void {
  if (value === "system") localStorage.removeItem(STORE);
  else localStorage.setItem(STORE, value);
  theme.value = value;
  apply(value);
}

apply(theme.value);
