// The agent workstation (/workstation): boots from the tab's sign-in, opens the agent's
// socket, and lays out the top bar, chat list, chat window and side panel.
import "../core/tokens.css";
import "./workstation.css";
import { render } from "preact";
import { signal } from "@preact/signals";
import { api, type Schemas } from "../core/api";
import { session, signOutReason } from "../core/session";
import { lang, t } from "../core/i18n";
import { announce, chats, command, current, hooks, presence, linkNote, markRead, notices, notify, now, offers, selected, socket } from "./store";
import { userLabel } from "../core/format";
import { notifyOffer, startAlerts } from "./alerts";
import { StatusBar, restReasons, screen } from "./StatusBar";
import { ChatList, accept } from "./ChatList";
import { ChatWindow, endChat } from "./ChatWindow";
import { SidePanel, extensions, panel } from "./SidePanel";
import { TransferDialog } from "./TransferDialog";
import { CardDialog, HelpDialog, ProactiveDialog } from "./SmallDialogs";
import { Records } from "./Records";
import { quickReplies } from "./quick";

type Open = null | "help" | "transfer" | "card" | "proactive";
const dialog = signal<Open>(null);
const groups = signal<Schemas["GroupTarget"][]>([]);

function leave(cause: string): void {
  socket.stop();
  session.clear();
  signOutReason.set(cause);
  location.replace("/");
}

async function signOut(): Promise<void> {
  try {
    // Offline first: routing must never offer a chat to a seat nobody is behind, whatever
    // the server does with the sign-in's status at logout.
    await command({ type: "offline" }).catch(() => {});
    await api.logout();
  } finally {
    leave("signed_out");
  }
}

function move(step: number): void {
  const list = [...offers.value, ...[...chats.value.values()].filter((c) => c.state !== "offer")];
  if (list.length === 0) return;
  const at = list.findIndex((c) => c.sessionId === selected.value);
  const next = list[(at + step + list.length) % list.length];
  if (next) {
    selected.value = next.sessionId;
    markRead(next.sessionId);
  }
}

function typingInField(e: KeyboardEvent): boolean {
  const el = e.target as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
}

function onKey(e: KeyboardEvent): void {
  if (dialog.value) return;
  if (e.key === "?" && !typingInField(e)) {
    e.preventDefault();
    dialog.value = "help";
    return;
  }
  if (!e.altKey || e.ctrlKey || e.metaKey) return;
  const c = current.value;
  const key = e.key.toLowerCase();
  const done = () => e.preventDefault();
  if (e.key === "ArrowDown") { done(); move(1); }
  else if (e.key === "ArrowUp") { done(); move(-1); }
  else if (e.code === "KeyA") { done(); const o = offers.value[0]; if (o) void accept(o); }
  else if (e.code === "KeyE" && c?.state === "serving") { done(); endChat(c.sessionId); }
  else if (e.code === "KeyT" && c?.state === "serving") { done(); dialog.value = "transfer"; }
  else if (e.code === "KeyQ") { done(); screen.value = "chats"; panel.value = "qr"; queueMicrotask(() => document.getElementById("qr-search")?.focus()); }
  else if (e.code === "KeyI") { done(); screen.value = "chats"; queueMicrotask(() => document.getElementById("composer-input")?.focus()); }
  else if (e.code === "KeyR" || key === "r") { done(); screen.value = screen.value === "records" ? "chats" : "records"; }
}

function App() {
  void lang.value;
  const c = current.value;
  return (
    <div class="app">
      <StatusBar onHelp={() => (dialog.value = "help")} onSignOut={() => void signOut()} />
      {linkNote.value && (
        <div class={`banner ${linkNote.value}`} role="status">{linkNote.value === "reloaded" ? t("link.reloaded") : t("link.restored")}</div>
      )}
      {screen.value === "chats" ? (
        <main class="desk">
          <ChatList onProactive={() => (dialog.value = "proactive")} />
          <ChatWindow onTransfer={() => (dialog.value = "transfer")} onCard={() => (dialog.value = "card")} />
          <SidePanel />
        </main>
      ) : (
        <main class="desk records-screen">
          <Records groups={groups.value} />
        </main>
      )}
      <div class="toasts" aria-live="polite">
        {notices.value.map((n) => <p key={n.id} class={`toast ${n.kind}`}>{n.text}</p>)}
      </div>
      <div class="sr-only" aria-live="polite" id="live-messages">{announce.value.polite}</div>
      <div class="sr-only" aria-live="assertive" id="live-offers">
        {announce.value.assertive ? t("offers.announce", { user: userLabel(announce.value.assertive.split("|")[0] ?? "") }) : ""}
      </div>
      {dialog.value === "help" && <HelpDialog onClose={() => (dialog.value = null)} />}
      {dialog.value === "proactive" && <ProactiveDialog onClose={() => (dialog.value = null)} />}
      {dialog.value === "transfer" && c && <TransferDialog sessionId={c.sessionId} onClose={() => (dialog.value = null)} />}
      {dialog.value === "card" && c && <CardDialog sessionId={c.sessionId} onClose={() => (dialog.value = null)} />}
    </div>
  );
}

function boot(): void {
  if (!session.token()) {
    location.replace("/");
    return;
  }
  document.documentElement.lang = lang.value;
  hooks.firstState = () => {
    requestAnimationFrame(() => performance.mark("helpline:first-state"));
    // Signing in to the workstation is going online: the desk then sets the app's status
    // after login (free or not ready).
    if (!presence.value.online) void command({ type: "online" }).catch(() => {});
  };
  hooks.offer = (chat) => notifyOffer(userLabel(chat.user), () => (selected.value = chat.sessionId));
  hooks.released = (key, user) => notify(t(key, { user: userLabel(user) }));
  hooks.ended = (cause) => leave(cause);
  render(<App />, document.getElementById("app") ?? document.body);
  startAlerts();
  setInterval(() => {
    if (offers.value.length > 0 || chats.value.size > 0) now.value = Date.now();
  }, 1000);
  window.addEventListener("keydown", onKey);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && selected.value !== null) markRead(selected.value);
  });
  socket.start();
  const warn = (e: unknown) => notify(t("common.error", { message: e instanceof Error ? e.message : String(e) }), "error");
  api.restReasons().then((r) => (restReasons.value = r), warn);
  api.quickReplies().then((r) => (quickReplies.value = r), warn);
  api.extensions().then((x) => (extensions.value = x), () => {});
  api.transferTargets().then((x) => (groups.value = x.groups), () => {});
}

boot();
