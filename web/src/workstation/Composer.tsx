// The message box: Enter sends, Shift+Enter breaks the line, typing is sent (throttled), and
// `#` opens the quick replies: a keyword search over title and content, grouped, chosen with
// the arrow keys and Enter.
import { signal } from "@preact/signals";
import { useRef, useState } from "preact/hooks";
import { t } from "../core/i18n";
import { ApiError, uploadFile } from "../core/api";
import { type Chat, command, notify, sendBody } from "./store";
import { grouped, search, type QuickReply } from "./quick";

/** Text a panel asks to put into the box. */
export const insertText = signal<string | null>(null);

const TYPING_EVERY_MS = 3000;

export function Composer(props: { chat: Chat; onCard: () => void }) {
  const area = useRef<HTMLTextAreaElement>(null);
  const [text, setText] = useState("");
  const [hash, setHash] = useState<{ at: number; q: string } | null>(null);
  const [active, setActive] = useState(0);
  const lastTyping = useRef(0);
  const picker = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<number | null>(null);

  const attach = async (file: File, name = file.name) => {
    setProgress(0);
    try {
      const q = new URLSearchParams({ name });
      await uploadFile(`/sessions/${props.chat.sessionId}/attachments?${q.toString()}`, file, setProgress);
    } catch (e) {
      const why = e instanceof ApiError && e.field ? `${e.field}: ${e.message}` : e instanceof Error ? e.message : String(e);
      notify(t("file.refused", { name, message: why }), "error");
    } finally {
      setProgress(null);
    }
  };
  const onPaste = (e: ClipboardEvent) => {
    const item = [...(e.clipboardData?.items ?? [])].find((i) => i.kind === "file" && i.type.startsWith("image/"));
    const file = item?.getAsFile();
    if (!file) return;
    e.preventDefault();
    const ext = file.type.split("/")[1] ?? "png";
    void attach(file, file.name && file.name.includes(".") ? file.name : `pasted.${ext === "jpeg" ? "jpg" : ext}`);
  };

  if (insertText.value !== null) {
    const v = insertText.value;
    insertText.value = null;
    setText((old) => (old ? `${old} ${v}` : v));
    queueMicrotask(() => area.current?.focus());
  }

  const matches = hash ? search(hash.q) : [];
  const flat = grouped(matches).flatMap(([, list]) => list);

  const send = async () => {
    const value = text.trim();
    if (!value) return;
    setText("");
    try {
      await sendBody(props.chat.sessionId, { type: "text", text: value });
    } catch (e) {
      setText(value);
      notify(t("chat.failed", { message: e instanceof Error ? e.message : String(e) }), "error");
    }
  };

  const pick = (r: QuickReply) => {
    if (!hash) return;
    const before = text.slice(0, hash.at);
    const after = text.slice(hash.at + 1 + hash.q.length);
    setText(`${before}${r.content}${after}`);
    setHash(null);
    area.current?.focus();
  };

  const onInput = (value: string, caret: number) => {
    setText(value);
    const upto = value.slice(0, caret);
    const m = /(^|\s)#([^\s#]*)$/.exec(upto);
    if (m) {
      setHash({ at: caret - (m[2]?.length ?? 0) - 1, q: m[2] ?? "" });
      setActive(0);
    } else setHash(null);
    const nowMs = Date.now();
    if (nowMs - lastTyping.current > TYPING_EVERY_MS && value) {
      lastTyping.current = nowMs;
      void command({ type: "typing", sessionId: props.chat.sessionId }).catch(() => {});
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (hash && flat.length > 0) {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        setActive((a) => (a + 1) % flat.length);
        return;
      }
      if (e.key === "ArrowUp") {
        e.preventDefault();
        setActive((a) => (a - 1 + flat.length) % flat.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        const r = flat[active];
        if (r) pick(r);
        return;
      }
    }
    if (hash && e.key === "Escape") {
      e.preventDefault();
      setHash(null);
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  let index = -1;
  return (
    <div
      class="composer"
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        const file = e.dataTransfer?.files[0];
        if (!file) return;
        e.preventDefault();
        void attach(file);
      }}
    >
      {hash && (
        <div class="qr-popup" role="listbox" id="qr-popup" aria-label={t("qr.title")}>
          {flat.length === 0 && <p class="empty">{t("qr.none")}</p>}
          {grouped(matches).map(([group, list]) => (
            <div key={group} role="group" aria-label={group}>
              <div class="group">{group}</div>
              {list.map((r) => {
                index += 1;
                const on = index === active;
                return (
                  <div
                    key={r.id}
                    id={`qr-${r.id}`}
                    role="option"
                    aria-selected={on}
                    class={`qr-option ${on ? "on" : ""}`}
                    onMouseDown={(e) => {
                      e.preventDefault();
                      pick(r);
                    }}
                  >
                    <strong>{r.title}</strong>
                    <span>{r.content}</span>
                  </div>
                );
              })}
            </div>
          ))}
        </div>
      )}
      <label class="sr-only" for="composer-input">{t("chat.placeholder")}</label>
      <textarea
        id="composer-input"
        ref={area}
        rows={2}
        value={text}
        placeholder={t("chat.placeholder")}
        aria-autocomplete="list"
        aria-controls={hash ? "qr-popup" : undefined}
        aria-activedescendant={hash && flat[active] ? `qr-${flat[active]?.id}` : undefined}
        onInput={(e) => onInput(e.currentTarget.value, e.currentTarget.selectionStart ?? e.currentTarget.value.length)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
      />
      <div class="composer-actions">
        <button type="button" class="btn btn-sm" onClick={props.onCard}>{t("chat.sendCard")}</button>
        <button type="button" class="btn btn-sm" onClick={() => picker.current?.click()} disabled={progress !== null}>{t("file.attach")}</button>
        <input
          ref={picker}
          type="file"
          class="sr-only"
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            e.currentTarget.value = "";
            if (file) void attach(file);
          }}
        />
        {progress !== null && <progress class="file-progress" max={1} value={progress} aria-label={t("file.uploading")} />}
        <div class="spacer" />
        <button type="button" class="btn btn-primary" onClick={() => void send()} disabled={!text.trim()}>{t("chat.send")}</button>
      </div>
    </div>
  );
}
