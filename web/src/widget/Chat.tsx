// The chat panel: a header with the channel's name and who serves the visitor, the
// messages, the state lines (offline, queue position, typing), and the composer with files.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import {
  agentName, askToRate, attach, canEnd, canRate, endChat, ended, inSeat, items, link, notice, phase, queue, resend, sendDesk, sendText, start,
  site, thinking, typingUntil, uploads,
} from "./state";
import { MessageBody, marker } from "./Bodies";
import { t, time } from "./i18n";
import { deskData, deskOf, type Item } from "./model";

function Row(props: { item: Item; latest: boolean }) {
  const { item } = props;
  const kind = marker(item);
  if (kind === "ended" || kind === "timeout") {
    return <li class="marker" role="separator"><span>{kind === "ended" ? t("ended") : t("timedOut")}</span></li>;
  }
  if (kind === "tip") {
    return <li class="marker tip-row"><MessageBody item={item} latest={props.latest} /></li>;
  }
  const wide = deskOf(item.body) !== null;
  return (
    <li class={`row ${item.mine ? "mine" : "theirs"}`}>
      <div class={`bubble ${wide ? "wide" : ""} ${item.seq === null ? "pending" : ""}`}>
        <span class="sr-only">{item.mine ? t("you") : t("desk")}: </span>
        <MessageBody item={item} latest={props.latest} />
      </div>
      <div class="meta">
        {item.failed ? (
          <span class="failed" role="alert">
            {t("notSent", { message: item.failed })}{" "}
            <button type="button" class="link" onClick={() => resend(item)}>{t("resend")}</button>
          </span>
        ) : item.seq === null ? (
          t("sending")
        ) : (
          <time>{time(item.time)}</time>
        )}
      </div>
    </li>
  );
}

function Status() {
  const [, tick] = useState(0);
  const typing = typingUntil.value > Date.now();
  useEffect(() => {
    if (!typing) return;
    const timer = setTimeout(() => tick((n) => n + 1), typingUntil.value - Date.now() + 50);
    return () => clearTimeout(timer);
  }, [typingUntil.value]);
  if (ended.value) return null;
  if (typing) return <p class="status typing" aria-live="polite"><span class="dots" aria-hidden="true"><i /><i /><i /></span>{t("typing", { name: agentName.value ?? t("anAgent") })}</p>;
  if (thinking.value) return <p class="status typing" aria-live="polite"><span class="dots" aria-hidden="true"><i /><i /><i /></span>{t("thinking")}</p>;
  if (queue.value !== null && !inSeat.value) return <p class="status queue" aria-live="polite">{t("queue", { n: queue.value + 1 })}</p>;
  return null;
}

/** The visitor's typing reaches the serving agent (src 12, a flag), at most every 3 s. */
let typedAt = 0;
function typed(): void {
  const now = Date.now();
  if (now - typedAt < 3_000) return;
  typedAt = now;
  sendDesk(deskData("12"), true);
}

function Composer() {
  const [text, setText] = useState("");
  const area = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const submit = () => {
    const value = text.trim();
    if (!value) return;
    sendText(value);
    setText("");
    area.current?.focus();
  };
  const files = (list: FileList | null | undefined) => {
    for (const f of Array.from(list ?? [])) void attach(f);
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        e.preventDefault();
        files(e.dataTransfer?.files);
      }}
    >
      <button type="button" class="icon-btn" aria-label={t("attach")} title={t("attach")} onClick={() => fileInput.current?.click()}>
        <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.5 6.5 8.4 14.6a2 2 0 1 0 2.8 2.8l8.5-8.5a4 4 0 0 0-5.7-5.7L5.5 11.7a6 6 0 0 0 8.5 8.5l6.4-6.4" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" /></svg>
      </button>
      <input ref={fileInput} type="file" hidden onChange={(e) => {
        files(e.currentTarget.files);
        e.currentTarget.value = "";
      }} />
      <textarea
        ref={area}
        rows={1}
        value={text}
        aria-label={t("message")}
        placeholder={t("placeholder")}
        onInput={(e) => {
          setText(e.currentTarget.value);
          if (e.currentTarget.value.trim() && inSeat.value) typed();
        }}
        onPaste={(e) => {
          const pasted = e.clipboardData?.files;
          if (pasted && pasted.length > 0) {
            e.preventDefault();
            files(pasted);
          }
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <button type="submit" class="send" aria-label={t("send")} title={t("send")} disabled={!text.trim()}>
        <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 12 20 4l-6 16-2.5-6.5L4 12z" fill="currentColor" /></svg>
      </button>
    </form>
  );
}

function EndDialog(props: { onClose: () => void }) {
  const yes = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => yes.current?.focus(), []);
  return (
    <div class="confirm" role="alertdialog" aria-modal="true" aria-labelledby="end-q" onKeyDown={(e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        props.onClose();
      }
    }}>
      <p id="end-q">{t("endConfirm")}</p>
      <div class="buttons">
        <button type="button" class="btn" onClick={props.onClose}>{t("cancel")}</button>
        <button ref={yes} type="button" class="btn btn-primary" onClick={() => {
          endChat();
          props.onClose();
        }}>{t("endYes")}</button>
      </div>
    </div>
  );
}

export function Chat(props: { webAppId: string; onClose: (() => void) | null }) {
  const list = useRef<HTMLOListElement>(null);
  const [confirm, setConfirm] = useState(false);
  const endButton = useRef<HTMLButtonElement>(null);
  const shownItems = items.value;
  const pinned = useRef(true);
  // Follow new messages while the visitor is at the bottom; leave them reading otherwise.
  useLayoutEffect(() => {
    const el = list.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [shownItems, typingUntil.value, queue.value, Object.keys(uploads.value).length]);
  useEffect(() => {
    if (!notice.value) return;
    const timer = setTimeout(() => (notice.value = null), 8_000);
    return () => clearTimeout(timer);
  }, [notice.value]);
  const p = phase.value;
  const seat = inSeat.value ? t("connected", { name: agentName.value ?? t("anAgent") }) : ended.value ? t("ended") : t("waiting");
  return (
    <div class="panel">
      <header class="top">
        <div class="who">
          <h1>{site.value?.channelName || t("title")}</h1>
          <p class={`seat ${inSeat.value ? "on" : ""}`}><span class="dot" aria-hidden="true" />{seat}</p>
        </div>
        <div class="actions">
          {canRate.value && <button type="button" class="btn btn-sm btn-ghost" onClick={askToRate}>{t("rateChat")}</button>}
          {canEnd.value && <button ref={endButton} type="button" class="btn btn-sm btn-ghost" onClick={() => setConfirm(true)}>{t("endChat")}</button>}
          {props.onClose && (
            <button type="button" class="icon-btn close" aria-label={t("close")} title={t("close")} onClick={props.onClose}>
              <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6 6 18" stroke="currentColor" stroke-width="2" stroke-linecap="round" /></svg>
            </button>
          )}
        </div>
      </header>
      {link.value === "down" && p.kind === "ready" && <p class="banner offline" role="status">{t("offline")}</p>}
      {p.kind === "failed" ? (
        <div class="center">
          <p role="alert">{p.message}</p>
          {p.retryS === null && <button type="button" class="btn btn-primary" onClick={() => void start(props.webAppId)}>{t("retry")}</button>}
        </div>
      ) : p.kind === "loading" ? (
        <div class="center" role="status"><span class="spinner" aria-hidden="true" />{t("loading")}</div>
      ) : (
        <ol
          class="messages"
          ref={list}
          aria-live="polite"
          aria-relevant="additions"
          tabIndex={0}
          aria-label={t("title")}
          onScroll={(e) => {
            const el = e.currentTarget;
            pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          }}
        >
          {shownItems.map((item, n) => <Row key={item.seq ?? item.msgId} item={item} latest={n === shownItems.length - 1} />)}
          {Object.entries(uploads.value).map(([id, u]) => (
            <li key={id} class="row mine">
              <div class="bubble pending">
                <p class="text">{t("uploading", { name: u.name, percent: Math.round(u.done * 100) })}</p>
                <progress max={1} value={u.done} aria-label={u.name} />
              </div>
            </li>
          ))}
        </ol>
      )}
      <Status />
      {notice.value && <p class="banner notice" role="alert">{notice.value}</p>}
      {confirm && <EndDialog onClose={() => {
        setConfirm(false);
        endButton.current?.focus();
      }} />}
      {p.kind === "ready" && <Composer />}
    </div>
  );
}
