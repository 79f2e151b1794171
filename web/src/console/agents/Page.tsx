// Agents: the desk's accounts with their live status, found by search and filters, added one
// by one or by CSV, edited, deleted, their passwords reset, forced offline and resumed.
import "./agents.css";
import { useRef, useState } from "preact/hooks";
import { api, ApiError, call, query, type Schemas } from "../../core/api";
import type { PageProps } from "../sections";
import { Dialog } from "../../core/Dialog";
import { Confirm, ConfirmDelete, Copyable, CsvImport, Loaded, PageHeader, SecretOnce } from "../ui/kit";
import { tu } from "../ui/i18n";
import { checked, toApiError, usePoll, useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { AgentForm } from "./AgentForm";
import { ta } from "./i18n";
import { loadOptions } from "./options";
import { AgentRow, type Live } from "./Row";

type Agent = Schemas["AgentView"];

/** Live status is read this often (the seed's monitoring refreshes every few seconds). */
const LIVE_MS = 3000;

type Open =
  | { kind: "add" }
  | { kind: "edit" | "reset" | "force" | "delete"; agent: Agent }
  | { kind: "secret"; title: string; secret: string; note: string }
  | { kind: "imported"; created: Schemas["CreatedAgent"][] };

export default function Page(_props: PageProps) {
  const [q, setQ] = useState("");
  const [group, setGroup] = useState("");
  const [role, setRole] = useState("");
  const [deleted, setDeleted] = useState(false);
  const [importing, setImporting] = useState(false);
  const [open, setOpen] = useState<Open | null>(null);
  const agents = useResource(
    () => call<Agent[]>("GET", `/agents${query({ q: q.trim(), skillGroupId: group, roleId: role, includeDeleted: deleted ? "true" : null })}`),
    [q, group, role, deleted],
  );
  // Every agent the caller sees, unfiltered: the roles and groups the form and filters offer.
  // One's own account: the server refuses to reset, force offline or delete it, so the list
  // does not offer those on its row.
  const me = useResource(() => api.me(), []);
  const options = useResource(async () => loadOptions(await call<Agent[]>("GET", "/agents")), []);
  // A role without the monitoring module cannot read live status (403): the list shows
  // none then, and stops asking.
  const noLive = useRef(false);
  const live = useResource(async () => {
    try {
      const m = await call<Schemas["AgentsMonitor"]>("GET", "/monitoring/agents");
      return new Map<number, Live>(m.agents.map((x) => [x.agentId, { status: x.status, sessions: x.sessions }]));
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) noLive.current = true;
      return new Map<number, Live>();
    }
  }, []);
  usePoll(() => void (noLive.current || live.reload()), LIVE_MS);
  const changed = () => {
    void agents.reload();
    void options.reload();
    void live.reload();
  };
  const close = () => setOpen(null);
  // Lifting a block needs no confirmation.
  const resume = async (a: Agent) => {
    try {
      await call("POST", `/agents/${a.id}/resume`);
      toast(ta("agents.resumed", { name: a.name }));
      changed();
    } catch (e) {
      toast(toApiError(checked(e)).message, "error");
    }
  };
  const opts = options.data.value ?? { roles: [], groups: [] };

  return (
    <>
      <PageHeader title={ta("agents.title")} intro={ta("agents.intro")}>
        <button type="button" class="btn" aria-expanded={importing} aria-controls="agents-import" onClick={() => setImporting(!importing)}>{ta("agents.import")}</button>
        <button type="button" class="btn btn-primary" onClick={() => setOpen({ kind: "add" })} disabled={options.data.value === null}>{ta("agents.add")}</button>
      </PageHeader>
      {importing && (
        <section class="card-box" id="agents-import" aria-label={ta("agents.import")}>
          <p class="muted">{ta("agents.importIntro")}</p>
          <CsvImport<Schemas["ImportedAgents"]>
            templatePath="/agents/import-template"
            templateName="agents-template.csv"
            uploadPath="/agents/import"
            count={(x) => x.created.length}
            onImported={(x) => {
              changed();
              if (x.created.some((c) => c.password)) setOpen({ kind: "imported", created: x.created });
            }}
          />
        </section>
      )}
      <div class="toolbar" role="search">
        <input class="input agents-search" type="search" aria-label={ta("agents.search")} placeholder={ta("agents.searchPlaceholder")} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        <select class="input" aria-label={ta("agents.filterGroup")} value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
          <option value="">{ta("agents.anyGroup")}</option>
          {opts.groups.map((g) => <option key={g.id} value={String(g.id)}>{g.name}</option>)}
        </select>
        <select class="input" aria-label={ta("agents.filterRole")} value={role} onChange={(e) => setRole(e.currentTarget.value)}>
          <option value="">{ta("agents.anyRole")}</option>
          {opts.roles.map((r) => <option key={r.id} value={String(r.id)}>{r.name}</option>)}
        </select>
        <label class="check">
          <input type="checkbox" checked={deleted} onChange={(e) => setDeleted(e.currentTarget.checked)} />
          {ta("agents.showDeleted")}
        </label>
        <span class="spacer" />
        {agents.data.value && <span class="muted" aria-live="polite">{ta("agents.count", { count: agents.data.value.length })}</span>}
      </div>
      <Loaded resource={agents}>
        {(list) =>
          list.length === 0 ? (
            <p class="empty card-box">{ta("agents.none")}</p>
          ) : (
            <table class="table agents-table">
              <thead>
                <tr>
                  <th scope="col">{ta("agents.col.status")}</th>
                  <th scope="col">{ta("agents.col.nameEmail")}</th>
                  <th scope="col">{ta("agents.col.nickname")}</th>
                  <th scope="col">{ta("agents.col.staffNo")}</th>
                  <th scope="col">{ta("agents.col.role")}</th>
                  <th scope="col">{ta("agents.col.groups")}</th>
                  <th scope="col" class="actions">{tu("ui.actions")}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((a) => (
                  <AgentRow key={a.id} agent={a} self={me.data.value?.agentId === a.id} live={noLive.current ? undefined : (live.data.value?.get(a.id) ?? null)} onAction={(kind) => (kind === "resume" ? void resume(a) : setOpen({ kind, agent: a }))} />
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      {open?.kind === "add" || open?.kind === "edit" ? (
        <AgentForm
          agent={open.kind === "edit" ? open.agent : null}
          options={opts}
          onClose={close}
          onSaved={(created) => {
            changed();
            if (created?.password) setOpen({ kind: "secret", title: ta("agents.firstPassword", { name: created.agent.name }), secret: created.password, note: ta("agents.passwordNote", { email: created.agent.email }) });
            else {
              if (created?.emailedTo) toast(ta("agents.emailed", { email: created.emailedTo }));
              close();
            }
          }}
        />
      ) : null}
      {open?.kind === "reset" && (
        <Confirm
          title={ta("agents.resetTitle", { name: open.agent.name })}
          text={ta("agents.resetText")}
          confirmLabel={ta("agents.resetPassword")}
          action={async () => {
            const a = open.agent;
            const r = await call<Schemas["PasswordReset"]>("POST", `/agents/${a.id}/password-reset`);
            changed();
            // Confirm closes itself after the action: the secret opens on the next turn.
            setTimeout(() => {
              if (r.password) setOpen({ kind: "secret", title: ta("agents.newPassword", { name: a.name }), secret: r.password, note: ta("agents.passwordNote", { email: a.email }) });
              else if (r.emailedTo) toast(ta("agents.emailed", { email: r.emailedTo }));
            });
          }}
          onClose={close}
        />
      )}
      {open?.kind === "force" && (
        <Confirm
          title={ta("agents.forceTitle", { name: open.agent.name })}
          text={ta("agents.forceText")}
          confirmLabel={ta("agents.forceOffline")}
          danger
          action={async () => {
            await call("POST", `/agents/${open.agent.id}/force-offline`);
            toast(ta("agents.forced", { name: open.agent.name }));
            changed();
          }}
          onClose={close}
        />
      )}
      {open?.kind === "delete" && (
        <ConfirmDelete name={open.agent.name} action={() => call("DELETE", `/agents/${open.agent.id}`)} onClose={close} onDone={changed} />
      )}
      {open?.kind === "secret" && <SecretOnce title={open.title} label={ta("agents.password")} secret={open.secret} note={open.note} onClose={close} />}
      {open?.kind === "imported" && <Imported created={open.created} onClose={close} />}
    </>
  );
}

/** The imported agents' first passwords, shown once, copyable as "email,password" lines. */
function Imported(props: { created: Schemas["CreatedAgent"][]; onClose: () => void }) {
  const text = props.created.map((c) => `${c.agent.email},${c.password ?? c.emailedTo ?? ""}`).join("\n");
  return (
    <Dialog title={ta("agents.imported")} onClose={props.onClose} wide>
      <div class="stack">
        <p class="alert alert-info">{ta("agents.importedNote")}</p>
        <table class="table compact">
          <thead>
            <tr>
              <th scope="col">{ta("agents.col.name")}</th>
              <th scope="col">{ta("agents.col.email")}</th>
              <th scope="col">{ta("agents.password")}</th>
            </tr>
          </thead>
          <tbody>
            {props.created.map((c) => (
              <tr key={c.agent.id}>
                <td>{c.agent.name}</td>
                <td>{c.agent.email}</td>
                <td class="mono">{c.password ?? ta("agents.emailed", { email: c.emailedTo ?? "" })}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Copyable label={ta("agents.imported")} value={text} multiline />
        <div class="buttons">
          <button type="button" class="btn btn-primary" onClick={props.onClose}>{tu("ui.close")}</button>
        </div>
      </div>
    </Dialog>
  );
}
