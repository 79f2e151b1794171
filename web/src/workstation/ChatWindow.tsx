// The middle: the chosen chat's header with its actions (invite rating, transfer, end), its
// transcript, the user's typing and the composer.
import { t, type Key } from "../core/i18n";
import { dateTime, userLabel } from "../core/format";
import { command, current, notify, now } from "./store";
import { recontact } from "./SmallDialogs";
import { Transcript } from "./Transcript";
import { Composer } from "./Composer";
import { accept } from "./ChatList";

async function act(cmd: Record<string, unknown>, done?: Key): Promise<void> {
  try {
    await command(cmd);
    if (done) notify(t(done));
  } catch (e) {
    notify(t("common.error", { message: e instanceof Error ? e.message : String(e) }), "error");
  }
}

export function endChat(sessionId: number): void {
  void act({ type: "end", sessionId });
}

export function ChatWindow(props: { onTransfer: () => void; onCard: () => void }) {
  const c = current.value;
  if (!c) return <section class="window empty-window" aria-label={t("list.title")}><p>{t("chat.none")}</p></section>;
  const typing = c.typingUntil > now.value;
  return (
    <section class="window" aria-labelledby="chat-title">
      <header class="chat-head">
        <div>
          <h2 id="chat-title" title={c.user}>{userLabel(c.user)}</h2>
          <span class="meta">
            {c.channelName ?? (c.channelId !== null ? t("list.channel", { id: c.channelId }) : "")} · {dateTime(c.since)}
          </span>
        </div>
        <div class="actions">
          {c.state === "offer" && (
            <button type="button" class="btn btn-primary btn-sm" onClick={() => void accept(c)}>{t("offers.accept")}</button>
          )}
          {c.state === "serving" && (
            <>
              <button type="button" class="btn btn-sm" onClick={() => void act({ type: "invite_rating", sessionId: c.sessionId }, "chat.invited")}>
                {t("chat.invite")}
              </button>
              <button type="button" class="btn btn-sm" onClick={props.onTransfer} aria-keyshortcuts="Alt+T">{t("chat.transfer")}</button>
              <button type="button" class="btn btn-sm btn-danger" onClick={() => endChat(c.sessionId)} aria-keyshortcuts="Alt+E">{t("chat.end")}</button>
            </>
          )}
          {c.state === "ended" && c.conversationId !== null && (
            <button type="button" class="btn btn-sm" onClick={() => c.conversationId !== null && void recontact(c.conversationId)}>
              {t("chat.recontact")}
            </button>
          )}
        </div>
      </header>
      {(c.state === "ended" || c.rating) && (
        <div class="chat-banner" role="status">
          {c.state === "ended" && t("chat.ended", { by: t(`closeBy.${c.closeBy ?? "unknown"}` as Key) })}
          {c.rating && <> {t("chat.rated", { value: c.rating.value, label: c.rating.label })}</>}
        </div>
      )}
      <Transcript chat={c} />
      <div class="typing" aria-live="polite">{typing ? t("chat.typing", { user: userLabel(c.user) }) : ""}</div>
      {c.state === "serving" && <Composer key={c.sessionId} chat={c} onCard={props.onCard} />}
    </section>
  );
}
