// One agent of the list: live status, identity, role, groups and what may be done to it.
import type { Schemas } from "../../core/api";
import { tu } from "../ui/i18n";
import { ta } from "./i18n";
import { roleLabel } from "./options";

/** What monitoring says of an agent now. */
export interface Live {
  status: string;
  sessions: number;
}

const STATUSES = ["offline", "free", "busy", "rest", "arrange", "not_ready"] as const;
type Status = (typeof STATUSES)[number];

function known(s: string): s is Status {
  return (STATUSES as readonly string[]).includes(s);
}

export type Action = "edit" | "reset" | "force" | "resume" | "delete";

/** `live`: what monitoring says; null when it does not list the agent; undefined when the
 *  caller's role cannot read monitoring at all (no dot is shown then, rather than a guess). */
export function AgentRow(props: { agent: Schemas["AgentView"]; live: Live | null | undefined; self: boolean; onAction: (a: Action) => void }) {
  const a = props.agent;
  const status = props.live && known(props.live.status) ? props.live.status : null;
  const label = status ? ta(`agents.status.${status}`) : ta("agents.status.unknown");
  return (
    <tr class={a.deleted ? "agent-deleted" : ""} data-agent={a.id}>
      <td class="agent-status">
        {props.live !== undefined && !a.deleted ? (
          <span title={props.live && props.live.sessions > 0 ? ta("agents.status.sessions", { count: props.live.sessions }) : undefined}>
            <span class={`dot dot-${status ?? "offline"}`} aria-hidden="true" />
            <span class="status-text">{label}</span>
          </span>
        ) : null}
        {a.forcedOffline && <span class="badge badge-warn">{ta("agents.forcedOffline")}</span>}
        {a.deleted && <span class="badge badge-danger">{ta("agents.deleted")}</span>}
      </td>
      <td>
        <div class="agent-name">{a.name}</div>
        <div class="muted small">{a.email}</div>
      </td>
      <td>{a.nickname}</td>
      <td class="mono">{a.staffNo}</td>
      <td>{roleLabel(a.roleId, a.roleName)}</td>
      <td>{a.skillGroups.length === 0 ? <span class="muted">{tu("ui.none")}</span> : a.skillGroups.map((g) => g.name).join(", ")}</td>
      <td class="actions">
        {!a.deleted && (
          <div class="row-actions" role="group" aria-label={ta("agents.more", { name: a.name })}>
            <button type="button" class="btn btn-sm" onClick={() => props.onAction("edit")}>{ta("agents.edit")}</button>
            {!props.self && (
              <>
                <button type="button" class="btn btn-sm btn-ghost" onClick={() => props.onAction("reset")}>{ta("agents.resetPassword")}</button>
                {a.forcedOffline ? (
                  <button type="button" class="btn btn-sm btn-ghost" onClick={() => props.onAction("resume")}>{ta("agents.resume")}</button>
                ) : (
                  <button type="button" class="btn btn-sm btn-ghost" onClick={() => props.onAction("force")}>{ta("agents.forceOffline")}</button>
                )}
                <button type="button" class="btn btn-sm btn-ghost btn-danger" onClick={() => props.onAction("delete")}>{tu("ui.delete")}</button>
              </>
            )}
          </div>
        )}
      </td>
    </tr>
  );
}
