// A chat's messages, windowed: only the latest WINDOW rows are in the DOM, more are added as
// the agent scrolls up (keeping the view still), and each row skips layout and paint while
// off screen (content-visibility), so a 5,000-message conversation scrolls smoothly.
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { t } from "../core/i18n";
import { time } from "../core/format";
import { api } from "../core/api";
import { type Chat, fromRecord, prependOlder } from "./store";
import { hidden, isSystem, MessageBody } from "./MessageBody";

const WINDOW = 120;

export function Transcript(props: { chat: Chat }) {
  const c = props.chat;
  const box = useRef<HTMLDivElement>(null);
  const [count, setCount] = useState(WINDOW);
  const [loading, setLoading] = useState(false);
  const stick = useRef(true);
  const anchor = useRef<{ height: number; top: number } | null>(null);
  const shownFor = useRef(c.sessionId);

  if (shownFor.current !== c.sessionId) {
    shownFor.current = c.sessionId;
    stick.current = true;
  }
  const visible = c.messages.filter((m) => !hidden(m.body));
  const start = Math.max(0, visible.length - count);
  const rows = visible.slice(start);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    if (anchor.current) {
      el.scrollTop = anchor.current.top + (el.scrollHeight - anchor.current.height);
      anchor.current = null;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
      // Rows sized by their placeholder until painted grow once drawn: follow them down.
      requestAnimationFrame(() => {
        if (stick.current) el.scrollTop = el.scrollHeight;
      });
    }
  });

  const older = async () => {
    const el = box.current;
    if (el) anchor.current = { height: el.scrollHeight, top: el.scrollTop };
    if (start > 0) {
      setCount((n) => n + WINDOW);
      return;
    }
    if (!c.hasOlder || loading) return;
    setLoading(true);
    try {
      const detail = await api.record(c.sessionId);
      const cid = detail.record.conversationId ?? c.conversationId ?? 0;
      prependOlder(c.sessionId, detail.messages.map((m) => fromRecord(cid, m)));
      setCount((n) => n + WINDOW);
    } catch {
      prependOlder(c.sessionId, []);
    } finally {
      setLoading(false);
    }
  };

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 200 && (start > 0 || c.hasOlder) && !anchor.current) void older();
  };

  return (
    <div class="transcript" ref={box} onScroll={onScroll} role="log" aria-label={t("chat.messages")} tabIndex={0} data-count={visible.length}>
      {start > 0 || c.hasOlder ? (
        <button type="button" class="btn btn-ghost btn-sm older" onClick={() => void older()}>
          {loading ? t("chat.loadingOlder") : t("chat.older")}
        </button>
      ) : (
        <p class="start">{t("chat.start")}</p>
      )}
      {rows.map((m) =>
        isSystem(m.body) ? (
          <div key={m.key} class="msg sys-row" data-seq={m.seq ?? undefined}>
            <MessageBody body={m.body} />
            <time>{time(m.time)}</time>
          </div>
        ) : (
          <div key={m.key} class={`msg from-${m.from} ${m.pending ? "pending" : ""}`} data-seq={m.seq ?? undefined}>
            <div class="bubble">
              <MessageBody body={m.body} />
            </div>
            <div class="stamp">
              <span class="sr-only">{t(`chat.from.${m.from}`)} </span>
              <time>{time(m.time)}</time>
            </div>
          </div>
        ),
      )}
    </div>
  );
}
