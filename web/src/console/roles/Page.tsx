// Roles and permissions: the built-in administrator and agent roles and the app's own, each
// with the modules it opens and over which skill groups; who holds each; create, edit,
// delete (the server refuses a role someone still holds, and says so in the dialog).
import "./roles.css";
import { useRef, useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { Dialog } from "../../core/Dialog";
import { ta } from "../agents/i18n";
import { AGENT_ROLE, roleLabel } from "../agents/options";
import type { PageProps } from "../sections";
import { Field, FormError, useForm } from "../ui/form";
import { ConfirmDelete, Loaded, PageHeader } from "../ui/kit";
import { tu } from "../ui/i18n";
import { useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { tro } from "./i18n";
import { MODULES } from "./modules";
import { RoleForm } from "./RoleForm";

type Role = Schemas["RoleView"];
type Open = { kind: "add" } | { kind: "edit" | "members" | "delete"; role: Role };

const ADMINISTRATOR = 1;

export default function Page(_props: PageProps) {
  const roles = useResource(() => call<Role[]>("GET", "/roles"), []);
  const groups = useResource(() => call<Schemas["GroupView"][]>("GET", "/skill-groups"), []);
  const [open, setOpen] = useState<Open | null>(null);
  const close = () => setOpen(null);
  const groupName = (id: number) => groups.data.value?.find((g) => g.id === id)?.name ?? String(id);
  const modules = (r: Role) => {
    if (r.id === ADMINISTRATOR) return <span>{tro("roles.allModules")}</span>;
    if (r.scopes.length === 0) return <span class="muted">{tro("roles.noModules")}</span>;
    const ordered = MODULES.flatMap((m) => r.scopes.filter((s) => s.module === m));
    return (
      <ul class="scope-list">
        {ordered.map((s) => (
          <li key={s.module}>
            <span class="badge">
              {tro(`roles.module.${s.module}`)}
              {s.groups && ` · ${s.groups.length === 0 ? tu("ui.none") : s.groups.map(groupName).join(", ")}`}
            </span>
          </li>
        ))}
      </ul>
    );
  };
  return (
    <>
      <PageHeader title={tro("roles.title")} intro={tro("roles.intro")}>
        <button type="button" class="btn btn-primary" onClick={() => setOpen({ kind: "add" })}>{tro("roles.add")}</button>
      </PageHeader>
      <Loaded resource={roles}>
        {(list) => (
          <table class="table roles-table">
            <thead>
              <tr>
                <th scope="col">{tro("roles.col.name")}</th>
                <th scope="col">{tro("roles.col.modules")}</th>
                <th scope="col" class="num">{tro("roles.col.members")}</th>
                <th scope="col" class="actions">{tu("ui.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.id} data-role={r.id}>
                  <td>
                    <span class="role-name">{roleLabel(r.id, r.name)}</span> {r.builtIn && <span class="badge">{tro("roles.builtIn")}</span>}
                  </td>
                  <td>{modules(r)}</td>
                  <td class="num">{r.holders}</td>
                  <td class="actions">
                    <button type="button" class="btn btn-sm" onClick={() => setOpen({ kind: "edit", role: r })}>{r.builtIn ? tro("roles.view") : tro("roles.edit")}</button>{" "}
                    <button type="button" class="btn btn-sm btn-ghost" onClick={() => setOpen({ kind: "members", role: r })}>{tro("roles.members")}</button>{" "}
                    {!r.builtIn && <button type="button" class="btn btn-sm btn-ghost btn-danger" onClick={() => setOpen({ kind: "delete", role: r })}>{tu("ui.delete")}</button>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
      {(open?.kind === "add" || open?.kind === "edit") && (
        <RoleForm
          role={open.kind === "edit" ? open.role : null}
          groups={groups.data.value ?? []}
          onClose={close}
          onSaved={() => {
            close();
            void roles.reload();
          }}
        />
      )}
      {open?.kind === "members" && <Members role={open.role} onClose={close} onChanged={() => void roles.reload()} />}
      {open?.kind === "delete" && <ConfirmDelete name={open.role.name} action={() => call("DELETE", `/roles/${open.role.id}`)} onClose={close} onDone={() => void roles.reload()} />}
    </>
  );
}

/**
 * The accounts holding a role, from the agents list filtered by it. A custom role is given
 * to an agent here (the seed picks a new role's members) and taken back to the agent role.
 */
function Members(props: { role: Role; onClose: () => void; onChanged: () => void }) {
  const r = props.role;
  const all = useResource(() => call<Schemas["AgentView"][]>("GET", "/agents"), []);
  const form = useForm();
  const [pick, setPick] = useState("");
  const name = roleLabel(r.id, r.name);
  // The row of a member taken back goes away with its button: the focus then goes to the
  // picker, so the keyboard stays in the dialog (and Escape still closes it).
  const box = useRef<HTMLDivElement>(null);
  const setRole = (a: Schemas["AgentView"], roleId: number, done: string) =>
    form.run(async () => {
      await call("PATCH", `/agents/${a.id}`, { roleId } satisfies Schemas["AgentEdit"]);
      toast(done);
      setPick("");
      await all.reload();
      props.onChanged();
      box.current?.querySelector<HTMLElement>("select, button")?.focus();
    });
  return (
    <Dialog title={tro("roles.membersTitle", { name })} onClose={props.onClose} wide>
      <Loaded resource={all}>
        {(agents) => {
          const members = agents.filter((a) => a.roleId === r.id && !a.deleted);
          const others = agents.filter((a) => a.roleId !== r.id && !a.deleted);
          return (
            <div class="stack" ref={box}>
              {!r.builtIn && (
                <form
                  class="row"
                  noValidate
                  onSubmit={(e) => {
                    e.preventDefault();
                    const a = others.find((x) => String(x.id) === pick);
                    if (a) void setRole(a, r.id, tro("roles.member.given", { name: a.name, role: name }));
                  }}
                >
                  <Field form={form} name="roleId" label={tro("roles.member.add")}>
                    {(c) => (
                      <select {...c} class="input" value={pick} onChange={(e) => setPick(e.currentTarget.value)}>
                        <option value="">{tro("roles.member.pick")}</option>
                        {others.map((a) => <option key={a.id} value={String(a.id)}>{a.name} ({a.staffNo})</option>)}
                      </select>
                    )}
                  </Field>
                  <button type="submit" class="btn btn-primary" aria-disabled={pick === "" || form.busy.value}>{tro("roles.member.give")}</button>
                </form>
              )}
              <FormError form={form} />
              {members.length === 0 ? (
                <p class="muted">{tro("roles.noMembers")}</p>
              ) : (
                <table class="table compact">
                  <thead>
                    <tr>
                      <th scope="col">{ta("agents.col.name")}</th>
                      <th scope="col">{ta("agents.col.email")}</th>
                      {!r.builtIn && <th scope="col" class="actions">{tu("ui.actions")}</th>}
                    </tr>
                  </thead>
                  <tbody>
                    {members.map((a) => (
                      <tr key={a.id}>
                        <td>{a.name} <span class="muted mono">{a.staffNo}</span></td>
                        <td>{a.email}</td>
                        {!r.builtIn && (
                          <td class="actions">
                            <button type="button" class="btn btn-sm btn-ghost" aria-label={tro("roles.member.removeOf", { name: a.name })} onClick={() => void setRole(a, AGENT_ROLE, tro("roles.member.removed", { name: a.name }))}>
                              {tro("roles.member.remove")}
                            </button>
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          );
        }}
      </Loaded>
      <div class="buttons">
        <button type="button" class="btn btn-primary" onClick={props.onClose}>{tu("ui.close")}</button>
      </div>
    </Dialog>
  );
}
