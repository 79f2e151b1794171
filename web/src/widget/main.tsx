// The hosted chat page, `/web/im/chat/?webAppId=ID` (also the misspelt `webAppld` of the
// desk's own documentation): full screen on a phone, a panel on a desktop, or the frame the
// embed script opens on a host page (`embed=1&host=<the host's origin>`). With a host it
// speaks the postMessage protocol (README "The user end"): it tells `ready`, `unread` and
// `close`; it takes `open`, `hidden`, `language` and `identify`, from that origin only.
import "../core/tokens.css";
import "./widget.css";
import { effect } from "@preact/signals";
import { render } from "preact";
import { currentSocket, firstDeskMessageMs, identify, items, sendCard, site, start, unread, visible } from "./state";
import { Chat } from "./Chat";
import { lang, setLang, t, toLang } from "./i18n";

const query = new URLSearchParams(location.search);
const webAppId = query.get("webAppId") ?? query.get("webAppld") ?? "";
const embedded = query.get("embed") === "1" && window.parent !== window;
/** The host page's origin: the only one messages go to and come from. */
const host = (() => {
  try {
    return embedded ? new URL(query.get("host") ?? "").origin : null;
  } catch {
    return null;
  }
})();

setLang(toLang(query.get("lang")) ?? lang.value);
if (embedded) document.documentElement.classList.add("embedded");

function tell(message: Record<string, unknown>): void {
  if (host && host !== "null") window.parent.postMessage({ helpline: 1, ...message }, host);
}

/** The channel's colour, with a text colour that reads on it. */
function applyColour(hex: string | undefined): void {
  if (!hex || !/^#[0-9a-fA-F]{6}$/.test(hex)) return;
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const lin = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const luminance = 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
  const root = document.documentElement.style;
  root.setProperty("--brand", hex);
  root.setProperty("--on-brand", luminance > 0.45 ? "#111827" : "#ffffff");
}

effect(() => {
  const s = site.value as (ReturnType<typeof site.peek> & { themeColor?: string }) | null;
  applyColour(s?.themeColor);
  document.title = s?.channelName ? `${s.channelName} · ${t("title")}` : t("title");
});

let started = false;
function begin(): void {
  if (started) return;
  started = true;
  void start(webAppId);
}

if (host) {
  // Hidden until the host says it shows the frame: what comes meanwhile counts as unread.
  visible.value = false;
  window.addEventListener("message", (e: MessageEvent) => {
    if (e.origin !== host || e.source !== window.parent) return;
    const m = e.data as { helpline?: unknown; type?: unknown; language?: unknown; token?: unknown } | null;
    if (!m || m.helpline !== 1) return;
    switch (m.type) {
      case "open":
        visible.value = true;
        unread.value = 0;
        begin();
        document.querySelector<HTMLTextAreaElement>(".composer textarea")?.focus();
        break;
      case "hidden":
        visible.value = false;
        break;
      case "language": {
        const next = toLang(typeof m.language === "string" ? m.language : null);
        if (next) setLang(next);
        break;
      }
      case "identify":
        if (typeof m.token === "string" && m.token) identify(m.token);
        break;
      case "card":
        sendCard((m as { card?: unknown }).card);
        break;
    }
  });
  effect(() => tell({ type: "unread", count: unread.value }));
  // Keys pressed in the frame never reach the host page: Escape closes the panel from here
  // (unless something inside the chat took it first, its own end dialog say).
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !e.defaultPrevented) tell({ type: "close" });
  });
  tell({ type: "ready" });
} else {
  document.addEventListener("visibilitychange", () => {
    visible.value = document.visibilityState === "visible";
    if (visible.value) unread.value = 0;
  });
  begin();
}

// For the browser tests: drop the socket after some frames, read the timing.
Object.assign(window, {
  helplineChatPage: {
    drop: () => currentSocket()?.drop(),
    dropAfter: (frames: number) => {
      const s = currentSocket();
      if (s) s.dropAfter = frames;
    },
    seqs: () => items.value.map((x) => x.seq),
    // When the first desk message came, in ms since the epoch (comparable across frames).
    firstDeskMessageAt: () => (firstDeskMessageMs.value === null ? null : performance.timeOrigin + firstDeskMessageMs.value),
  },
});

render(<Chat webAppId={webAppId} onClose={host ? () => tell({ type: "close" }) : null} />, document.getElementById("app")!);
