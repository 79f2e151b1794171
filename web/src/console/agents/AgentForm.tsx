// Adding or editing an agent: the server checks every field and its refusal lands under the
// field it names (a taken staff number, a malformed email). Staff number and email are the
// account's identity and stay as made (the edit API takes neither).
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { Dialog } from "../../core/Dialog";
import { Field, FieldSet, FormButtons, FormError, useForm } from "../ui/form";
import { toast } from "../ui/toast";
import { ta } from "./i18n";
import { AGENT_ROLE, type Options } from "./options";

export function AgentForm(props: { agent: Schemas["AgentView"] | null; options: Options; onClose: () => void; onSaved: (created: Schemas["CreatedAgent"] | null) => void }) {
  const a = props.agent;
  const form = useForm();
  const [name, setName] = useState(a?.name ?? "");
  const [nickname, setNickname] = useState(a?.nickname ?? "");
  const [staffNo, setStaffNo] = useState(a?.staffNo ?? "");
  const [email, setEmail] = useState(a?.email ?? "");
  const [roleId, setRoleId] = useState<number>(a?.roleId ?? props.options.roles.find((r) => r.id === AGENT_ROLE)?.id ?? props.options.roles[0]?.id ?? 2);
  const [groups, setGroups] = useState<number[]>(a?.skillGroups.map((g) => g.id) ?? []);
  const toggle = (id: number, on: boolean) => setGroups(on ? [...groups, id] : groups.filter((g) => g !== id));
  const save = async () => {
    if (a) {
      const body: Schemas["AgentEdit"] = { name, nickname, roleId, skillGroupIds: groups };
      const saved = await call<Schemas["AgentView"]>("PATCH", `/agents/${a.id}`, body);
      toast(ta("agents.saved", { name: saved.name }));
      props.onSaved(null);
    } else {
      const body: Schemas["NewAgent"] = { name, nickname, staffNo, email, roleId, skillGroupIds: groups };
      const created = await call<Schemas["CreatedAgent"]>("POST", "/agents", body);
      toast(ta("agents.created", { name: created.agent.name }));
      props.onSaved(created);
    }
  };
  return (
    <Dialog title={a ? ta("agents.editTitle", { name: a.name }) : ta("agents.addTitle")} onClose={props.onClose}>
      <form class="stack" onSubmit={form.submit(save)} noValidate>
        <div class="row">
          <Field form={form} name="name" label={ta("agents.field.name")}>
            {(c) => <input {...c} class="input" value={name} onInput={(e) => setName(e.currentTarget.value)} autoComplete="off" />}
          </Field>
          <Field form={form} name="nickname" label={ta("agents.field.nickname")} hint={ta("agents.field.nicknameHint")}>
            {(c) => <input {...c} class="input" value={nickname} onInput={(e) => setNickname(e.currentTarget.value)} autoComplete="off" />}
          </Field>
        </div>
        <div class="row">
          <Field form={form} name="staffNo" label={ta("agents.field.staffNo")} hint={a ? ta("agents.field.fixed") : ta("agents.field.staffNoHint")}>
            {(c) => <input {...c} class="input" value={staffNo} readOnly={a !== null} onInput={(e) => setStaffNo(e.currentTarget.value)} autoComplete="off" />}
          </Field>
          <Field form={form} name="email" label={ta("agents.field.email")} hint={a ? ta("agents.field.fixed") : ta("agents.field.emailHint")}>
            {(c) => <input {...c} class="input" type="email" value={email} readOnly={a !== null} onInput={(e) => setEmail(e.currentTarget.value)} autoComplete="off" />}
          </Field>
        </div>
        <Field form={form} name="roleId" label={ta("agents.field.role")}>
          {(c) => (
            <select {...c} class="input" value={String(roleId)} onChange={(e) => setRoleId(Number(e.currentTarget.value))}>
              {props.options.roles.map((r) => (
                <option key={r.id} value={String(r.id)}>{r.name}</option>
              ))}
            </select>
          )}
        </Field>
        <FieldSet form={form} name="skillGroupIds" legend={ta("agents.field.groups")}>
          {props.options.groups.length === 0 && <span class="muted">{ta("agents.field.noGroups")}</span>}
          <div class="check-grid">
            {props.options.groups.map((g) => (
              <label key={g.id} class="check">
                <input type="checkbox" checked={groups.includes(g.id)} onChange={(e) => toggle(g.id, e.currentTarget.checked)} />
                {g.name}
              </label>
            ))}
          </div>
        </FieldSet>
        <FormError form={form} />
        <FormButtons form={form} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
