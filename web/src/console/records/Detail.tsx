// One record: its transcript with the messages holding the keyword marked (the server's
// `matches`), beside its timeline.
import { call, query, type Schemas } from "../../core/api";
import { dateTime, userLabel } from "../../core/format";
import { Loaded } from "../ui/kit";
import { useResource } from "../ui/resource";
import { go } from "../router";
import { trec } from "./i18n";
import { Timeline, type Lookup } from "./Timeline";

/** The text with every occurrence of the keyword's words marked (case-insensitive). */
function Marked(props: { text: string; words: string[] }) {
  if (props.words.length === 0) return <>{props.text}</>;
  const re = new RegExp(`(${props.words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`, "gi");
  return <>{props.text.split(re).map((part, i) => (i % 2 === 1 ? <mark key={i}>{part}</mark> : part))}</>;
}

type Obj = Record<string, unknown>;
const objOf = (v: unknown): Obj => (typeof v === "object" && v !== null ? (v as Obj) : {});
const strOf = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

/** A desk message's own words (a flow's menu or form: its prompt and options; the rating
 * invitation; a rich text), so an auditor reads what the user was shown, not a blank line. */
function deskText(data: string): string | null {
  let d: Obj;
  try {
    d = objOf(JSON.parse(data));
  } catch {
    return null;
  }
  if (d["customerServicePlugin"] !== 0) return null;
  const c = objOf(d["content"]);
  const items = (v: unknown) => (Array.isArray(v) ? v.map((i) => strOf(objOf(i)["content"])).filter(Boolean) : []);
  const words = (...parts: (string | string[])[]) => parts.flat().filter(Boolean).join(" · ") || null;
  switch (strOf(d["src"])) {
    case "15": case "21": case "32": return words(strOf(c["header"]), items(c["items"]));
    case "29": return words(strOf(c["title"]), items(c["items"]));
    case "9": return words(strOf(objOf(d["menuContent"])["head"]), items(objOf(d["menuContent"])["menu"]));
    case "30": return strOf(d["content"]) || null;
    default: return null;
  }
}

function bodyText(b: Schemas["Body"]): string {
  if (b.type === "text") return b.text;
  if (b.type === "file") return `📎 ${b.name} (${b.contentType}, ${b.size} B)`;
  return deskText(b.data) ?? b.description ?? "";
}

export function Detail(props: { id: number; keyword: string; names: Lookup }) {
  const r = useResource(() => call<Schemas["RecordDetail"]>("GET", `/records/${props.id}${query({ q: props.keyword || undefined })}`), [props.id, props.keyword]);
  const words = props.keyword.split(/\s+/).filter(Boolean);
  return (
    <div class="rec-detail">
      <Loaded resource={r}>
        {(d) => {
          const hits = new Set(d.matches ?? []);
          return (
            <section class="card-box" aria-labelledby="rec-d-title">
              <div class="rec-tl-head">
                <h2 id="rec-d-title">
                  {trec("rec.session", { id: d.record.sessionId })} · <span title={d.record.userId}>{userLabel(d.record.userId)}</span>
                </h2>
                <button type="button" class="btn btn-sm" onClick={() => go(["records"])}>{trec("rec.back")}</button>
              </div>
              <p class="muted">
                {dateTime(d.record.createdAtMs)}
                {d.matches ? ` · ${trec("rec.matches", { count: d.matches.length })}` : ""}
              </p>
              <h3 class="rec-sub">{trec("rec.transcript")}</h3>
              {d.messages.length === 0 && <p class="muted">{trec("rec.noMessages")}</p>}
              <ol class="rec-transcript" aria-label={trec("rec.transcript")}>
                {d.messages.map((m) => {
                  const hit = hits.has(m.seq);
                  return (
                    <li key={m.seq} class={`from-${m.from} ${hit ? "hit" : ""}`} data-seq={m.seq} data-hit={hit ? "1" : undefined}>
                      <span class="rec-who">{m.from === "user" ? trec("rec.from.user") : m.agentId != null ? props.names.agent(m.agentId) : trec("rec.from.desk")}</span>
                      <span class="rec-text"><Marked text={bodyText(m.body)} words={hit ? words : []} /></span>
                      <time class="muted">{dateTime(m.atMs)}</time>
                    </li>
                  );
                })}
              </ol>
            </section>
          );
        }}
      </Loaded>
      <Timeline id={props.id} names={props.names} />
    </div>
  );
}
