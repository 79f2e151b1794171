// The website channel's embed script (`/web/im/imPublish.js`), built by web/build.mjs into
// web/dist/app/imPublish.js: a classic script any site puts in its pages with
//   <script src="https://desk.example.com/web/im/imPublish.js?webAppId=ID"></script>
// It reads the channel's public description (GET /api/v1/web/{webAppId}) for the launcher's
// corner and colour, draws the launcher (./launcher.ts), makes the hosted chat page's frame
// on the first open, and talks with it by postMessage, each message `{helpline: 1, type}`:
//   page -> host: ready, unread {count}, close
//   host -> page: open, hidden, language {language}, identify {token}, card {card}
// only with the desk's origin and only with its own frame. `window.helplineChat` is its API;
// calls queued before it loaded (`window.helplineChat = window.helplineChat || {q: []}`,
// then `helplineChat.q.push(["open"])`) are replayed. Standalone: it imports nothing of the
// UIs, and stays under its gzip budget (web/build.mjs).
import { mount, type Language, type Launcher, type Position } from "./launcher";

/** What `window.helplineChat` offers the host page. */
export interface HelplineChat {
  open(): void;
  close(): void;
  toggle(): void;
  setLanguage(language: string): void;
  /** Hands the chat page a user token of the app's, so the visitor is that user. */
  identify(token: string): void;
  /** Sends a product card (src 22) from the visitor to the desk, once the chat is open:
   * `{header, desc, pic, url}` (the product the visitor looks at, say). */
  sendCard(card: { header: string; desc?: string; pic?: string; url?: string }): void;
  /** Called with the unread count whenever it changes; answers a function that stops it. */
  onUnread(callback: (count: number) => void): () => void;
}

type Queued = ArrayLike<unknown>;
interface Stub {
  q?: Queued[];
}

declare global {
  interface Window {
    helplineChat?: HelplineChat | Stub;
  }
}

/** Marks the real API, so a second copy of the script adds no second launcher. */
const LOADED = "__helplineLoaded";
const SCRIPT_NAME = "imPublish.js";

/** The script element that loaded this code. */
function ownScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.src.indexOf(SCRIPT_NAME) >= 0) return current;
  const all = document.querySelectorAll<HTMLScriptElement>(`script[src*="${SCRIPT_NAME}"]`);
  return all.length ? all[all.length - 1] : null;
}

/** One of the chat page's languages for a BCP 47 tag (anything Chinese is zh-CN). */
function languageOf(tag: string | null | undefined): Language {
  return (tag || "").toLowerCase().indexOf("zh") === 0 ? "zh-CN" : "en";
}

interface Website {
  channelName: string;
  launcherPosition: Position;
  themeColor: string;
}

function start(): void {
  const existing = window.helplineChat as (Stub & { [LOADED]?: boolean }) | undefined;
  if (existing && existing[LOADED]) return;
  const script = ownScript();
  if (!script) return;
  const src = new URL(script.src, location.href);
  const origin = src.origin;
  const webAppId = src.searchParams.get("webAppId") || src.searchParams.get("webAppld");
  const warn = (why: string) => console.warn(`helpline chat: ${why}; no chat launcher added`);
  if (!webAppId) return warn(`the script's src names no webAppId`);

  let language = languageOf(script.getAttribute("data-language") || document.documentElement.lang || navigator.language);
  let token: string | null = null;
  const cards: Record<string, unknown>[] = [];
  let wantOpen = false;
  let ready = false;
  let launcher: Launcher | null = null;
  const listeners: ((count: number) => void)[] = [];

  const post = (message: Record<string, unknown>) => {
    const target = launcher && launcher.frame && launcher.frame.contentWindow;
    if (target && ready) target.postMessage({ helpline: 1, ...message }, origin);
  };
  const frameSrc = () =>
    `${origin}/web/im/chat/?webAppId=${encodeURIComponent(webAppId)}&embed=1` +
    `&host=${encodeURIComponent(location.origin)}&lang=${encodeURIComponent(language)}`;
  /** Opens or closes the panel; a close by the person (Escape, the launcher, the page's
   * own button) gives the focus back to the launcher, the page's `close()` only when the
   * focus was in the chat. */
  const show = (open: boolean, refocus = true) => {
    wantOpen = open;
    if (!launcher || launcher.isOpen() === open) return;
    const hadFocus = launcher.hasFocus();
    launcher.show(open, frameSrc);
    if (open) {
      post({ type: "open" });
      if (launcher.frame) launcher.frame.focus();
    } else {
      post({ type: "hidden" });
      if (refocus || hadFocus) launcher.button.focus();
    }
  };

  const api: HelplineChat & { [LOADED]: true } = {
    [LOADED]: true,
    open: () => show(true),
    close: () => show(false, false),
    toggle: () => show(!(launcher ? launcher.isOpen() : wantOpen), false),
    setLanguage(tag) {
      language = languageOf(tag);
      if (launcher) launcher.setLanguage(language);
      post({ type: "language", language });
    },
    identify(next) {
      token = next;
      post({ type: "identify", token });
    },
    sendCard(card) {
      if (!card || typeof card.header !== "string") return console.warn("helpline chat: sendCard needs {header, desc, pic, url}");
      if (ready) post({ type: "card", card });
      else cards.push(card);
    },
    onUnread(callback) {
      listeners.push(callback);
      return () => {
        const i = listeners.indexOf(callback);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
  };
  const queued = existing && Array.isArray(existing.q) ? existing.q : [];
  window.helplineChat = api;
  for (const call of queued) {
    const [name, ...args] = Array.prototype.slice.call(call) as [keyof HelplineChat, ...unknown[]];
    const method = api[name] as ((...a: unknown[]) => unknown) | undefined;
    if (typeof method === "function") method.apply(api, args);
  }

  window.addEventListener("message", (e: MessageEvent) => {
    const frame = launcher && launcher.frame;
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow) return;
    const data = e.data as { helpline?: unknown; type?: unknown; count?: unknown } | null;
    if (!data || typeof data !== "object" || data.helpline !== 1) return;
    if (data.type === "ready") {
      ready = true;
      post({ type: "language", language });
      if (token) post({ type: "identify", token });
      post({ type: launcher && launcher.isOpen() ? "open" : "hidden" });
      for (const card of cards.splice(0)) post({ type: "card", card });
    } else if (data.type === "unread" && launcher) {
      const count = typeof data.count === "number" && data.count > 0 ? Math.floor(data.count) : 0;
      launcher.setUnread(count);
      for (const listener of listeners.slice()) listener(count);
    } else if (data.type === "close") {
      show(false);
    }
  });
  document.addEventListener("keydown", (e: KeyboardEvent) => {
    if (e.key === "Escape" && launcher && launcher.isOpen()) show(false);
  });

  fetch(`${origin}/api/v1/web/${encodeURIComponent(webAppId)}`, { credentials: "omit" })
    .then((r) => (r.ok ? (r.json() as Promise<Website>) : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then((site) => {
      launcher = mount({
        color: /^#[0-9a-f]{6}$/i.test(site.themeColor) ? site.themeColor : "#2457c5",
        position: site.launcherPosition === "bottom_left" ? "bottom_left" : "bottom_right",
        language,
        channelName: site.channelName,
        onToggle: () => show(!(launcher && launcher.isOpen())),
      });
      if (wantOpen) show(true);
    })
    .catch((e: Error) => warn(`website channel ${JSON.stringify(webAppId)} could not be read (${e.message})`));
}

start();
