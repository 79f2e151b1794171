// The card, proactive contact and shortcut-help dialogs.
import { useState } from "preact/hooks";
import { t, type Key } from "../core/i18n";
import { Dialog } from "../core/Dialog";
import { command, notify, sendBody } from "./store";

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function CardDialog(props: { sessionId: number; onClose: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const submit = async (form: HTMLFormElement) => {
    const d = new FormData(form);
    const content = { header: String(d.get("header") ?? ""), desc: String(d.get("desc") ?? ""), pic: String(d.get("pic") ?? ""), url: String(d.get("url") ?? "") };
    try {
      await sendBody(props.sessionId, { type: "custom", data: JSON.stringify({ customerServicePlugin: 0, src: "22", content }), description: content.header });
      props.onClose();
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <Dialog title={t("card.title")} onClose={props.onClose}>
      <form class="form" onSubmit={(e) => { e.preventDefault(); void submit(e.currentTarget); }}>
        {(["header", "desc", "pic", "url"] as const).map((n) => (
          <div class="field" key={n}>
            <label for={`card-${n}`}>{t(`card.${n}` as Key)}</label>
            {n === "pic" || n === "url" ? (
              <input class="input" id={`card-${n}`} name={n} type="url" />
            ) : (
              <input class="input" id={`card-${n}`} name={n} required={n === "header"} type="text" />
            )}
          </div>
        ))}
        {error && <p class="alert" role="alert">{error}</p>}
        <button class="btn btn-primary" type="submit">{t("card.send")}</button>
      </form>
    </Dialog>
  );
}

export function ProactiveDialog(props: { onClose: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const submit = async (form: HTMLFormElement) => {
    const d = new FormData(form);
    try {
      await command({ type: "proactive", userId: String(d.get("user") ?? ""), virtualNumber: String(d.get("number") ?? "") });
      props.onClose();
    } catch (e) {
      setError(t("proactive.refused", { message: errorText(e) }));
    }
  };
  return (
    <Dialog title={t("proactive.title")} onClose={props.onClose}>
      <form class="form" onSubmit={(e) => { e.preventDefault(); void submit(e.currentTarget); }}>
        <div class="field">
          <label for="pro-user">{t("proactive.user")}</label>
          <input class="input" id="pro-user" name="user" required />
        </div>
        <div class="field">
          <label for="pro-number">{t("proactive.number")}</label>
          <input class="input" id="pro-number" name="number" required />
        </div>
        {error && <p class="alert" role="alert">{error}</p>}
        <button class="btn btn-primary" type="submit">{t("proactive.start")}</button>
      </form>
    </Dialog>
  );
}

export async function recontact(conversationId: number): Promise<void> {
  try {
    await command({ type: "proactive", conversationId });
  } catch (e) {
    notify(t("proactive.refused", { message: errorText(e) }), "error");
  }
}

export const SHORTCUTS: [string, Key][] = [
  ["Alt+↓", "help.next"],
  ["Alt+↑", "help.prev"],
  ["Alt+A", "help.accept"],
  ["Alt+E", "help.end"],
  ["Alt+T", "help.transfer"],
  ["Alt+Q", "help.quick"],
  ["Alt+I", "help.focus"],
  ["Alt+R", "help.records"],
  ["?", "help.help"],
];

export function HelpDialog(props: { onClose: () => void }) {
  return (
    <Dialog title={t("help.title")} onClose={props.onClose}>
      <dl class="shortcuts">
        {SHORTCUTS.map(([k, label]) => (
          <div key={k}>
            <dt><kbd>{k}</kbd></dt>
            <dd>{t(label)}</dd>
          </div>
        ))}
      </dl>
      <button type="button" class="btn" onClick={props.onClose}>{t("help.close")}</button>
    </Dialog>
  );
}
