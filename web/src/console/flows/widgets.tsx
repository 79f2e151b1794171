// The property panel's controls: a labelled field that shows every server error naming it
// (`text`, `options[1].content`), texts with a picker of the `${parameters}`, and lists of
// rows with add, remove and reorder. Errors no field claims are listed by the panel itself,
// so none is ever hidden.
import type { ComponentChildren, JSX } from "preact";
import { useRef, useState } from "preact/hooks";
import { tf } from "./i18n";
import { SYSTEM_PARAMS } from "./model";
import type { FlowError } from "./store";

/** What a node's fields share: its errors (fields as the node names them) and who showed which. */
export interface Ctx {
  node: string;
  errors: FlowError[];
  claimed: Set<string>;
  variables: string[];
  readOnly: boolean;
}

let ids = 0;

export interface Control {
  id: string;
  "aria-invalid": boolean;
  "aria-describedby"?: string;
  disabled: boolean;
}

/** `nested`: also the errors of the list's items (`handoverKeywords[2]`), for a list in one box. */
export function PField(props: { ctx: Ctx; name: string; label: string; hint?: string; children: (c: Control) => JSX.Element; class?: string; nested?: boolean }) {
  const [id] = useState(() => `pf${++ids}`);
  props.ctx.claimed.add(props.name);
  if (props.nested) props.ctx.claimed.add(`${props.name}[*`);
  const mine = props.ctx.errors.filter((e) => e.field === props.name || (props.nested === true && e.field.startsWith(`${props.name}[`)));
  const described = [props.hint ? `${id}-hint` : "", mine.length ? `${id}-err` : ""].filter(Boolean).join(" ");
  return (
    <div class={`field pfield ${props.class ?? ""} ${mine.length ? "invalid" : ""}`}>
      <label for={id}>{props.label}</label>
      {props.children({ id, "aria-invalid": mine.length > 0, "aria-describedby": described || undefined, disabled: props.ctx.readOnly })}
      {props.hint && <span class="hint" id={`${id}-hint`}>{props.hint}</span>}
      {mine.length > 0 && (
        <span class="error-text" id={`${id}-err`}>
          {mine.map((e) => e.message).join("; ")}
        </span>
      )}
    </div>
  );
}

/** Whether some field of the panel shows this error. */
export function isClaimed(claimed: Set<string>, e: FlowError): boolean {
  const f = e.field;
  return claimed.has(f) || [...claimed].some((c) => c.endsWith("[*") && f.startsWith(c.slice(0, -1)));
}

/** The errors naming a row or list itself (`options[1]`: "would pick two options"). */
export function RowErrors(props: { ctx: Ctx; name: string }) {
  props.ctx.claimed.add(props.name);
  const mine = props.ctx.errors.filter((e) => e.field === props.name);
  if (mine.length === 0) return null;
  return <p class="error-text">{mine.map((e) => e.message).join("; ")}</p>;
}

/** A text field, single line. */
export function Text(props: { ctx: Ctx; name: string; label: string; value: string; onInput: (v: string) => void; hint?: string; mono?: boolean; type?: "text" | "url" | "time" | "date" }) {
  return (
    <PField ctx={props.ctx} name={props.name} label={props.label} hint={props.hint}>
      {(c) => <input {...c} class={`input ${props.mono ? "mono" : ""}`} type={(props.type ?? "text") as "text"} value={props.value} onInput={(e) => props.onInput(e.currentTarget.value)} />}
    </PField>
  );
}

/** A whole number; an empty box is 0 (the server names what is out of range). */
export function Num(props: { ctx: Ctx; name: string; label: string; value: number; onInput: (v: number) => void; hint?: string; step?: number; min?: number; max?: number }) {
  return (
    <PField ctx={props.ctx} name={props.name} label={props.label} hint={props.hint}>
      {(c) => (
        <input
          {...c}
          class="input"
          type="number"
          step={props.step ?? 1}
          min={props.min}
          max={props.max}
          value={props.value}
          onInput={(e) => {
            const n = Number(e.currentTarget.value);
            if (Number.isFinite(n)) props.onInput(n);
          }}
        />
      )}
    </PField>
  );
}

/** A list of words typed with commas; read when the box is left, so typing a comma keeps it. */
export function Words(props: { ctx: Ctx; name: string; label: string; value: string[]; onChange: (v: string[]) => void; hint?: string }) {
  return (
    <PField ctx={props.ctx} name={props.name} label={props.label} hint={props.hint ?? tf("flows.hint.commas")} nested>
      {(c) => (
        <input
          {...c}
          class="input"
          value={props.value.join(", ")}
          onChange={(e) => props.onChange(e.currentTarget.value.split(",").map((w) => w.trim()).filter(Boolean))}
        />
      )}
    </PField>
  );
}

/** A text with `${parameters}`: a picker inserts the system parameters and the flow's variables at the caret. */
export function Template(props: { ctx: Ctx; name: string; label: string; value: string; onInput: (v: string) => void; rows?: number; hint?: string }) {
  const box = useRef<HTMLTextAreaElement>(null);
  const insert = (name: string) => {
    const el = box.current;
    const at = el?.selectionStart ?? props.value.length;
    const end = el?.selectionEnd ?? at;
    const token = `\${${name}}`;
    props.onInput(props.value.slice(0, at) + token + props.value.slice(end));
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(at + token.length, at + token.length);
    });
  };
  return (
    <PField ctx={props.ctx} name={props.name} label={props.label} hint={props.hint}>
      {(c) => (
        <div class="template">
          <textarea {...c} ref={box} class="input" rows={props.rows ?? 3} value={props.value} onInput={(e) => props.onInput(e.currentTarget.value)} />
          {!props.ctx.readOnly && (
            <select
              class="input param-pick"
              aria-label={tf("flows.param.insertInto", { field: props.label })}
              value=""
              onChange={(e) => {
                const v = e.currentTarget.value;
                e.currentTarget.value = "";
                if (v) insert(v);
              }}
            >
              <option value="">{tf("flows.param.insert")}</option>
              <optgroup label={tf("flows.param.system")}>
                {SYSTEM_PARAMS.map((p) => <option key={p} value={p}>{`\${${p}}`}</option>)}
              </optgroup>
              {props.ctx.variables.length > 0 && (
                <optgroup label={tf("flows.param.collected")}>
                  {props.ctx.variables.map((p) => <option key={p} value={p}>{`\${${p}}`}</option>)}
                </optgroup>
              )}
            </select>
          )}
        </div>
      )}
    </PField>
  );
}

/** A choice among fixed values. */
export function Choice<T extends string>(props: { ctx: Ctx; name: string; label: string; value: T; options: [T, string][]; onChange: (v: T) => void }) {
  return (
    <PField ctx={props.ctx} name={props.name} label={props.label}>
      {(c) => (
        <select {...c} class="input" value={props.value} onChange={(e) => props.onChange(e.currentTarget.value as T)}>
          {props.options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
        </select>
      )}
    </PField>
  );
}

/** Rows of a list, each with its remove (and up/down when `ordered`) buttons, and an add button. */
export function Rows<T>(props: {
  ctx: Ctx;
  name: string;
  legend: string;
  items: T[];
  onChange: (items: T[]) => void;
  add: () => T;
  addLabel: string;
  row: (item: T, i: number, set: (item: T) => void) => ComponentChildren;
  ordered?: boolean;
  itemName: (i: number) => string;
}) {
  const { items, onChange } = props;
  const swap = (i: number, j: number) => {
    const next = [...items];
    const a = next[i];
    const b = next[j];
    if (a === undefined || b === undefined) return;
    next[i] = b;
    next[j] = a;
    onChange(next);
  };
  const ro = props.ctx.readOnly;
  return (
    <fieldset class="fieldset prows">
      <legend>{props.legend}</legend>
      <RowErrors ctx={props.ctx} name={props.name} />
      {items.map((item, i) => (
        <div class="prow" key={i}>
          <RowErrors ctx={props.ctx} name={`${props.name}[${i}]`} />
          {props.row(item, i, (v) => onChange(items.map((x, j) => (j === i ? v : x))))}
          {!ro && (
            <div class="buttons prow-actions">
              {props.ordered && (
                <>
                  <button type="button" class="btn btn-sm btn-ghost" disabled={i === 0} aria-label={tf("flows.row.up", { item: props.itemName(i) })} onClick={() => swap(i, i - 1)}>↑</button>
                  <button type="button" class="btn btn-sm btn-ghost" disabled={i === items.length - 1} aria-label={tf("flows.row.down", { item: props.itemName(i) })} onClick={() => swap(i, i + 1)}>↓</button>
                </>
              )}
              <button type="button" class="btn btn-sm btn-ghost" aria-label={tf("flows.row.remove", { item: props.itemName(i) })} onClick={() => onChange(items.filter((_, j) => j !== i))}>{tf("flows.row.removeShort")}</button>
            </div>
          )}
        </div>
      ))}
      {!ro && (
        <button type="button" class="btn btn-sm" onClick={() => onChange([...items, props.add()])}>{props.addLabel}</button>
      )}
    </fieldset>
  );
}
