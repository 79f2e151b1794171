// A flow's saved versions, newest first: view one on a read-only canvas, or restore it (its
// graph saved again as a new version; sessions running older versions finish them).
import { call, type Schemas } from "../../core/api";
import { Dialog } from "../../core/Dialog";
import { dateTime } from "../../core/format";
import { FormError, useForm } from "../ui/form";
import { Loaded } from "../ui/kit";
import { useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { tf } from "./i18n";

type Version = Schemas["FlowVersionView"];

export function Versions(props: { flow: number; current: number; onClose: () => void; onView: (v: Version) => void; onRestored: () => void }) {
  const list = useResource(() => call<Version[]>("GET", `/flows/${props.flow}/versions`), [props.flow]);
  const form = useForm();
  const restore = (v: Version) =>
    form.run(async () => {
      const saved = await call<Schemas["FlowView"]>("PUT", `/flows/${props.flow}`, { name: v.name, graph: v.graph });
      toast(tf("flows.restored", { old: v.version, version: saved.version }));
      props.onRestored();
    });
  return (
    <Dialog title={tf("flows.versions")} onClose={props.onClose} wide>
      <Loaded resource={list}>
        {(vs) => (
          <table class="table compact">
            <thead>
              <tr>
                <th scope="col">{tf("flows.col.version")}</th>
                <th scope="col">{tf("flows.col.name")}</th>
                <th scope="col">{tf("flows.col.savedAt")}</th>
                <th scope="col" class="actions"><span class="sr-only">{tf("flows.col.actions")}</span></th>
              </tr>
            </thead>
            <tbody>
              {[...vs].reverse().map((v) => (
                <tr key={v.version}>
                  <td>{v.version}{v.version === props.current ? <span class="badge badge-ok">{tf("flows.current")}</span> : null}</td>
                  <td>{v.name}</td>
                  <td>{dateTime(v.savedAtMs)}</td>
                  <td class="actions">
                    <button type="button" class="btn btn-sm" onClick={() => props.onView(v)} aria-label={tf("flows.version.view", { version: v.version })}>{tf("flows.view")}</button>{" "}
                    {v.version !== props.current && (
                      <button type="button" class="btn btn-sm" disabled={form.busy.value} onClick={() => void restore(v)} aria-label={tf("flows.version.restore", { version: v.version })}>
                        {tf("flows.restore")}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
      <FormError form={form} />
    </Dialog>
  );
}
