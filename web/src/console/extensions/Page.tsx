// Third-party extensions: pages the workstation shows as tabs. The server takes https URLs
// only and says so at the URL field.
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import type { PageProps } from "../sections";
import { ActionsHead, EditorDialog, focusHeading, RowActions } from "../ui/editor";
import { Field, FieldSet, useForm } from "../ui/form";
import { ConfirmDelete, Loaded, PageHeader } from "../ui/kit";
import { useResource } from "../ui/resource";
import { t } from "./i18n";

type Extension = Schemas["Extension"];
type Input = Schemas["ExtensionInput"];

function Editor(props: { extension: Extension | null; onClose: () => void; onSaved: () => void }) {
  const form = useForm();
  const e0 = props.extension;
  const [v, setV] = useState<Input>(e0 ? { name: e0.name, url: e0.url, alwaysVisible: e0.alwaysVisible, enabled: e0.enabled } : { name: "", url: "https://", alwaysVisible: false, enabled: true });
  return (
    <EditorDialog form={form} title={e0 ? t("ext.edit") : t("ext.add")} path="/extensions" id={e0?.id ?? null} body={() => v} created={t("ext.created")} onClose={props.onClose} onSaved={props.onSaved}>
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
    </EditorDialog>
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
                  <ActionsHead />
                </tr>
              </thead>
              <tbody>
                {items.map((x) => (
                  <tr key={x.id}>
                    <td><strong>{x.name}</strong></td>
                    <td class="mono">{x.url}</td>
                    <td>{x.alwaysVisible ? t("ext.always") : t("ext.inSession")}</td>
                    <td><span class={`badge ${x.enabled ? "badge-ok" : ""}`}>{x.enabled ? t("ext.on") : t("ext.off")}</span></td>
                    <RowActions name={x.name} onEdit={() => setEditing(x)} onDelete={() => setDeleting(x)} />
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      {editing && <Editor extension={editing === "new" ? null : editing} onClose={() => setEditing(null)} onSaved={reload} />}
      {deleting && <ConfirmDelete name={deleting.name} action={() => call("DELETE", `/extensions/${deleting.id}`)} onClose={() => setDeleting(null)} onDone={() => void list.reload().then(focusHeading)} />}
    </>
  );
}
