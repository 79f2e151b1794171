// Quick replies: the list filed under its groups, searched and filtered by the server (`q`,
// `group`), added and edited one at a time in a dialog, or many at once by CSV.
import "./quick-replies.css";
import { useState } from "preact/hooks";
import { call, query, type Schemas } from "../../core/api";
import type { PageProps } from "../sections";
import { ActionsHead, EditorDialog, focusHeading, RowActions } from "../ui/editor";
import { Field, useForm } from "../ui/form";
import { ConfirmDelete, CsvImport, Loaded, PageHeader } from "../ui/kit";
import { useResource } from "../ui/resource";
import { t } from "./i18n";

type Reply = Schemas["QuickReply"];
type Input = Schemas["QuickReplyInput"];

/** The groups in use, in order. */
function groupsOf(all: Reply[]): string[] {
  return [...new Set(all.map((r) => r.group))].sort((a, b) => a.localeCompare(b));
}

function Editor(props: { reply: Reply | null; group: string; groups: string[]; onClose: () => void; onSaved: () => void }) {
  const form = useForm();
  const [v, setV] = useState<Input>(props.reply ? { group: props.reply.group, title: props.reply.title, content: props.reply.content } : { group: props.group, title: "", content: "" });
  const set = (k: keyof Input) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <EditorDialog form={form} title={props.reply ? t("qr.edit") : t("qr.add")} path="/quick-replies" id={props.reply?.id ?? null} body={() => v} created={t("qr.created")} onClose={props.onClose} onSaved={props.onSaved} wide>
        <Field form={form} name="group" label={t("qr.group")} hint={t("qr.groupHint")}>
          {(c) => <input {...c} class="input" list="qr-groups" value={v.group} onInput={set("group")} autofocus />}
        </Field>
        <datalist id="qr-groups">{props.groups.map((g) => <option key={g} value={g} />)}</datalist>
        <Field form={form} name="title" label={t("qr.titleField")}>
          {(c) => <input {...c} class="input" value={v.title} onInput={set("title")} />}
        </Field>
        <Field form={form} name="content" label={t("qr.content")}>
          {(c) => <textarea {...c} class="input" rows={5} value={v.content} onInput={set("content")} />}
        </Field>
    </EditorDialog>
  );
}

export default function Page(_props: PageProps) {
  const [q, setQ] = useState("");
  const [group, setGroup] = useState("");
  const [editing, setEditing] = useState<Reply | "new" | null>(null);
  const [deleting, setDeleting] = useState<Reply | null>(null);
  const [importing, setImporting] = useState(false);
  const all = useResource(() => call<Reply[]>("GET", "/quick-replies"), []);
  const shown = useResource(() => call<Reply[]>("GET", `/quick-replies${query({ q: q.trim(), group })}`), [q, group]);
  const reload = () => Promise.all([all.reload(), shown.reload()]);
  const groups = groupsOf(all.data.value ?? []);
  return (
    <>
      <PageHeader title={t("qr.title")} intro={t("qr.intro")}>
        <button type="button" class="btn" aria-expanded={importing} onClick={() => setImporting(!importing)}>{t("qr.import")}</button>
        <button type="button" class="btn btn-primary" onClick={() => setEditing("new")}>{t("qr.add")}</button>
      </PageHeader>
      {importing && (
        <section class="card-box" aria-labelledby="qr-import">
          <h2 id="qr-import">{t("qr.import")}</h2>
          <p class="muted">{t("qr.importIntro")}</p>
          <CsvImport<Reply[]> templatePath="/quick-replies/import-template" templateName="quick-replies.csv" uploadPath="/quick-replies/import" count={(a) => a.length} onImported={() => void reload()} />
        </section>
      )}
      <div class="toolbar" role="search">
        <label class="sr-only" for="qr-q">{t("qr.search")}</label>
        <input id="qr-q" class="input" type="search" placeholder={t("qr.searchPlaceholder")} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        <label class="sr-only" for="qr-group">{t("qr.groupFilter")}</label>
        <select id="qr-group" class="input" value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
          <option value="">{t("qr.allGroups")}</option>
          {groups.map((g) => <option key={g} value={g}>{g}</option>)}
        </select>
      </div>
      <Loaded resource={shown}>
        {(list) =>
          list.length === 0 ? (
            <p class="empty card-box">{q || group ? t("qr.noMatch") : t("qr.none")}</p>
          ) : (
            <div class="stack qr-groups">
              {groupsOf(list).map((g) => {
                const items = list.filter((r) => r.group === g);
                return (
                  <section key={g} class="qr-group" aria-label={g}>
                    <h2>{g} <span class="badge">{items.length === 1 ? t("qr.countOne") : t("qr.countMany", { count: items.length })}</span></h2>
                    <table class="table">
                      <thead>
                        <tr>
                          <th scope="col" class="qr-title">{t("qr.titleField")}</th>
                          <th scope="col">{t("qr.content")}</th>
                          <ActionsHead />
                        </tr>
                      </thead>
                      <tbody>
                        {items.map((r) => (
                          <tr key={r.id}>
                            <td class="qr-title">{r.title}</td>
                            <td class="qr-content">{r.content}</td>
                            <RowActions name={r.title} onEdit={() => setEditing(r)} onDelete={() => setDeleting(r)} />
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </section>
                );
              })}
            </div>
          )
        }
      </Loaded>
      {editing && <Editor reply={editing === "new" ? null : editing} group={group} groups={groups} onClose={() => setEditing(null)} onSaved={() => void reload()} />}
      {deleting && <ConfirmDelete name={deleting.title} action={() => call("DELETE", `/quick-replies/${deleting.id}`)} onClose={() => setDeleting(null)} onDone={() => void reload().then(focusHeading)} />}
    </>
  );
}
