// The top bar: the agent's status with its coloured dot (rest with a reason), the link to
// the server, the screens, help, language and theme, sign-out.
import { signal } from "@preact/signals";
import type { Schemas } from "../core/api";
import { t, type Key } from "../core/i18n";
import { Switches } from "../core/Switches";
import { command, link, notify, presence } from "./store";
import type { Status } from "../core/frames";

export const restReasons = signal<Schemas["RestReason"][]>([]);
export const screen = signal<"chats" | "records">("chats");

async function choose(value: string): Promise<void> {
  try {
    if (value === "offline") {
      await command({ type: "offline" });
      return;
    }
    if (!presence.value.online) await command({ type: "online" });
    if (value.startsWith("rest:")) await command({ type: "status", status: "rest", reason: value.slice(5) });
    else if (value !== "online") await command({ type: "status", status: value });
  } catch (e) {
    notify(t("common.error", { message: e instanceof Error ? e.message : String(e) }), "error");
  }
}

export function StatusBar(props: { onHelp: () => void; onSignOut: () => void }) {
  const p = presence.value;
  const value = p.status === "rest" && p.restReason ? `rest:${p.restReason}` : p.status;
  const label = (s: Status) => t(`status.${s}` as Key);
  const reasons = restReasons.value.filter((r) => r.enabled);
  return (
    <header class="topbar">
      <span class="brand">{t("app.name")}</span>
      <div class="status" data-status={p.status}>
        <span class={`dot dot-${p.status}`} aria-hidden="true" />
        <label class="sr-only" for="status-select">{t("status.label")}</label>
        <select id="status-select" class="status-select" value={value} onChange={(e) => void choose(e.currentTarget.value)}>
          {(["free", "busy", "arrange", "not_ready"] as const).map((s) => (
            <option key={s} value={s}>{label(s)}</option>
          ))}
          {reasons.length > 0 && (
            <optgroup label={t("status.rest")}>
              {reasons.map((r) => (
                <option key={r.id} value={`rest:${r.name}`}>{t("status.restWith", { reason: r.name })}</option>
              ))}
            </optgroup>
          )}
          {p.status === "rest" && !reasons.some((r) => `rest:${r.name}` === value) && <option value={value}>{t("status.rest")}</option>}
          <option value="offline">{label("offline")}</option>
        </select>
      </div>
      {link.value !== "open" && (
        <span class="link-state" role="status">{link.value === "connecting" ? t("link.connecting") : t("link.down")}</span>
      )}
      <nav class="tabs" aria-label={t("app.name")}>
        <button type="button" class={`tab ${screen.value === "chats" ? "on" : ""}`} aria-pressed={screen.value === "chats"} onClick={() => (screen.value = "chats")}>
          {t("tabs.chats")}
        </button>
        <button type="button" class={`tab ${screen.value === "records" ? "on" : ""}`} aria-pressed={screen.value === "records"} onClick={() => (screen.value = "records")}>
          {t("tabs.records")}
        </button>
      </nav>
      <div class="spacer" />
      <button type="button" class="btn btn-ghost btn-sm" onClick={props.onHelp} aria-keyshortcuts="?">
        {t("help.open")} <kbd>?</kbd>
      </button>
      <Switches />
      <button type="button" class="btn btn-sm" onClick={props.onSignOut}>{t("status.signOut")}</button>
    </header>
  );
}
