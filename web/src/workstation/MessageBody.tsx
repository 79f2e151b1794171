// Every body of the desk protocol (shared/PROTOCOL.md) as the agent sees it: text, cards,
// menus and forms with the user's choice, satisfaction with the rating, rich text (sanitized
// Markdown, loaded on first use), streaming text.
import { useEffect, useState } from "preact/hooks";
import type { Body } from "../core/frames";
import { t } from "../core/i18n";
import { dateTime } from "../core/format";
import { fetchBlob, saveBlob } from "../core/api";
import { deskOf, type Desk } from "./preview";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

function safeUrl(u: string): string | null {
  try {
    const url = new URL(u);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function Card(props: { c: Obj; kind: "card" | "order" }) {
  const c = props.c;
  const pic = safeUrl(str(c["pic"]));
  const url = safeUrl(str(c["url"]));
  const title = str(c["header"] ?? c["name"]);
  return (
    <div class="card-msg">
      {pic && <img src={pic} alt="" loading="lazy" referrerpolicy="no-referrer" />}
      <div>
        <div class="label">{props.kind === "card" ? t("body.card") : t("body.order")}{c["guide"] ? ` · ${str(c["guide"])}` : ""}</div>
        {url ? <a href={url} target="_blank" rel="noopener noreferrer"><strong>{title}</strong></a> : <strong>{title}</strong>}
        {str(c["desc"]) && <p>{str(c["desc"])}</p>}
      </div>
    </div>
  );
}

function Choices(props: { header: string; items: Obj[]; chosen: string | null; kind: string; tail?: string }) {
  return (
    <div class="choices">
      <div class="label">{props.kind}</div>
      {props.header && <p class="head">{props.header}</p>}
      <ul>
        {props.items.map((i, n) => {
          const content = str(i["content"]);
          const on = props.chosen !== null && props.chosen === content;
          return (
            <li key={n} class={on ? "chosen" : ""} aria-current={on ? "true" : undefined}>
              {content}{str(i["desc"]) && <span class="desc"> {str(i["desc"])}</span>}
            </li>
          );
        })}
      </ul>
      {props.chosen !== null && <p class="picked">{t("body.selected", { value: props.chosen })}</p>}
      {props.tail && <p class="tail">{props.tail}</p>}
    </div>
  );
}

function Rating(props: { m: Obj }) {
  const m = props.m;
  const selected = obj(m["selected"]);
  const chosen = str(selected["id"]) || null;
  const expire = Number(m["expireTime"] ?? 0) * 1000;
  const stars = m["type"] === 1;
  return (
    <div class="rating-msg">
      <div class="label">{t("body.rating")}</div>
      <p class="head">{str(m["head"])}</p>
      <ol class="levels">
        {arr(m["menu"]).map((l) => {
          const on = chosen === str(l["id"]);
          return (
            <li key={str(l["id"])} class={on ? "chosen" : ""} aria-current={on ? "true" : undefined} title={str(l["content"])}>
              <span aria-hidden="true">{stars ? "★" : str(l["id"])}</span> <span class="lvl">{str(l["content"])}</span>
            </li>
          );
        })}
      </ol>
      <p class="tail">
        {chosen !== null ? t("body.selected", { value: str(selected["content"]) }) : expire > 0 ? (expire < Date.now() ? t("body.ratingLocked") : t("body.ratingExpires", { time: dateTime(expire) })) : ""}
      </p>
    </div>
  );
}

function RichText(props: { markdown: string }) {
  const [html, setHtml] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void import("../core/markdown").then((m) => live && setHtml(m.render(props.markdown)));
    return () => {
      live = false;
    };
  }, [props.markdown]);
  return html === null ? <div class="rich">{props.markdown}</div> : <div class="rich" dangerouslySetInnerHTML={{ __html: html }} />;
}

function FormCollection(props: { d: Desk }) {
  const c = obj(props.d["content"]);
  const done = props.d["nodeStatus"] === 2;
  return (
    <div class="choices">
      <div class="label">{t("body.form")}</div>
      <p class="head">{str(c["tip"])}</p>
      <dl class="vars">
        {arr(c["inputVariables"]).map((v, n) => (
          <div key={n}>
            <dt>{str(v["name"])}{v["isRequired"] ? <span class="req"> · {t("body.required")}</span> : null}</dt>
            <dd>{str(v["variableValue"]) || (done ? "" : str(v["placeholder"]))}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function Desk(props: { d: Desk; body: Body }) {
  const d = props.d;
  const c = obj(d["content"]);
  switch (d.src) {
    case "22": return <Card c={c} kind="card" />;
    case "28": return <Card c={c} kind="order" />;
    case "15": return <Choices kind={t("body.menu")} header={str(c["header"])} items={arr(c["items"])} chosen={str(obj(c["selected"])["content"]) || null} tail={str(c["tail"])} />;
    case "21": return <Choices kind={t("body.form")} header={str(c["header"])} items={arr(c["items"])} chosen={str(obj(c["selected"])["content"]) || null} />;
    case "29": return <Choices kind={t("body.menu")} header={str(c["title"])} items={arr(c["items"])} chosen={null} />;
    case "32": return <Choices kind={t("body.menu")} header={str(c["header"])} items={arr(c["items"])} chosen={str(obj(c["selected"])["content"]) || null} />;
    case "33": return <FormCollection d={d} />;
    case "9": return <Rating m={obj(d["menuContent"])} />;
    case "30": return <RichText markdown={str(d["content"])} />;
    case "31": {
      const text = Array.isArray(d["chunks"]) ? d["chunks"].map(str).join("") : "";
      return (
        <div class="stream">
          <span class="text">{text}</span>
          {d["isFinished"] !== 1 && <span class="cursor" aria-label={t("body.streaming")} />}
        </div>
      );
    }
    case "19": return <span class="sys">{t("body.sessionEnded")}</span>;
    case "20": return <span class="sys">{t("body.sessionTimeout")}</span>;
    case "37": return <span class="sys">{str(c["tip"])}</span>;
    case "38": return <span class="sys">{t("body.reminded", { time: typeof c["endTime"] === "number" ? dateTime(c["endTime"] * 1000) : "" })}</span>;
    case "7": return <span class="sys">{t("body.trigger")}</span>;
    case "10": return <span class="sys">{t("body.selected", { value: str(obj(d["menuSelected"])["content"]) })}</span>;
    default: return <span class="sys">{props.body.type === "custom" && props.body.description ? props.body.description : t("body.unknown", { src: d.src })}</span>;
  }
}

const hiddenCache = new WeakMap<Body, boolean>();

/** The desk's silent protocol messages (rules, seat status, typing) are not shown. */
export function hidden(body: Body): boolean {
  if (body.type === "text") return false;
  let h = hiddenCache.get(body);
  if (h === undefined) {
    const d = deskOf(body);
    h = d !== null && (d.src === "23" || d.src === "26" || d.src === "12");
    hiddenCache.set(body, h);
  }
  return h;
}

/** Whether a body is drawn as a line of the desk rather than in a bubble. */
export function isSystem(body: Body): boolean {
  const d = deskOf(body);
  return d !== null && ["19", "20", "7", "10", "24", "27"].includes(d.src);
}

type FileBody = Extract<Body, { type: "file" }>;

/** A size people read: bytes, KB or MB. */
export function sizeText(bytes: number): string {
  if (bytes < 1024) return t("file.bytes", { n: String(bytes) });
  if (bytes < 1024 * 1024) return t("file.kb", { n: (bytes / 1024).toFixed(1) });
  return t("file.mb", { n: (bytes / 1024 / 1024).toFixed(1) });
}

const IMAGES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/** An attachment: an image previewed (fetched as a blob with the bearer), any other file a
 * download button with its name and size. */
function Attachment(props: { b: FileBody; conversationId: number | null | undefined }) {
  const { b, conversationId } = props;
  const path = conversationId != null ? `/conversations/${conversationId}/attachments/${b.attachmentId}` : null;
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const image = IMAGES.includes(b.contentType);
  useEffect(() => {
    if (!image || !path) return;
    let gone = false;
    let made: string | null = null;
    fetchBlob(path).then(
      (blob) => {
        if (gone) return;
        made = URL.createObjectURL(blob);
        setUrl(made);
      },
      () => !gone && setFailed(true),
    );
    return () => {
      gone = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [path, image]);
  const save = () => {
    if (!path) return;
    fetchBlob(path).then((blob) => saveBlob(blob, b.name), () => setFailed(true));
  };
  return (
    <span class="file-body">
      {image && url && <img class="file-preview" src={url} alt={b.name} />}
      <button type="button" class="btn btn-sm file-link" onClick={save} disabled={!path} aria-label={t("file.download", { name: b.name, size: sizeText(b.size) })}>
        <span class="file-name">{b.name}</span> <span class="file-size">{sizeText(b.size)}</span>
      </button>
      {failed && <span class="alert" role="alert">{t("file.failed")}</span>}
    </span>
  );
}

export function MessageBody(props: { body: Body; conversationId?: number | null }) {
  const b = props.body;
  if (b.type === "text") return <span class="text">{b.text}</span>;
  if (b.type === "file") return <Attachment b={b} conversationId={props.conversationId} />;
  const d = deskOf(b);
  if (d) return <Desk d={d} body={b} />;
  // A custom message of the app, not the desk's: a card shape if it has one, else its text.
  try {
    const data = obj(JSON.parse(b.data));
    if (data["header"] || data["title"]) return <Card c={{ header: data["header"] ?? data["title"], desc: data["desc"] ?? data["description"], pic: data["pic"] ?? data["iconUrl"], url: data["url"] }} kind="card" />;
  } catch {
    // not JSON: shown as its description
  }
  return <span class="text">{b.description ?? b.data}</span>;
}
