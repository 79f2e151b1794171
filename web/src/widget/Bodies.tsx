// Every message body of the protocol as the visitor sees it and answers it: text, files,
// branch menus (15, 29, 32) as buttons answered by the item's text, forms (21, 33), the
// satisfaction menu (9), cards (22, 28), rich text (30, sanitized Markdown loaded on first
// use), streaming text (31), tips (37, 38).
import { useEffect, useState } from "preact/hooks";
import { client, conversationId, rate, sendDesk, sendText } from "./state";
import { size, t, time } from "./i18n";
import { arr, deskOf, formReply, levels, num, obj, ratingOpen, str, type Desk, type FileBody, type Item, type Obj } from "./model";

function safeUrl(u: string): string | null {
  try {
    const url = new URL(u);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** Choices answered by a plain text equal to the item's content; locked once chosen. */
function Choices(props: { header: string; items: Obj[]; chosen: string | null; open: boolean; tail?: string }) {
  const locked = props.chosen !== null || !props.open;
  return (
    <div class="choices">
      {props.header && <p class="head">{props.header}</p>}
      <div class="options" role="group" aria-label={props.header || undefined}>
        {props.items.map((i, n) => {
          const content = str(i["content"]);
          const on = props.chosen === content;
          return (
            <button key={n} type="button" class={`option ${on ? "on" : ""}`} disabled={locked} aria-pressed={on} onClick={() => sendText(content)}>
              {content}
              {str(i["desc"]) && <span class="desc">{str(i["desc"])}</span>}
            </button>
          );
        })}
      </div>
      {props.chosen !== null && <p class="picked">{t("selected", { value: props.chosen })}</p>}
      {props.tail && <p class="tail">{props.tail}</p>}
    </div>
  );
}

/** A free-text form (21 type 0): its own small field, answered by a plain text. */
function FreeForm(props: { header: string; chosen: string | null }) {
  const [value, setValue] = useState("");
  if (props.chosen !== null) {
    return (
      <div class="choices">
        <p class="head">{props.header}</p>
        <p class="picked">{t("selected", { value: props.chosen })}</p>
      </div>
    );
  }
  return (
    <form
      class="choices"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) sendText(value.trim());
      }}
    >
      <label class="head">
        {props.header}
        <input class="input" value={value} onInput={(e) => setValue(e.currentTarget.value)} aria-label={props.header || t("answer")} />
      </label>
      <button type="submit" class="btn btn-primary btn-sm" disabled={!value.trim()}>{t("submit")}</button>
    </form>
  );
}

/** A task form (33): every variable a field; the reply is the same data filled in. */
function TaskForm(props: { data: Obj }) {
  const content = obj(props.data["content"]);
  const variables = arr(content["inputVariables"]);
  const done = num(props.data["nodeStatus"]) === 2 || variables.some((v) => str(v["variableValue"]) !== "" && props.data["nodeStatus"] === undefined);
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(variables.map((v) => [str(v["name"]), str(v["variableValue"])])));
  const missing = variables.some((v) => v["isRequired"] && !(values[str(v["name"])] ?? "").trim());
  return (
    <form
      class="choices"
      onSubmit={(e) => {
        e.preventDefault();
        if (!missing) sendDesk(formReply(props.data, values), false);
      }}
    >
      {str(content["tip"]) && <p class="head">{str(content["tip"])}</p>}
      {variables.map((v, n) => {
        const name = str(v["name"]);
        const choices = Array.isArray(v["chooseItemList"]) ? (v["chooseItemList"] as unknown[]).map(str) : [];
        const set = (value: string) => setValues({ ...values, [name]: value });
        return (
          <label key={n} class="field">
            <span>{name}{v["isRequired"] ? <span class="req"> ({t("required")})</span> : null}</span>
            {num(v["formType"]) === 1 && choices.length > 0 ? (
              <select class="input" value={values[name] ?? ""} disabled={done} onChange={(e) => set(e.currentTarget.value)}>
                <option value="" />
                {choices.map((c) => <option key={c} value={c}>{c}</option>)}
              </select>
            ) : (
              <input class="input" value={values[name] ?? ""} placeholder={str(v["placeholder"])} disabled={done} required={Boolean(v["isRequired"])} onInput={(e) => set(e.currentTarget.value)} />
            )}
          </label>
        );
      })}
      {done ? <p class="picked">{t("submitted")}</p> : <button type="submit" class="btn btn-primary btn-sm" disabled={missing}>{t("submit")}</button>}
    </form>
  );
}

/** The satisfaction menu (9): stars (type 1) or numbers (type 2), locked once rated or late. */
function Satisfaction(props: { data: Obj }) {
  const menu = obj(props.data["menuContent"]);
  const list = levels(menu);
  const selected = obj(menu["selected"]);
  const chosen = str(selected["id"]);
  const open = ratingOpen(menu, Date.now());
  const stars = num(menu["type"]) !== 2;
  const expire = num(menu["expireTime"]);
  const [hover, setHover] = useState<number | null>(null);
  const chosenAt = list.findIndex((l) => l.id === chosen);
  const lit = hover ?? chosenAt;
  return (
    <div class="choices rating">
      <p class="head">{str(menu["head"]) || t("rateHead")}</p>
      <div class={`levels ${stars ? "stars" : "numbers"}`} role="group" aria-label={str(menu["head"]) || t("rateHead")} onMouseLeave={() => setHover(null)}>
        {list.map((l, n) => (
          <button
            key={l.id}
            type="button"
            class={`level ${n <= lit && stars ? "lit" : ""} ${l.id === chosen ? "on" : ""}`}
            disabled={!open}
            aria-pressed={l.id === chosen}
            aria-label={`${l.content} (${t("stars", { n: n + 1, max: list.length })})`}
            title={l.content}
            onMouseEnter={() => open && setHover(n)}
            onFocus={() => open && setHover(n)}
            onBlur={() => setHover(null)}
            onClick={() => rate(str(menu["sessionId"]), l)}
          >
            {stars ? "★" : l.id}
          </button>
        ))}
      </div>
      <p class="level-label" aria-live="polite">{lit >= 0 ? list[lit]?.content : "\u00a0"}</p>
      {chosen ? (
        <>
          <p class="picked">{t("rated", { value: str(selected["content"]) })}</p>
          {str(menu["tail"]) && <p class="tail">{str(menu["tail"])}</p>}
        </>
      ) : open ? (
        expire !== null && <p class="tail">{t("validUntil", { time: time(expire * 1000) })}</p>
      ) : (
        <p class="tail">{t("expired")}</p>
      )}
    </div>
  );
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
        <div class="label">{props.kind === "card" ? t("card") : t("order")}{str(c["guide"]) ? ` · ${str(c["guide"])}` : ""}</div>
        {url ? <a href={url} target="_blank" rel="noopener noreferrer"><strong>{title}</strong></a> : <strong>{title}</strong>}
        {str(c["desc"]) && <p>{str(c["desc"])}</p>}
      </div>
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
  // Sanitized by DOMPurify in core/markdown.ts before it is set.
  return html === null ? <p class="text">{props.markdown}</p> : <div class="rich" dangerouslySetInnerHTML={{ __html: html }} />;
}

const previews = new Map<string, Promise<string>>();

function Attachment(props: { body: FileBody }) {
  const b = props.body;
  const image = /^image\/(png|jpeg|gif|webp)$/.test(b.contentType);
  const [url, setUrl] = useState<string | null>(null);
  const conversation = conversationId();
  const key = `${conversation}/${b.attachmentId}`;
  const fetchUrl = () => {
    const api = client();
    if (!api || conversation === null) return Promise.reject(new Error("no conversation"));
    let p = previews.get(key);
    if (!p) {
      p = api.blob(conversation, b.attachmentId).then((blob) => URL.createObjectURL(blob));
      previews.set(key, p);
      p.catch(() => previews.delete(key));
    }
    return p;
  };
  useEffect(() => {
    if (image) fetchUrl().then(setUrl, () => undefined);
  }, [key]);
  const save = async () => {
    const href = await fetchUrl();
    const a = document.createElement("a");
    a.href = href;
    a.download = b.name;
    a.click();
  };
  if (image && url) {
    return (
      <button type="button" class="image" onClick={() => void save()} aria-label={t("download", { name: b.name, size: size(b.size) })}>
        <img src={url} alt={t("image", { name: b.name })} />
      </button>
    );
  }
  return (
    <button type="button" class="file" onClick={() => void save()}>
      <svg class="file-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 2h8l5 5v13a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm7 1.5V8h4.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round" /></svg>
      <span class="file-name"><span class="sr-only">{t("downloadWord")} </span>{b.name}</span>
      <span class="file-size"> {size(b.size)}</span>
    </button>
  );
}

/** A desk message's body; null when the page shows nothing for it. */
function DeskBody(props: { desk: Desk; latest: boolean }) {
  const { src, data } = props.desk;
  const content = obj(data["content"]);
  switch (src) {
    case "15":
      return <Choices header={str(content["header"])} items={arr(content["items"])} chosen={content["selected"] ? str(obj(content["selected"])["content"]) : null} open tail={str(content["tail"])} />;
    case "21":
      return num(content["type"]) === 1 ? (
        <Choices header={str(content["header"])} items={arr(content["items"])} chosen={content["selected"] ? str(obj(content["selected"])["content"]) : null} open />
      ) : (
        <FreeForm header={str(content["header"])} chosen={content["selected"] ? str(obj(content["selected"])["content"]) : null} />
      );
    case "29":
      return <Choices header={str(content["title"])} items={arr(content["items"])} chosen={null} open={props.latest} />;
    case "32":
      return <Choices header={str(content["header"])} items={arr(content["items"])} chosen={content["selected"] ? str(obj(content["selected"])["content"]) : null} open={num(data["status"]) === 0} />;
    case "33":
      return <TaskForm data={data} />;
    case "9":
      return <Satisfaction data={data} />;
    case "22":
      return <Card c={content} kind="card" />;
    case "28":
      return <Card c={content} kind="order" />;
    case "30":
      return <RichText markdown={str(data["content"])} />;
    case "31": {
      const chunks = Array.isArray(data["chunks"]) ? (data["chunks"] as unknown[]).map(str).join("") : "";
      return <p class={`text ${num(data["isFinished"]) === 1 ? "" : "streaming"}`}>{chunks}</p>;
    }
    case "37":
      return <p class="tip">{str(content["tip"])}</p>;
    case "38": {
      const end = num(content["endTime"]);
      // The desk's tip is English; the page says it in the visitor's language when it can.
      return <p class="tip">{end !== null ? t("remindEnd", { time: time(end * 1000) }) : str(content["tip"])}</p>;
    }
    default:
      return null;
  }
}

/** Whether a row is shown as a line across the list (ends, tips) rather than a bubble. */
export function marker(item: Item): "ended" | "timeout" | "tip" | null {
  const desk = deskOf(item.body);
  if (!desk) return null;
  if (desk.src === "19") return "ended";
  if (desk.src === "20") return "timeout";
  if (desk.src === "37" || desk.src === "38") return "tip";
  return null;
}

export function MessageBody(props: { item: Item; latest: boolean }) {
  const body = props.item.body;
  if (body.type === "text") return <p class="text">{body.text}</p>;
  if (body.type === "file") return <Attachment body={body} />;
  const desk = deskOf(body);
  if (desk) return <DeskBody desk={desk} latest={props.latest} />;
  return <p class="text muted">{body.description || ""}</p>;
}
