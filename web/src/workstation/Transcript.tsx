// A chat's messages, virtualized: only the rows in and near the view are in the DOM, placed by
// the measured height of each row (an estimate until it was drawn), so a 5,000-message
// conversation scrolls smoothly. The view follows new messages while at the bottom, and
// otherwise keeps the row at its top still when rows above it change (older pages arrive,
// estimates become measurements).
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { t } from "../core/i18n";
import { time } from "../core/format";
import { api } from "../core/api";
import { type Chat, type Msg, fromRecord, prependOlder } from "./store";
import { hidden, isSystem, MessageBody } from "./MessageBody";

const ESTIMATE = 52;
const OVERSCAN = 600;
const heights = new Map<string, number>();

function Row(props: { m: Msg; conversationId: number | null }) {
  const m = props.m;
  if (isSystem(m.body)) {
    return (
      <div class="row-wrap center" data-key={m.key}>
        <div class="msg sys-row" data-seq={m.seq ?? undefined}>
          <MessageBody body={m.body} conversationId={props.conversationId} />
          <time>{time(m.time)}</time>
        </div>
      </div>
    );
  }
  return (
    <div class={`row-wrap from-${m.from}`} data-key={m.key}>
      <div class={`msg from-${m.from} ${m.pending ? "pending" : ""}`} data-seq={m.seq ?? undefined}>
        <div class="bubble">
          <MessageBody body={m.body} conversationId={props.conversationId} />
        </div>
        <div class="stamp">
          <span class="sr-only">{t(`chat.from.${m.from}`)} </span>
          <time>{time(m.time)}</time>
        </div>
      </div>
    </div>
  );
}

export function Transcript(props: { chat: Chat }) {
  const c = props.chat;
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 800 });
  const [loading, setLoading] = useState(false);
  const stick = useRef(true);
  const anchor = useRef<{ key: string; offset: number } | null>(null);
  const shownFor = useRef(c.sessionId);
  const frame = useRef(0);

  if (shownFor.current !== c.sessionId) {
    shownFor.current = c.sessionId;
    stick.current = true;
    anchor.current = null;
  }

  const rows = c.messages.filter((m) => !hidden(m.body));
  const tops: number[] = new Array(rows.length);
  let total = 0;
  for (let i = 0; i < rows.length; i++) {
    tops[i] = total;
    total += heights.get(rows[i]?.key ?? "") ?? ESTIMATE;
  }
  const from = view.top - OVERSCAN;
  const to = view.top + view.height + OVERSCAN;
  let first = 0;
  while (first < rows.length - 1 && (tops[first + 1] ?? 0) < from) first++;
  let last = first;
  while (last < rows.length - 1 && (tops[last + 1] ?? 0) < to) last++;
  if (stick.current) {
    // At the bottom: draw the last screenful whatever the remembered scroll position was.
    last = rows.length - 1;
    first = last;
    while (first > 0 && total - (tops[first - 1] ?? 0) < view.height + OVERSCAN) first--;
  }
  const shown = rows.length ? rows.slice(first, last + 1) : [];
  const padTop = tops[first] ?? 0;
  const padBottom = rows.length ? total - ((tops[last] ?? 0) + (heights.get(rows[last]?.key ?? "") ?? ESTIMATE)) : 0;

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    let changed = false;
    for (const node of el.querySelectorAll<HTMLElement>(".row-wrap")) {
      const key = node.dataset["key"];
      if (!key) continue;
      const h = node.offsetHeight;
      if (heights.get(key) !== h) {
        heights.set(key, h);
        changed = true;
      }
    }
    if (stick.current) {
      el.scrollTop = el.scrollHeight;
    } else if (anchor.current) {
      const at = rows.findIndex((m) => m.key === anchor.current?.key);
      if (at >= 0) {
        let y = 0;
        for (let i = 0; i < at; i++) y += heights.get(rows[i]?.key ?? "") ?? ESTIMATE;
        const want = y + anchor.current.offset;
        if (Math.abs(el.scrollTop - want) > 1) el.scrollTop = want;
      }
    }
    if (changed) setView((v) => ({ ...v }));
  });

  const older = async () => {
    if (!c.hasOlder || loading) return;
    setLoading(true);
    try {
      const detail = await api.record(c.sessionId);
      const cid = detail.record.conversationId ?? c.conversationId ?? 0;
      prependOlder(c.sessionId, detail.messages.map((m) => fromRecord(cid, m)));
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
    // The row at the top of the view, to keep still when rows above it change.
    const y = el.scrollTop;
    let i = 0;
    while (i < rows.length - 1 && (tops[i + 1] ?? 0) <= y) i++;
    const key = rows[i]?.key;
    anchor.current = key ? { key, offset: y - (tops[i] ?? 0) } : null;
    if (!frame.current) {
      frame.current = requestAnimationFrame(() => {
        frame.current = 0;
        setView({ top: el.scrollTop, height: el.clientHeight });
      });
    }
    if (el.scrollTop < 200 && c.hasOlder) void older();
  };

  return (
    <div class="transcript" ref={box} onScroll={onScroll} role="log" aria-label={t("chat.messages")} tabIndex={0} data-count={rows.length}>
      {c.hasOlder ? (
        <button type="button" class="btn btn-ghost btn-sm older" onClick={() => void older()}>
          {loading ? t("chat.loadingOlder") : t("chat.older")}
        </button>
      ) : (
        <p class="start">{t("chat.start")}</p>
      )}
      <div class="pad" style={{ height: `${padTop}px` }} />
      {shown.map((m) => <Row key={m.key} m={m} conversationId={c.conversationId} />)}
      <div class="pad" style={{ height: `${padBottom}px` }} />
    </div>
  );
}
