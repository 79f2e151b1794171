// Rest reasons: added, renamed, enabled and disabled (the server keeps every reason, so a
// record of an old break still names it; disabling only stops offering it).
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { Dialog } from "../../core/Dialog";
import { Field, FormButtons, FormError, useForm } from "../ui/form";
import { Loaded } from "../ui/kit";
import { tu } from "../ui/i18n";
import { checked, toApiError, useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { ts } from "./i18n";

type Reason = Schemas["RestReason"];

export function RestReasons() {
  const reasons = useResource(() => call<Reason[]>("GET", "/settings/rest-reasons"), []);
  const [renaming, setRenaming] = useState<Reason | null>(null);
  const toggle = async (r: Reason) => {
    try {
      const saved = await call<Reason>("PATCH", `/settings/rest-reasons/${r.id}`, { enabled: !r.enabled } satisfies Schemas["RestReasonEdit"]);
      toast(ts(saved.enabled ? "settings.rest.nowEnabled" : "settings.rest.nowDisabled", { name: saved.name }));
      void reasons.reload();
    } catch (e) {
      toast(toApiError(checked(e)).message, "error");
    }
  };
  return (
    <section class="card-box" aria-labelledby="settings-rest">
      <h2 id="settings-rest">{ts("settings.rest")}</h2>
      <p class="muted">{ts("settings.rest.intro")}</p>
      <Loaded resource={reasons}>
        {(list) =>
          list.length === 0 ? (
            <p class="muted">{ts("settings.rest.none")}</p>
          ) : (
            <table class="table compact rest-table">
              <thead>
                <tr>
                  <th scope="col">{ts("settings.rest.name")}</th>
                  <th scope="col">{ts("settings.rest.state")}</th>
                  <th scope="col" class="actions">{tu("ui.actions")}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((r) => (
                  <tr key={r.id}>
                    <td>{r.name}</td>
                    <td><span class={r.enabled ? "badge badge-on" : "badge"}>{r.enabled ? ts("settings.rest.enabled") : ts("settings.rest.disabled")}</span></td>
                    <td class="actions">
                      <button type="button" class="btn btn-sm btn-ghost" onClick={() => setRenaming(r)}>{ts("settings.rest.rename")}</button>
                      <button type="button" class="btn btn-sm btn-ghost" onClick={() => void toggle(r)}>{r.enabled ? ts("settings.rest.disable") : ts("settings.rest.enable")}</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      <AddReason onAdded={() => void reasons.reload()} />
      {renaming && (
        <Rename
          reason={renaming}
          onClose={() => setRenaming(null)}
          onSaved={() => {
            setRenaming(null);
            void reasons.reload();
          }}
        />
      )}
    </section>
  );
}

function AddReason(props: { onAdded: () => void }) {
  const form = useForm();
  const [name, setName] = useState("");
  const add = async () => {
    const made = await call<Reason>("POST", "/settings/rest-reasons", { name } satisfies Schemas["NewRestReason"]);
    setName("");
    toast(ts("settings.rest.added", { name: made.name }));
    props.onAdded();
  };
  return (
    <form class="rest-add" onSubmit={form.submit(add)} noValidate aria-label={ts("settings.rest.add")}>
      <div class="row">
        <Field form={form} name="name" label={ts("settings.rest.new")}>
          {(c) => <input {...c} class="input" value={name} onInput={(e) => setName(e.currentTarget.value)} autoComplete="off" />}
        </Field>
        <button type="submit" class="btn" aria-disabled={form.busy.value}>{ts("settings.rest.add")}</button>
      </div>
      <FormError form={form} />
    </form>
  );
}

function Rename(props: { reason: Reason; onClose: () => void; onSaved: () => void }) {
  const form = useForm();
  const [name, setName] = useState(props.reason.name);
  const save = async () => {
    const saved = await call<Reason>("PATCH", `/settings/rest-reasons/${props.reason.id}`, { name } satisfies Schemas["RestReasonEdit"]);
    toast(ts("settings.rest.renamed", { name: saved.name }));
    props.onSaved();
  };
  return (
    <Dialog title={ts("settings.rest.renameTitle", { name: props.reason.name })} onClose={props.onClose}>
      <form class="stack" onSubmit={form.submit(save)} noValidate>
        <Field form={form} name="name" label={ts("settings.rest.name")}>
          {(c) => <input {...c} class="input" value={name} onInput={(e) => setName(e.currentTarget.value)} autoComplete="off" />}
        </Field>
        <FormError form={form} />
        <FormButtons form={form} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
