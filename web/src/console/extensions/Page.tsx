// Third-party extensions: pages the workstation shows as tabs. The server takes https URLs
// only and says so at the URL field.
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { Dialog } from "../../core/Dialog";
import type { PageProps } from "../sections";
import { Field, FieldSet, FormError, useForm } from "../ui/form";
import { ConfirmDelete, Loaded, PageHeader } from "../ui/kit";
import { tu } from "../ui/i18n";
import { useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { t } from "./i18n";

type Extension = Schemas["Extension"];
type Input = Schemas["ExtensionInput"];

function Editor(props: { extension: Extension | null; onClose: () => void; onSaved: () => void }) {
  const form = useForm();
  const e0 = props.extension;
  const [v, setV] = useState<Input>(e0 ? { name: e0.name, url: e0.url, alwaysVisible: e0.alwaysVisible, enabled: e0.enabled } : { name: "", url: "https://", alwaysVisible: false, enabled: true });
  const save = form.submit(async () => {
    if (e0) await call<Extension>("PUT", `/extensions/${e0.id}`, v);
    else await call<Extension>("POST", "/extensions", v);
    toast(e0 ? tu("ui.saved") : t("ext.created"));
    props.onSaved();
    props.onClose();
  });
  return (
    <Dialog title={e0 ? t("ext.edit") : t("ext.add")} onClose={props.onClose}>
      <form class="stack" onSubmit={save} noValidate>
        <Field form={form} name="name" label={t("ext.name")}>
          {(c) => <input {...c} class="input" value={v.name} onInput={(e) => setV({ ...v, name: e.currentTarget.value })} autofocus />}
        </Field>
        <Field form={form} name="url" label={t("ext.url")} hint={t("ext.urlHint")}>
          {(c) => <input {...c} class="input mono" type="url" value={v.url} onInput={(e) => setV({ ...v, url: e.currentTarget.value })} />}
        </Field>
        <FieldSet form={form} name="alwaysVisible" legend={t("ext.shown")} hint={t("ext.alwaysVisibleHint")}>
          <label class="check">
            <input type="checkbox" checked={v.enabled} onChange={(e) => setV({ ...v, enabled: e.currentTarget.checked })} />
            {t("ext.enabled")}
          </label>
          <label class="check">
            <input type="checkbox" checked={v.alwaysVisible} onChange={(e) => setV({ ...v, alwaysVisible: e.currentTarget.checked })} />
            {t("ext.alwaysVisible")}
          </label>
        </FieldSet>
        <FormError form={form} />
        <div class="buttons">
          <button type="button" class="btn" onClick={props.onClose}>{tu("ui.cancel")}</button>
          <button type="submit" class="btn btn-primary" disabled={form.busy.value}>{form.busy.value ? tu("ui.saving") : tu("ui.save")}</button>
        </div>
      </form>
    </Dialog>
  );
}

export default function Page(_props: PageProps) {
  const list = useResource(() => call<Extension[]>("GET", "/extensions"), []);
  const [editing, setEditing] = useState<Extension | "new" | null>(null);
  const [deleting, setDeleting] = useState<Extension | null>(null);
  const reload = () => void list.reload();
  return (
    <>
      <PageHeader title={t("ext.title")} intro={t("ext.intro")}>
        <button type="button" class="btn btn-primary" onClick={() => setEditing("new")}>{t("ext.add")}</button>
      </PageHeader>
      <Loaded resource={list}>
        {(items) =>
          items.length === 0 ? (
            <p class="empty card-box">{t("ext.none")}</p>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{t("ext.name")}</th>
                  <th scope="col">{t("ext.url")}</th>
                  <th scope="col">{t("ext.visibility")}</th>
                  <th scope="col">{t("ext.shown")}</th>
                  <th scope="col" class="actions"><span class="sr-only">{tu("ui.actions")}</span></th>
                </tr>
              </thead>
              <tbody>
                {items.map((x) => (
                  <tr key={x.id}>
                    <td><strong>{x.name}</strong></td>
                    <td class="mono">{x.url}</td>
                    <td>{x.alwaysVisible ? t("ext.always") : t("ext.inSession")}</td>
                    <td><span class={`badge ${x.enabled ? "badge-ok" : ""}`}>{x.enabled ? t("ext.on") : t("ext.off")}</span></td>
                    <td class="actions">
                      <button type="button" class="btn btn-sm btn-ghost" aria-label={`${tu("ui.edit")} ${x.name}`} onClick={() => setEditing(x)}>{tu("ui.edit")}</button>
                      <button type="button" class="btn btn-sm btn-ghost btn-danger" aria-label={`${tu("ui.delete")} ${x.name}`} onClick={() => setDeleting(x)}>{tu("ui.delete")}</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      {editing && <Editor extension={editing === "new" ? null : editing} onClose={() => setEditing(null)} onSaved={reload} />}
      {deleting && <ConfirmDelete name={deleting.name} action={() => call("DELETE", `/extensions/${deleting.id}`)} onClose={() => setDeleting(null)} onDone={reload} />}
    </>
  );
}
