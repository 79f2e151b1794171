// A role's name and its modules, each on or off and over all skill groups or chosen ones
// (the seed's "data analysis over group A"). A built-in role opens read-only: the server
// refuses any change to it.
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { Dialog } from "../../core/Dialog";
import { roleLabel } from "../agents/options";
import { Field, FieldSet, FormButtons, FormError, useForm } from "../ui/form";
import { tu } from "../ui/i18n";
import { toast } from "../ui/toast";
import { tro } from "./i18n";
import { MODULES, type Module } from "./modules";

type Scope = Schemas["ModuleScope"];

export function RoleForm(props: { role: Schemas["RoleView"] | null; groups: Schemas["GroupView"][]; onClose: () => void; onSaved: () => void }) {
  const r = props.role;
  const readOnly = r?.builtIn ?? false;
  const form = useForm();
  const [name, setName] = useState(r?.name ?? "");
  const [scopes, setScopes] = useState<Scope[]>(r?.scopes ?? []);
  const scopeOf = (m: Module) => scopes.find((s) => s.module === m) ?? null;
  const put = (m: Module, next: Scope | null) =>
    setScopes(MODULES.flatMap((x) => (x === m ? (next ? [next] : []) : scopes.filter((s) => s.module === x))));
  const save = async () => {
    const body: Schemas["RoleInput"] = { name, scopes };
    const saved = r ? await call<Schemas["RoleView"]>("PUT", `/roles/${r.id}`, body) : await call<Schemas["RoleView"]>("POST", "/roles", body);
    toast(tro(r ? "roles.saved" : "roles.created", { name: saved.name }));
    props.onSaved();
  };
  if (r && readOnly) return <BuiltIn role={r} onClose={props.onClose} />;
  const title = r ? tro("roles.editTitle", { name: r.name }) : tro("roles.addTitle");
  return (
    <Dialog title={title} onClose={props.onClose} wide>
      <form class="stack" onSubmit={form.submit(save)} noValidate>
          <div class="stack">
            <Field form={form} name="name" label={tro("roles.field.name")}>
              {(c) => <input {...c} class="input" value={name} onInput={(e) => setName(e.currentTarget.value)} autoComplete="off" />}
            </Field>
            <FieldSet form={form} name="scopes" legend={tro("roles.field.modules")}>
              <ul class="module-list">
                {MODULES.map((m) => (
                  <ModuleRow key={m} module={m} scope={scopeOf(m)} groups={props.groups} onChange={(s) => put(m, s)} />
                ))}
              </ul>
            </FieldSet>
          </div>
        <FormError form={form} />
        <FormButtons form={form} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

function ModuleRow(props: { module: Module; scope: Scope | null; groups: Schemas["GroupView"][]; onChange: (s: Scope | null) => void }) {
  const m = props.module;
  const s = props.scope;
  const label = tro(`roles.module.${m}`);
  const chosen = s?.groups ?? null;
  const id = `module-${m}`;
  return (
    <li class="module-row">
      <label class="check module-on">
        <input type="checkbox" checked={s !== null} onChange={(e) => props.onChange(e.currentTarget.checked ? { module: m, groups: null } : null)} />
        {label}
      </label>
      {s && (
        <div class="module-scope" role="radiogroup" aria-label={tro("roles.scopeOf", { module: label })}>
          <label class="check">
            <input type="radio" name={`${id}-range`} checked={chosen === null} onChange={() => props.onChange({ module: m, groups: null })} />
            {tro("roles.allGroups")}
          </label>
          <label class="check">
            <input type="radio" name={`${id}-range`} checked={chosen !== null} onChange={() => props.onChange({ module: m, groups: [] })} />
            {tro("roles.someGroups")}
          </label>
          {chosen !== null && (
            <div class="module-groups" role="group" aria-label={tro("roles.scopeOf", { module: label })}>
              {props.groups.length === 0 && <span class="muted">{tro("roles.noGroups")}</span>}
              {props.groups.map((g) => (
                <label key={g.id} class="check">
                  <input
                    type="checkbox"
                    aria-label={`${label}: ${g.name}`}
                    checked={chosen.includes(g.id)}
                    onChange={(e) => props.onChange({ module: m, groups: e.currentTarget.checked ? [...chosen, g.id] : chosen.filter((x) => x !== g.id) })}
                  />
                  {g.name}
                </label>
              ))}
            </div>
          )}
        </div>
      )}
    </li>
  );
}

/** A built-in role: what it opens, with nothing to change (the server refuses any change). */
function BuiltIn(props: { role: Schemas["RoleView"]; onClose: () => void }) {
  const r = props.role;
  return (
    <Dialog title={tro("roles.viewTitle", { name: roleLabel(r.id, r.name) })} onClose={props.onClose}>
      <div class="stack">
        <p class="alert alert-info">{tro("roles.builtInNote")}</p>
        <ul class="module-list">
          {MODULES.map((m) => {
            const on = r.scopes.some((s) => s.module === m);
            return (
              <li key={m} class="module-row">
                <span>{tro(`roles.module.${m}`)}</span>
                <span class={on ? "badge badge-on" : "badge"}>{on ? tro("roles.allGroups") : tu("ui.no")}</span>
              </li>
            );
          })}
        </ul>
        <div class="buttons">
          <button type="button" class="btn btn-primary" onClick={props.onClose}>{tu("ui.close")}</button>
        </div>
      </div>
    </Dialog>
  );
}
