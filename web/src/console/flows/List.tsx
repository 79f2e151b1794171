// The list of flows: name, version, when saved and the channels bound; create one (start
// connected to end, then the editor opens), delete one (the server refuses while a channel
// binds it, and the dialog shows its words).
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { Dialog } from "../../core/Dialog";
import { dateTime } from "../../core/format";
import { go, href } from "../router";
import { Field, FormError, useForm } from "../ui/form";
import { tu } from "../ui/i18n";
import { ConfirmDelete, Loaded } from "../ui/kit";
import { useResource } from "../ui/resource";
import { tf } from "./i18n";
import { newGraph } from "./model";

type FlowView = Schemas["FlowView"];

export function FlowList(props: { creating: boolean; onCreated: () => void }) {
  const flows = useResource(() => call<FlowView[]>("GET", "/flows"), []);
  // Channels are another module: a role without it sees channel ids instead of names.
  const channels = useResource(() => call<Schemas["ChannelView"][]>("GET", "/channels").catch(() => [] as Schemas["ChannelView"][]), []);
  const [deleting, setDeleting] = useState<FlowView | null>(null);
  const channelName = (id: number) => channels.data.value?.find((c) => c.id === id)?.name ?? `#${id}`;
  return (
    <>
      <Loaded resource={flows}>
        {(list) =>
          list.length === 0 ? (
            <p class="empty">{tf("flows.empty")}</p>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{tf("flows.col.name")}</th>
                  <th scope="col" class="num">{tf("flows.col.version")}</th>
                  <th scope="col">{tf("flows.col.savedAt")}</th>
                  <th scope="col">{tf("flows.col.channels")}</th>
                  <th scope="col" class="actions"><span class="sr-only">{tf("flows.col.actions")}</span></th>
                </tr>
              </thead>
              <tbody>
                {list.map((f) => (
                  <tr key={f.id}>
                    <td><a href={href("flows", f.id)}>{f.name}</a></td>
                    <td class="num">{f.version}</td>
                    <td>{dateTime(f.savedAtMs)}</td>
                    <td>{f.channels.length === 0 ? <span class="muted">{tu("ui.none")}</span> : f.channels.map(channelName).join(", ")}</td>
                    <td class="actions">
                      <a class="btn btn-sm" href={href("flows", f.id)} aria-label={tf("flows.openNamed", { name: f.name })}>{tf("flows.open")}</a>{" "}
                      <button type="button" class="btn btn-sm btn-danger" aria-label={tf("flows.deleteNamed", { name: f.name })} onClick={() => setDeleting(f)}>{tu("ui.delete")}</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      {props.creating && <CreateFlow onClose={props.onCreated} />}
      {deleting && (
        <ConfirmDelete
          name={deleting.name}
          action={() => call("DELETE", `/flows/${deleting.id}`)}
          onClose={() => setDeleting(null)}
          onDone={() => void flows.reload()}
        />
      )}
    </>
  );
}

function CreateFlow(props: { onClose: () => void }) {
  const form = useForm();
  const [name, setName] = useState("");
  return (
    <Dialog title={tf("flows.new")} onClose={props.onClose}>
      <form
        class="stack"
        onSubmit={form.submit(async () => {
          const made = await call<FlowView>("POST", "/flows", { name, graph: newGraph() });
          props.onClose();
          go(["flows", made.id]);
        })}
      >
        <Field form={form} name="name" label={tf("flows.name")} hint={tf("flows.new.hint")}>
          {(c) => <input {...c} class="input" value={name} onInput={(e) => setName(e.currentTarget.value)} autofocus />}
        </Field>
        <FormError form={form} />
        <div class="buttons">
          <button type="button" class="btn" onClick={props.onClose}>{tu("ui.cancel")}</button>
          <button type="submit" class="btn btn-primary" disabled={form.busy.value}>{tf("flows.create")}</button>
        </div>
      </form>
    </Dialog>
  );
}
