// Skill groups: the list with reception limits, added, renamed, their limit changed, deleted
// (the server refuses while a channel or flow routes to one, and the dialog says so); a
// group's own page (`#/skill-groups/<id>`) holds its members and their priorities.
import "./groups.css";
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { Dialog } from "../../core/Dialog";
import { href } from "../router";
import type { PageProps } from "../sections";
import { Field, FormButtons, FormError, typedNumber, useForm } from "../ui/form";
import { ConfirmDelete, Loaded, PageHeader } from "../ui/kit";
import { tu } from "../ui/i18n";
import { useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { tg } from "./i18n";
import { Members } from "./Members";

type Group = Schemas["GroupView"];
type Open = { kind: "add" } | { kind: "edit" | "delete"; group: Group };

export default function Page(props: PageProps) {
  const id = props.path[0];
  if (id !== undefined) return <Members key={id} id={Number(id)} />;
  return <List />;
}

function List() {
  const groups = useResource(() => call<Group[]>("GET", "/skill-groups"), []);
  const [open, setOpen] = useState<Open | null>(null);
  const close = () => setOpen(null);
  return (
    <>
      <PageHeader title={tg("groups.title")} intro={tg("groups.intro")}>
        <button type="button" class="btn btn-primary" onClick={() => setOpen({ kind: "add" })}>{tg("groups.add")}</button>
      </PageHeader>
      <Loaded resource={groups}>
        {(list) =>
          list.length === 0 ? (
            <p class="empty card-box">{tg("groups.none")}</p>
          ) : (
            <table class="table groups-table">
              <thead>
                <tr>
                  <th scope="col">{tg("groups.col.name")}</th>
                  <th scope="col" class="num">{tg("groups.col.limit")}</th>
                  <th scope="col">{tg("groups.col.members")}</th>
                  <th scope="col" class="actions">{tu("ui.actions")}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((g) => (
                  <tr key={g.id} data-group={g.id}>
                    <td><a href={href("skill-groups", g.id)}>{g.name}</a></td>
                    <td class="num">{g.receptionLimit}</td>
                    <td class="member-names">{g.members.length === 0 ? <span class="muted">{tu("ui.none")}</span> : g.members.map((m) => m.name).join(", ")}</td>
                    <td class="actions">
                      <a class="btn btn-sm" href={href("skill-groups", g.id)}>{tg("groups.members")}</a>{" "}
                      <button type="button" class="btn btn-sm btn-ghost" onClick={() => setOpen({ kind: "edit", group: g })}>{tg("groups.edit")}</button>{" "}
                      <button type="button" class="btn btn-sm btn-ghost btn-danger" onClick={() => setOpen({ kind: "delete", group: g })}>{tu("ui.delete")}</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      {(open?.kind === "add" || open?.kind === "edit") && (
        <GroupForm
          group={open.kind === "edit" ? open.group : null}
          onClose={close}
          onSaved={() => {
            close();
            void groups.reload();
          }}
        />
      )}
      {open?.kind === "delete" && <ConfirmDelete name={open.group.name} action={() => call("DELETE", `/skill-groups/${open.group.id}`)} onClose={close} onDone={() => void groups.reload()} />}
    </>
  );
}

function GroupForm(props: { group: Group | null; onClose: () => void; onSaved: () => void }) {
  const g = props.group;
  const form = useForm();
  const [name, setName] = useState(g?.name ?? "");
  const [limit, setLimit] = useState(String(g?.receptionLimit ?? 5));
  // The queue's limits: a new group leaves them to the server's defaults unless changed.
  const [maxQueued, setMaxQueued] = useState(g ? String(g.maxQueued) : "");
  const [maxWait, setMaxWait] = useState(g ? String(g.maxQueueWaitSecs) : "");
  const [waitMessage, setWaitMessage] = useState(g?.queueWaitMessage ?? "");
  const [fullMessage, setFullMessage] = useState(g?.queueFullMessage ?? "");
  const save = async () => {
    const queue = {
      maxQueued: maxQueued.trim() === "" ? null : typedNumber(maxQueued),
      maxQueueWaitSecs: maxWait.trim() === "" ? null : typedNumber(maxWait),
      queueWaitMessage: waitMessage === "" ? null : waitMessage,
      queueFullMessage: fullMessage === "" ? null : fullMessage,
    };
    const saved = g
      ? await call<Group>("PATCH", `/skill-groups/${g.id}`, { name, receptionLimit: typedNumber(limit), ...queue } satisfies Schemas["GroupEdit"])
      : await call<Group>("POST", "/skill-groups", { name, receptionLimit: typedNumber(limit), ...queue } satisfies Schemas["NewGroup"]);
    toast(tg(g ? "groups.saved" : "groups.created", { name: saved.name }));
    props.onSaved();
  };
  const text = (name: string, label: string, value: string, set: (v: string) => void, hint?: string) => (
    <Field form={form} name={name} label={label} hint={hint}>
      {(c) => <input {...c} class="input" value={value} onInput={(e) => set(e.currentTarget.value)} autoComplete="off" />}
    </Field>
  );
  const number = (name: string, label: string, value: string, set: (v: string) => void, hint: string) => (
    <Field form={form} name={name} label={label} hint={hint}>
      {(c) => <input {...c} class="input narrow" type="number" inputMode="numeric" value={value} onInput={(e) => set(e.currentTarget.value)} />}
    </Field>
  );
  return (
    <Dialog title={g ? tg("groups.editTitle", { name: g.name }) : tg("groups.addTitle")} onClose={props.onClose} wide>
      <form class="stack" onSubmit={form.submit(save)} noValidate>
        {text("name", tg("groups.field.name"), name, setName)}
        {number("receptionLimit", tg("groups.field.limit"), limit, setLimit, tg("groups.field.limitHint"))}
        <fieldset class="fieldset">
          <legend>{tg("groups.queue")}</legend>
          <div class="row">
            {number("maxQueued", tg("groups.field.maxQueued"), maxQueued, setMaxQueued, tg("groups.field.maxQueuedHint"))}
            {number("maxQueueWaitSecs", tg("groups.field.maxWait"), maxWait, setMaxWait, tg("groups.field.maxWaitHint"))}
          </div>
          {text("queueWaitMessage", tg("groups.field.waitMessage"), waitMessage, setWaitMessage)}
          {text("queueFullMessage", tg("groups.field.fullMessage"), fullMessage, setFullMessage)}
        </fieldset>
        <FormError form={form} />
        <FormButtons form={form} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
