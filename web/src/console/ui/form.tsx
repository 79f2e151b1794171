// Forms that show the server's refusal where it belongs: the message of a 400 sits under the
// field its `field` names (`name`, `members[2].priority`), that field is marked invalid and
// focused; a refusal naming no field on the form shows above its buttons. Nothing is
// validated twice in the browser: the server's words are the rules.
import type { ComponentChildren, JSX } from "preact";
import { signal, type Signal } from "@preact/signals";
import { useEffect, useMemo } from "preact/hooks";
import type { ApiError } from "../../core/api";
import { tu } from "./i18n";
import { checked, toApiError } from "./resource";

export interface Form {
  busy: Signal<boolean>;
  error: Signal<ApiError | null>;
  /** The names of the fields on the form, so a refusal naming none of them shows at the top. */
  fields: Set<string>;
  /** Runs `action` (the request); a refusal lands in `error`. Answers whether it succeeded. */
  run: (action: () => Promise<void>) => Promise<boolean>;
  /** An onSubmit handler running `action`. */
  submit: (action: () => Promise<void>) => (e: Event) => void;
  clear: () => void;
}

export function useForm(): Form {
  return useMemo<Form>(() => {
    const busy = signal(false);
    const error = signal<ApiError | null>(null);
    const run = async (action: () => Promise<void>) => {
      if (busy.value) return false;
      busy.value = true;
      error.value = null;
      try {
        await action();
        return true;
      } catch (e) {
        error.value = toApiError(checked(e));
        return false;
      } finally {
        busy.value = false;
      }
    };
    return {
      busy,
      error,
      fields: new Set(),
      run,
      submit: (action) => (e: Event) => {
        e.preventDefault();
        void run(action);
      },
      clear: () => (error.value = null),
    };
  }, []);
}

/** Whether the server's `field` path is `name` or inside it (`options[1].port` is in `options`). */
export function fieldMatches(name: string, field: string | null | undefined): boolean {
  if (!field) return false;
  return field === name || field.startsWith(`${name}[`) || field.startsWith(`${name}.`);
}

let ids = 0;

/** The props a field's control takes to be labelled, described and marked invalid. */
export interface ControlProps {
  id: string;
  "aria-invalid": boolean;
  "aria-describedby"?: string;
}

/**
 * A labelled control. `name` is the request's field path as the server names it in a
 * refusal; `children` renders the control with the props that tie it to its label and error.
 */
export function Field(props: {
  form: Form;
  name: string;
  label: string;
  hint?: string;
  children: (control: ControlProps) => JSX.Element;
  class?: string;
}) {
  const id = useMemo(() => `f${++ids}`, []);
  props.form.fields.add(props.name);
  useEffect(() => () => void props.form.fields.delete(props.name), [props.name]);
  const error = props.form.error.value;
  const mine = error && fieldMatches(props.name, error.field) ? error : null;
  useEffect(() => {
    if (mine) document.getElementById(id)?.focus();
  }, [mine]);
  const described = [props.hint ? `${id}-hint` : null, mine ? `${id}-error` : null].filter(Boolean).join(" ");
  return (
    <div class={`field ${props.class ?? ""} ${mine ? "invalid" : ""}`}>
      <label for={id}>{props.label}</label>
      {props.children({ id, "aria-invalid": mine !== null, "aria-describedby": described || undefined })}
      {props.hint && <span class="hint" id={`${id}-hint`}>{props.hint}</span>}
      {mine && <span class="error-text" id={`${id}-error`} role="alert">{mine.message}</span>}
    </div>
  );
}

/** A group of checkboxes or radios under one legend, for a field that is a list. */
export function FieldSet(props: { form: Form; name: string; legend: string; children: ComponentChildren; hint?: string }) {
  props.form.fields.add(props.name);
  const error = props.form.error.value;
  const mine = error && fieldMatches(props.name, error.field) ? error : null;
  return (
    <fieldset class={`fieldset ${mine ? "invalid" : ""}`}>
      <legend>{props.legend}</legend>
      {props.children}
      {props.hint && <span class="hint">{props.hint}</span>}
      {mine && <span class="error-text" role="alert">{mine.message}</span>}
    </fieldset>
  );
}

/** The refusal no field of the form shows (a 403, a conflict, a field not on this form). */
export function FormError(props: { form: Form }) {
  const error = props.form.error.value;
  if (!error) return null;
  if ([...props.form.fields].some((f) => fieldMatches(f, error.field))) return null;
  return <p class="alert" role="alert">{error.message}</p>;
}

/**
 * A number box's text as the request's number; an empty or malformed box is sent as 0, so
 * the server's refusal names the field instead of the browser resetting it.
 */
export function typedNumber(text: string): number {
  const n = Number(text);
  return text.trim() !== "" && Number.isFinite(n) ? n : 0;
}

/**
 * A dialog form's Cancel and Save. Save stays focusable while the request runs
 * (aria-disabled, not disabled: a disabled button drops the focus out of the dialog, and
 * Escape then no longer closes it); the form ignores a second submit anyway.
 */
export function FormButtons(props: { form: Form; onCancel: () => void; saveLabel?: string }) {
  const busy = props.form.busy.value;
  return (
    <div class="buttons">
      <button type="button" class="btn" onClick={props.onCancel}>{tu("ui.cancel")}</button>
      <button type="submit" class="btn btn-primary" aria-disabled={busy}>{busy ? tu("ui.saving") : (props.saveLabel ?? tu("ui.save"))}</button>
    </div>
  );
}
