// The right: the quick reply panel (grouped, searchable; insert or send) and the enabled
// third-party extensions as iframes ("always visible" ones always, the others only while a
// chat is chosen). An extension's postMessage is taken only from its own iframe and origin.
import { signal } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Schemas } from "../core/api";
import { t } from "../core/i18n";
import { current, notify, sendBody } from "./store";
import { grouped, search } from "./quick";
import { insertText } from "./Composer";

export const extensions = signal<Schemas["Extension"][]>([]);
export const panel = signal<string>("qr");

function QuickPanel() {
  const [q, setQ] = useState("");
  const c = current.value;
  const live = c?.state === "serving";
  return (
    <div class="qr-panel">
      <input id="qr-search" class="input" type="search" placeholder={t("qr.search")} aria-label={t("qr.search")} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      {grouped(search(q)).map(([group, list]) => (
        <section key={group} aria-label={group}>
          <h4>{group}</h4>
          <ul>
            {list.map((r) => (
              <li key={r.id} class="qr-item">
                <strong>{r.title}</strong>
                <p>{r.content}</p>
                <div class="row-actions">
                  <button type="button" class="btn btn-sm" disabled={!live} onClick={() => (insertText.value = r.content)}>{t("qr.insert")}</button>
                  <button
                    type="button"
                    class="btn btn-sm"
                    disabled={!live}
                    onClick={() => c && void sendBody(c.sessionId, { type: "text", text: r.content }).catch((e: unknown) => notify(String(e), "error"))}
                  >
                    {t("qr.sendNow")}
                  </button>
                </div>
              </li>
            ))}
          </ul>
        </section>
      ))}
      {search(q).length === 0 && <p class="empty">{t("qr.none")}</p>}
    </div>
  );
}

interface ExtensionMessage {
  source: "ccc-sdk";
  payload: { event: "sendCard" | "sendCustomMessage" | "sendText"; message: unknown };
}

function isExtensionMessage(d: unknown): d is ExtensionMessage {
  if (typeof d !== "object" || d === null) return false;
  const m = d as { source?: unknown; payload?: { event?: unknown } };
  return m.source === "ccc-sdk" && typeof m.payload === "object" && m.payload !== null && typeof m.payload.event === "string";
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** Sends what an extension asked for into the current chat. */
async function fromExtension(msg: ExtensionMessage): Promise<void> {
  const c = current.value;
  if (!c || c.state !== "serving") return;
  const { event, message } = msg.payload;
  if (event === "sendText" && typeof message === "string") {
    await sendBody(c.sessionId, { type: "text", text: message });
  } else if (event === "sendCard" && typeof message === "object" && message !== null) {
    await sendBody(c.sessionId, { type: "custom", data: JSON.stringify({ customerServicePlugin: 0, src: "22", content: message }), description: String((message as { header?: unknown }).header ?? "") });
  } else if (event === "sendCustomMessage" && typeof message === "object" && message !== null) {
    const m = message as { title?: unknown; description?: unknown };
    await sendBody(c.sessionId, { type: "custom", data: JSON.stringify(message), description: String(m.title ?? m.description ?? "") });
  }
}

export function useExtensionMessages(frames: () => HTMLIFrameElement[]): void {
  useEffect(() => {
    const on = (e: MessageEvent) => {
      if (!isExtensionMessage(e.data)) return;
      const frame = frames().find((f) => f.contentWindow === e.source);
      const ext = frame ? extensions.value.find((x) => String(x.id) === frame.dataset["ext"]) : undefined;
      if (!frame || !ext || !ext.enabled || originOf(ext.url) !== e.origin) {
        console.warn("helpline: ignored a postMessage from", e.origin, "(not an enabled extension's own frame)");
        return;
      }
      void fromExtension(e.data).catch((err: unknown) => notify(String(err), "error"));
    };
    window.addEventListener("message", on);
    return () => window.removeEventListener("message", on);
  }, []);
}

export function SidePanel() {
  const box = useRef<HTMLDivElement>(null);
  useExtensionMessages(() => [...(box.current?.querySelectorAll<HTMLIFrameElement>("iframe[data-ext]") ?? [])]);
  const chosen = current.value !== null;
  const shown = extensions.value.filter((x) => x.enabled && x.url.startsWith("https://") && (x.alwaysVisible || chosen));
  const tab = panel.value === "qr" || shown.some((x) => `ext-${x.id}` === panel.value) ? panel.value : "qr";
  return (
    <aside class="side" aria-label={t("ext.title")} ref={box}>
      <div class="side-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === "qr"} class={`tab ${tab === "qr" ? "on" : ""}`} onClick={() => (panel.value = "qr")}>{t("qr.title")}</button>
        {shown.map((x) => (
          <button key={x.id} type="button" role="tab" aria-selected={tab === `ext-${x.id}`} class={`tab ${tab === `ext-${x.id}` ? "on" : ""}`} onClick={() => (panel.value = `ext-${x.id}`)}>
            {x.name}
          </button>
        ))}
      </div>
      <div class="side-body" role="tabpanel">
        {tab === "qr" && <QuickPanel />}
        {shown.map((x) => (
          <iframe
            key={x.id}
            data-ext={x.id}
            class={`ext ${tab === `ext-${x.id}` ? "" : "sr-hidden"}`}
            title={x.name}
            src={x.url}
            sandbox="allow-scripts allow-same-origin allow-forms allow-popups"
            referrerpolicy="no-referrer"
          />
        ))}
      </div>
    </aside>
  );
}
