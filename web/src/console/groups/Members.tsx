// A skill group's members: each with its priority (1 highest to 5 lowest), changed in place;
// agents added with a priority (3 unless chosen) and removed.
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { href } from "../router";
import { Field, FormError, useForm } from "../ui/form";
import { Loaded, PageHeader } from "../ui/kit";
import { tu } from "../ui/i18n";
import { checked, toApiError, useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { tg } from "./i18n";

type Group = Schemas["GroupView"];

const PRIORITIES = [1, 2, 3, 4, 5] as const;
const DEFAULT_PRIORITY = 3;

function priorityLabel(p: number): string {
  if (p === 1) return tg("groups.priority.1");
  if (p === 5) return tg("groups.priority.5");
  return String(p);
}

function PriorityOptions() {
  return (
    <>
      {PRIORITIES.map((p) => (
        <option key={p} value={String(p)}>{priorityLabel(p)}</option>
      ))}
    </>
  );
}

export function Members(props: { id: number }) {
  const group = useResource(() => call<Group>("GET", `/skill-groups/${props.id}`), [props.id]);
  const agents = useResource(() => call<Schemas["AgentView"][]>("GET", "/agents"), []);
  const apply = (g: Group) => {
    group.data.value = g;
  };
  const setPriority = async (m: Schemas["Member"], priority: number) => {
    try {
      apply(await call<Group>("PUT", `/skill-groups/${props.id}/members/${m.agentId}`, { priority } satisfies Schemas["MemberPriority"]));
      toast(tg("groups.prioritySet", { name: m.name, priority }));
    } catch (e) {
      toast(toApiError(checked(e)).message, "error");
      void group.reload();
    }
  };
  const remove = async (m: Schemas["Member"]) => {
    try {
      apply(await call<Group>("DELETE", `/skill-groups/${props.id}/members/${m.agentId}`));
      toast(tg("groups.removed", { name: m.name }));
      // The row went with the focused button: the keyboard resumes at the agent picker.
      document.querySelector<HTMLElement>(".add-member select")?.focus();
    } catch (e) {
      toast(toApiError(checked(e)).message, "error");
    }
  };
  return (
    <>
      <p class="back"><a href={href("skill-groups")}>← {tg("groups.back")}</a></p>
      <Loaded resource={group}>
        {(g) => (
          <>
            <PageHeader title={tg("groups.membersTitle", { name: g.name })} intro={tg("groups.membersIntro")} />
            <AddMember group={g} agents={(agents.data.value ?? []).filter((a) => !a.deleted && !g.members.some((m) => m.agentId === a.id))} onAdded={apply} />
            {g.members.length === 0 ? (
              <p class="empty card-box">{tg("groups.noMembers")}</p>
            ) : (
              <table class="table members-table">
                <thead>
                  <tr>
                    <th scope="col">{tg("groups.col.agent")}</th>
                    <th scope="col">{tg("groups.col.priority")}</th>
                    <th scope="col" class="actions">{tu("ui.actions")}</th>
                  </tr>
                </thead>
                <tbody>
                  {g.members.map((m) => (
                    <tr key={m.agentId} data-agent={m.agentId}>
                      <td>{m.name}</td>
                      <td>
                        <select class="input narrow" aria-label={tg("groups.priorityOf", { name: m.name })} value={String(m.priority)} onChange={(e) => void setPriority(m, Number(e.currentTarget.value))}>
                          <PriorityOptions />
                        </select>
                      </td>
                      <td class="actions">
                        <button type="button" class="btn btn-sm btn-ghost btn-danger" aria-label={tg("groups.removeOf", { name: m.name })} onClick={() => void remove(m)}>{tg("groups.remove")}</button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </Loaded>
    </>
  );
}

function AddMember(props: { group: Group; agents: Schemas["AgentView"][]; onAdded: (g: Group) => void }) {
  const form = useForm();
  const [agent, setAgent] = useState("");
  const [priority, setPriority] = useState(String(DEFAULT_PRIORITY));
  const add = async () => {
    const chosen = props.agents.find((a) => String(a.id) === agent);
    const g = await call<Group>("PUT", `/skill-groups/${props.group.id}/members/${agent || 0}`, { priority: Number(priority) } satisfies Schemas["MemberPriority"]);
    props.onAdded(g);
    toast(tg("groups.added", { name: chosen?.name ?? agent }));
    setAgent("");
    setPriority(String(DEFAULT_PRIORITY));
  };
  return (
    <form class="card-box add-member" onSubmit={form.submit(add)} aria-label={tg("groups.addMember")} noValidate>
      <div class="row">
        <Field form={form} name="agentId" label={tg("groups.field.agent")}>
          {(c) => (
            <select {...c} class="input" value={agent} onChange={(e) => setAgent(e.currentTarget.value)}>
              <option value="">{props.agents.length === 0 ? tg("groups.allIn") : tg("groups.pickAgent")}</option>
              {props.agents.map((a) => (
                <option key={a.id} value={String(a.id)}>{a.name} ({a.staffNo})</option>
              ))}
            </select>
          )}
        </Field>
        <Field form={form} name="priority" label={tg("groups.field.priority")} class="narrow-field">
          {(c) => (
            <select {...c} class="input" value={priority} onChange={(e) => setPriority(e.currentTarget.value)}>
              <PriorityOptions />
            </select>
          )}
        </Field>
        <button type="submit" class="btn btn-primary" disabled={form.busy.value || agent === ""}>{tg("groups.addMember")}</button>
      </div>
      <FormError form={form} />
    </form>
  );
}
