// Service records: the agent's own (the server shows no others), by date range, skill group
// and keyword; a record's transcript with the messages holding the words marked.
import { useEffect, useState } from "preact/hooks";
import { api, type RecordQuery, type Schemas } from "../core/api";
import { t, type Key } from "../core/i18n";
import { dateTime, duration, isoDay, userLabel } from "../core/format";
import { fromRecord } from "./store";
import { MessageBody } from "./MessageBody";
import { recontact } from "./SmallDialogs";

function Highlight(props: { text: string; words: string[] }) {
  if (props.words.length === 0) return <>{props.text}</>;
  const re = new RegExp(`(${props.words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`, "gi");
  return <>{props.text.split(re).map((part, i) => (i % 2 === 1 ? <mark key={i}>{part}</mark> : part))}</>;
}

function Detail(props: { id: number; q: string; onClose: () => void }) {
  const [d, setD] = useState<Schemas["RecordDetail"] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.record(props.id, props.q || undefined).then(setD, (e: unknown) => setError(String(e)));
  }, [props.id, props.q]);
  const words = props.q.split(/\s+/).filter(Boolean);
  const hits = new Set(d?.matches ?? []);
  const cid = d?.record.conversationId ?? 0;
  return (
    <section class="record-detail" aria-labelledby="rd-title">
      <header class="chat-head">
        <div>
          <h2 id="rd-title" title={d?.record.userId}>{d ? userLabel(d.record.userId) : "…"}</h2>
          {d && <span class="meta">{dateTime(d.record.createdAtMs)}{d.matches ? ` · ${t("records.matches", { count: d.matches.length })}` : ""}</span>}
        </div>
        <div class="actions">
          {d?.record.conversationId != null && d.record.endedAtMs != null && (
            <button type="button" class="btn btn-sm" onClick={() => d.record.conversationId != null && void recontact(d.record.conversationId)}>{t("chat.recontact")}</button>
          )}
          <button type="button" class="btn btn-sm" onClick={props.onClose}>{t("common.close")}</button>
        </div>
      </header>
      {error && <p class="alert" role="alert">{error}</p>}
      <div class="transcript static" role="log" aria-label={t("records.transcript")} tabIndex={0}>
        {d?.messages.map((m) => {
          const msg = fromRecord(cid, m);
          const hit = hits.has(m.seq);
          return (
            <div key={msg.key} class={`msg from-${msg.from} ${hit ? "hit" : ""}`} data-seq={m.seq}>
              <div class="bubble">
                {m.body.type === "text" ? <span class="text"><Highlight text={m.body.text} words={hit ? words : []} /></span> : <MessageBody body={m.body} conversationId={cid} />}
              </div>
              <div class="stamp"><time>{dateTime(m.atMs)}</time></div>
            </div>
          );
        })}
      </div>
    </section>
  );
}

export function Records(props: { groups: Schemas["GroupTarget"][] }) {
  const [page, setPage] = useState<Schemas["RecordPage"] | null>(null);
  const [filters, setFilters] = useState<RecordQuery>({});
  const [open, setOpen] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async (q: RecordQuery, more = false) => {
    try {
      const p = await api.records(q);
      setPage(more && page ? { records: [...page.records, ...p.records], nextCursor: p.nextCursor ?? null } : p);
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  useEffect(() => void load({}), []);
  const submit = (form: HTMLFormElement) => {
    const d = new FormData(form);
    const from = String(d.get("from") ?? "");
    const to = String(d.get("to") ?? "");
    const q: RecordQuery = {};
    if (from) q.from = String(new Date(`${from}T00:00:00`).getTime());
    if (to) q.to = String(new Date(`${to}T00:00:00`).getTime() + 86_400_000);
    const g = String(d.get("group") ?? "");
    if (g) q.groupId = Number(g);
    const k = String(d.get("keyword") ?? "").trim();
    if (k) q.keyword = k;
    setFilters(q);
    setOpen(null);
    void load(q);
  };
  return (
    <div class="records">
      <section class="records-list" aria-labelledby="rec-title">
        <h2 id="rec-title">{t("records.title")}</h2>
        <form class="filters" onSubmit={(e) => { e.preventDefault(); submit(e.currentTarget); }}>
          <div class="field"><label for="rf">{t("records.from")}</label><input class="input" id="rf" name="from" type="date" max={isoDay(Date.now())} /></div>
          <div class="field"><label for="rt">{t("records.to")}</label><input class="input" id="rt" name="to" type="date" /></div>
          <div class="field">
            <label for="rg">{t("records.group")}</label>
            <select class="input" id="rg" name="group">
              <option value="">{t("records.anyGroup")}</option>
              {props.groups.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
            </select>
          </div>
          <div class="field"><label for="rk">{t("records.keyword")}</label><input class="input" id="rk" name="keyword" type="search" /></div>
          <button class="btn btn-primary" type="submit">{t("records.search")}</button>
        </form>
        {error && <p class="alert" role="alert">{error}</p>}
        <table class="rec-table">
          <thead>
            <tr><th scope="col">{t("records.started")}</th><th scope="col">{t("records.user")}</th><th scope="col">{t("records.duration")}</th><th scope="col">{t("records.closeBy")}</th><th scope="col">{t("records.rating")}</th></tr>
          </thead>
          <tbody>
            {page?.records.map((r) => (
              <tr key={r.sessionId} class={open === r.sessionId ? "on" : ""} data-session={r.sessionId}>
                <td><button type="button" class="link" onClick={() => setOpen(r.sessionId)}>{dateTime(r.createdAtMs)}</button></td>
                <td title={r.userId}>{userLabel(r.userId)}</td>
                <td>{r.handleTimeMs != null ? duration(r.handleTimeMs) : "—"}</td>
                <td>{r.closeBy ? t(`closeBy.${r.closeBy}` as Key) : "—"}</td>
                <td>{r.satisfaction ? `${r.satisfaction.value} · ${r.satisfaction.label}` : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {page && page.records.length === 0 && <p class="empty">{t("records.none")}</p>}
        {page?.nextCursor && <button type="button" class="btn" onClick={() => void load({ ...filters, cursor: page.nextCursor ?? undefined }, true)}>{t("records.more")}</button>}
      </section>
      {open !== null && <Detail id={open} q={filters.keyword ?? ""} onClose={() => setOpen(null)} />}
    </div>
  );
}
