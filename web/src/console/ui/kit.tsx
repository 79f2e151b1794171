// The console's shared pieces: page header, load states, confirmation, copy, secrets shown
// once, CSV import with every bad cell listed.
import type { ComponentChildren } from "preact";
import { useRef, useState } from "preact/hooks";
import { download, upload, type ApiError, type Schemas } from "../../core/api";
import { Dialog } from "../../core/Dialog";
import { tu } from "./i18n";
import { FormError, useForm } from "./form";
import type { Resource } from "./resource";
import { toast } from "./toast";

export function PageHeader(props: { title: string; children?: ComponentChildren; intro?: string }) {
  return (
    <header class="page-head">
      <div>
        <h1>{props.title}</h1>
        {props.intro && <p class="muted intro">{props.intro}</p>}
      </div>
      <div class="page-actions">{props.children}</div>
    </header>
  );
}

/** A resource's body: its data once loaded, the error with a retry, or a loading line. */
export function Loaded<T>(props: { resource: Resource<T>; children: (data: T) => ComponentChildren }) {
  const { data, error, reload } = props.resource;
  if (error.value && data.value === null)
    return (
      <div class="alert" role="alert">
        {tu("ui.loadFailed", { message: error.value.message })}{" "}
        <button type="button" class="btn btn-sm" onClick={() => void reload()}>{tu("ui.retry")}</button>
      </div>
    );
  if (data.value === null) return <p class="muted" aria-busy="true">{tu("ui.loading")}</p>;
  return <>{props.children(data.value)}</>;
}

/** Asks before `action`; a refusal (a group a channel still routes to) shows in the dialog. */
export function Confirm(props: { title: string; text: string; confirmLabel?: string; danger?: boolean; action: () => Promise<void>; onClose: () => void }) {
  const form = useForm();
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <form
        class="stack"
        onSubmit={form.submit(async () => {
          await props.action();
          props.onClose();
        })}
      >
        <p>{props.text}</p>
        <FormError form={form} />
        <div class="buttons">
          <button type="button" class="btn" onClick={props.onClose}>{tu("ui.cancel")}</button>
          {/* aria-disabled, not disabled: a disabled button drops the focus out of the dialog,
              and Escape then no longer closes it (the form ignores a second submit anyway). */}
          <button type="submit" class={`btn ${props.danger ? "btn-danger-solid" : "btn-primary"}`} aria-disabled={form.busy.value} autofocus>
            {props.confirmLabel ?? tu("ui.confirm")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Deletes after asking, with the standard wording; toasts when done. */
export function ConfirmDelete(props: { name: string; action: () => Promise<void>; onClose: () => void; onDone?: () => void }) {
  return (
    <Confirm
      title={tu("ui.delete")}
      text={tu("ui.confirmDelete", { name: props.name })}
      confirmLabel={tu("ui.delete")}
      danger
      action={async () => {
        await props.action();
        toast(tu("ui.deleted"));
        props.onDone?.();
      }}
      onClose={props.onClose}
    />
  );
}

/** Copies `text` to the clipboard; says so, or says how when the browser refuses. */
export function CopyButton(props: { text: string; label?: string; describedBy?: string }) {
  return (
    <button
      type="button"
      class="btn btn-sm"
      aria-describedby={props.describedBy}
      onClick={() =>
        navigator.clipboard.writeText(props.text).then(
          () => toast(tu("ui.copied")),
          () => toast(tu("ui.copyFailed"), "error"),
        )
      }
    >
      {props.label ?? tu("ui.copy")}
    </button>
  );
}

/** A value with its copy button: a read-only box a person can also select by hand. */
export function Copyable(props: { label: string; value: string; multiline?: boolean }) {
  const [id] = useState(() => `copy-${Math.random().toString(36).slice(2, 8)}`);
  return (
    <div class="field copyable">
      <label for={id}>{props.label}</label>
      <div class="copy-row">
        {props.multiline ? (
          <textarea id={id} class="input mono" readOnly rows={3} value={props.value} onFocus={(e) => e.currentTarget.select()} />
        ) : (
          <input id={id} class="input mono" readOnly value={props.value} onFocus={(e) => e.currentTarget.select()} />
        )}
        <CopyButton text={props.value} describedBy={id} />
      </div>
    </div>
  );
}

/** A secret the server shows once (an API key, a new password, the IM secret). */
export function SecretOnce(props: { title: string; label: string; secret: string; note?: string; onClose: () => void }) {
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <p class="alert alert-info">{tu("ui.secret.once")}</p>
      {props.note && <p>{props.note}</p>}
      <Copyable label={props.label} value={props.secret} />
      <div class="buttons">
        <button type="button" class="btn btn-primary" onClick={props.onClose}>{tu("ui.close")}</button>
      </div>
    </Dialog>
  );
}

/**
 * A CSV import: the template's download and an upload. A refused file lists every bad cell by
 * row and column (the server imports nothing then); a good one calls `onImported` with the
 * server's answer.
 */
export function CsvImport<T>(props: { templatePath: string; templateName: string; uploadPath: string; count: (answer: T) => number; onImported: (answer: T) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<ApiError | null>(null);
  const choose = async (file: File) => {
    setBusy(true);
    setRefusal(null);
    try {
      const answer = await upload<T>(props.uploadPath, await file.text());
      toast(tu("ui.csv.imported", { count: props.count(answer) }));
      props.onImported(answer);
    } catch (e) {
      setRefusal(e as ApiError);
    } finally {
      setBusy(false);
      if (input.current) input.current.value = "";
    }
  };
  const rows: Schemas["RowError"][] = refusal?.detail?.rows ?? [];
  return (
    <div class="csv-import">
      <div class="buttons">
        <button type="button" class="btn" onClick={() => void download(props.templatePath, props.templateName)}>{tu("ui.csv.template")}</button>
        <label class={`btn ${busy ? "disabled" : ""}`}>
          {busy ? tu("ui.csv.uploading") : tu("ui.csv.upload")}
          <input
            ref={input}
            type="file"
            accept=".csv,text/csv"
            class="sr-only"
            aria-label={tu("ui.csv.choose")}
            disabled={busy}
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              if (f) void choose(f);
            }}
          />
        </label>
      </div>
      {refusal && (
        <div class="alert" role="alert">
          <p>{rows.length > 0 ? tu("ui.csv.refused", { count: rows.length }) : refusal.message}</p>
          {rows.length > 0 && (
            <table class="table compact">
              <thead>
                <tr>
                  <th scope="col">{tu("ui.csv.row")}</th>
                  <th scope="col">{tu("ui.csv.column")}</th>
                  <th scope="col">{tu("ui.csv.problem")}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={`${r.row}:${r.column}`}>
                    <td>{r.row}</td>
                    <td>{r.column}</td>
                    <td>{r.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </div>
  );
}
