// The chats on the left: offers waiting (with their live countdown and Accept), chats in
// service (unread count, last message, waiting time, channel), and finished ones.
import { t } from "../core/i18n";
import { duration, userLabel } from "../core/format";
import { type Chat, command, finished, markRead, notify, now, offers, selected, serving } from "./store";
import { preview } from "./preview";

export async function accept(chat: Chat): Promise<void> {
  try {
    await command({ type: "accept", sessionId: chat.sessionId });
    selected.value = chat.sessionId;
  } catch (e) {
    notify(t("common.error", { message: e instanceof Error ? e.message : String(e) }), "error");
  }
}

function channel(c: Chat): string {
  return c.channelName ?? (c.channelId !== null ? t("list.channel", { id: c.channelId }) : "");
}

function Offer(props: { chat: Chat }) {
  const c = props.chat;
  const left = Math.max(0, Math.ceil(((c.deadlineMs ?? 0) - Math.max(now.value, c.since)) / 1000));
  const total = Math.max(1, Math.round(((c.deadlineMs ?? 0) - c.since) / 1000));
  return (
    <li class="offer" data-session={c.sessionId}>
      <div class="row">
        <strong class="who" title={c.user}>{userLabel(c.user)}</strong>
        <span class={`countdown ${left <= 5 ? "urgent" : ""}`} role="timer" aria-label={t("offers.left", { seconds: left })}>
          {t("offers.left", { seconds: left })}
        </span>
      </div>
      <div class="meta">{channel(c)}{c.transferredBy !== null && <> · {t("offers.transferred")}</>}</div>
      <div class="bar" aria-hidden="true"><span class={`fill w${Math.min(10, Math.round((left / total) * 10))}`} /></div>
      <button type="button" class="btn btn-primary btn-sm accept" onClick={() => void accept(c)} aria-keyshortcuts="Alt+A">
        {t("offers.accept")}
      </button>
    </li>
  );
}

function Item(props: { chat: Chat }) {
  const c = props.chat;
  const last = c.messages[c.messages.length - 1];
  const on = selected.value === c.sessionId;
  return (
    <li>
      <button
        type="button"
        class={`chat-item ${on ? "on" : ""}`}
        aria-current={on ? "true" : undefined}
        data-session={c.sessionId}
        onClick={() => {
          selected.value = c.sessionId;
          markRead(c.sessionId);
        }}
      >
        <span class="row">
          <strong class="who" title={c.user}>{userLabel(c.user)}</strong>
          {c.state === "serving" ? <span class="since">{duration(now.value - c.since)}</span> : null}
        </span>
        <span class="row">
          <span class="last">{last ? preview(last.body) : channel(c)}</span>
          {c.unread > 0 && <span class="badge" aria-label={t("list.unread", { count: c.unread })}>{c.unread}</span>}
        </span>
        <span class="meta">{channel(c)}</span>
      </button>
    </li>
  );
}

export function ChatList(props: { onProactive: () => void }) {
  const o = offers.value;
  const s = serving.value;
  const f = finished.value;
  return (
    <aside class="list" aria-label={t("list.title")}>
      <div class="list-head">
        <h2>{t("list.title")}</h2>
        <button type="button" class="btn btn-sm" onClick={props.onProactive}>{t("proactive.title")}</button>
      </div>
      {o.length + s.length + f.length === 0 && <p class="empty">{t("list.empty")}</p>}
      {o.length > 0 && (
        <section aria-labelledby="h-offers" class="offers">
          <h3 id="h-offers">{t("list.offers")} <span class="count">{o.length}</span></h3>
          <ul>{o.map((c) => <Offer key={c.sessionId} chat={c} />)}</ul>
        </section>
      )}
      {s.length > 0 && (
        <section aria-labelledby="h-serving">
          <h3 id="h-serving">{t("list.serving")} <span class="count">{s.length}</span></h3>
          <ul>{s.map((c) => <Item key={c.sessionId} chat={c} />)}</ul>
        </section>
      )}
      {f.length > 0 && (
        <section aria-labelledby="h-finished" class="finished">
          <h3 id="h-finished">{t("list.finished")} <span class="count">{f.length}</span></h3>
          <ul>{f.map((c) => <Item key={c.sessionId} chat={c} />)}</ul>
        </section>
      )}
    </aside>
  );
}
