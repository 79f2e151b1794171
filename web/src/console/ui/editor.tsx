// One item of a list edited in a dialog: the fields a page gives, the refusal no field shows,
// Cancel and Save; saving creates (POST `path`) or replaces (PUT `path/id`) it. And the Edit
// and Delete buttons of a list's row, named after the row for screen readers.
import type { ComponentChildren } from "preact";
import { call } from "../../core/api";
import { Dialog } from "../../core/Dialog";
import { FormError, type Form } from "./form";
import { tu } from "./i18n";
import { toast } from "./toast";

export function EditorDialog<I>(props: {
  form: Form;
  title: string;
  /** The list's path (`/extensions`). */
  path: string;
  /** The item's id, or null for a new one. */
  id: number | null;
  body: () => I;
  /** The toast after creating (an update says "Saved."). */
  created: string;
  onClose: () => void;
  onSaved: () => void;
  wide?: boolean;
  children: ComponentChildren;
}) {
  const { form } = props;
  const save = form.submit(async () => {
    if (props.id === null) await call("POST", props.path, props.body());
    else await call("PUT", `${props.path}/${props.id}`, props.body());
    toast(props.id === null ? props.created : tu("ui.saved"));
    props.onSaved();
    props.onClose();
  });
  return (
    <Dialog title={props.title} onClose={props.onClose} wide={props.wide}>
      <form class="stack" onSubmit={save} noValidate>
        {props.children}
        <FormError form={form} />
        <div class="buttons">
          <button type="button" class="btn" onClick={props.onClose}>{tu("ui.cancel")}</button>
          <button type="submit" class="btn btn-primary" disabled={form.busy.value}>{form.busy.value ? tu("ui.saving") : tu("ui.save")}</button>
        </div>
      </form>
    </Dialog>
  );
}

/**
 * After a row is deleted its buttons are gone, and the focus with them: the page's heading
 * takes it, so the keyboard goes on from the top of the page rather than from nowhere.
 */
export function focusHeading(): void {
  const heading = document.querySelector<HTMLElement>("main h1");
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus();
}

/** The header cell over a row's buttons. */
export function ActionsHead() {
  return <th scope="col" class="actions"><span class="sr-only">{tu("ui.actions")}</span></th>;
}

/** A row's Edit and Delete buttons ("Edit Orders" to a screen reader). */
export function RowActions(props: { name: string; onEdit: () => void; onDelete: () => void }) {
  return (
    <td class="actions">
      <button type="button" class="btn btn-sm btn-ghost" aria-label={`${tu("ui.edit")} ${props.name}`} onClick={props.onEdit}>{tu("ui.edit")}</button>
      <button type="button" class="btn btn-sm btn-ghost btn-danger" aria-label={`${tu("ui.delete")} ${props.name}`} onClick={props.onDelete}>{tu("ui.delete")}</button>
    </td>
  );
}
