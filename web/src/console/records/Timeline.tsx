// A session's life from the log, in words: each entry's kind and fields said in the page's
// language, offers with their routing decision.
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { userLabel } from "../../core/format";
import { lang } from "../../core/i18n";
import { Loaded } from "../ui/kit";
import { useResource } from "../ui/resource";
import { Decision, type Names } from "../ui/routing/Decision";
import { trec } from "./i18n";

type Entry = Schemas["TimelineEntry"];

export interface Lookup {
  agent: Names;
  group: (id: number | null | undefined) => string;
  channel: (id: number | null | undefined) => string;
  /** A flow's name, and a node's label in it (its id when it has none or is gone). */
  flow: (id: number | null | undefined) => string;
  node: (flow: number | null | undefined, node: string) => string;
}

/** A clock time with seconds: a session's events are seconds apart. */
function time(ms: number): string {
  return new Date(ms).toLocaleTimeString(lang.value, { hour: "numeric", minute: "2-digit", second: "2-digit" });
}

/** One entry as a sentence. */
export function sentence(e: Entry, n: Lookup): string {
  const agent = n.agent(e.agentId ?? 0);
  const group = n.group(e.groupId);
  const at = (ms: number | null | undefined) => (ms == null ? "—" : time(ms));
  switch (e.kind) {
    case "created":
      return e.lastAgentId != null
        ? trec("rec.tl.createdLast", { user: userLabel(e.userId ?? ""), channel: n.channel(e.channelId), agent: n.agent(e.lastAgentId) })
        : trec("rec.tl.created", { user: userLabel(e.userId ?? ""), channel: n.channel(e.channelId) });
    case "started_by_agent":
      return trec("rec.tl.started_by_agent", { agent, group, time: at(e.deadlineMs) });
    case "flow_step":
      return trec("rec.tl.flow_step", { flow: n.flow(e.flowId), version: e.version ?? "", node: n.node(e.flowId, e.node ?? "") });
    case "flow_call":
      return trec("rec.tl.flow_call", { attempt: e.attempt ?? 1 });
    case "flow_call_answered":
      return e.error != null ? trec("rec.tl.flow_call_failed", { attempt: e.attempt ?? 1, error: e.error }) : trec("rec.tl.flow_call_answered", { attempt: e.attempt ?? 1 });
    case "flow_human_requested":
      return trec("rec.tl.flow_human_requested", { group });
    case "flow_finished":
      return trec("rec.tl.flow_finished");
    case "reply_timeout_set":
      return trec("rec.tl.reply_timeout_set", { secs: e.secs ?? 0 });
    case "queued":
      return trec(`rec.tl.queued.${e.queueCause ?? "new"}`, { group, agent: n.agent(e.fromAgentId ?? 0) });
    case "queue_deadline_set":
      return trec("rec.tl.queue_deadline_set", { time: at(e.deadlineMs) });
    case "offered":
      return e.groupId != null ? trec("rec.tl.offered", { agent, group, time: at(e.deadlineMs) }) : trec("rec.tl.offeredDirect", { agent, time: at(e.deadlineMs) });
    case "assigned":
      return e.groupId != null ? trec("rec.tl.assigned", { agent, group }) : trec("rec.tl.assignedDirect", { agent });
    case "accepted":
      return trec("rec.tl.accepted", { agent });
    case "offer_missed":
      return trec(`rec.tl.offer_missed.${e.missCause ?? "timeout"}`, { agent });
    case "offer_overdue":
      return trec("rec.tl.offer_overdue", { agent });
    case "transferred":
      return e.groupId != null
        ? trec("rec.tl.transferredGroup", { by: n.agent(e.byAgentId ?? 0), group })
        : trec("rec.tl.transferredAgent", { by: n.agent(e.byAgentId ?? 0), agent });
    case "user_message":
      return trec("rec.tl.user_message");
    case "agent_message":
      return trec("rec.tl.agent_message", { agent });
    case "queue_timed_out":
      return trec("rec.tl.queue_timed_out", { group });
    case "queue_refused":
      return trec("rec.tl.queue_refused", { group, limit: e.limit ?? 0 });
    case "rating_invited":
      return e.agentId != null ? trec("rec.tl.rating_invited", { agent }) : trec("rec.tl.rating_invitedNobody");
    case "rated":
      return trec("rec.tl.rated", { value: e.value ?? 0, label: e.label ?? "" });
    case "ended":
      return trec("rec.tl.ended", { by: trec(`rec.closeBy.${e.closeBy ?? "client"}`) });
  }
}

const isMessage = (e: Entry) => e.kind === "user_message" || e.kind === "agent_message";

export function Timeline(props: { id: number; names: Lookup }) {
  const r = useResource(() => call<Schemas["Timeline"]>("GET", `/records/${props.id}/timeline`), [props.id]);
  const [messages, setMessages] = useState(false);
  return (
    <section class="card-box rec-timeline" aria-labelledby="rec-tl-title">
      <div class="rec-tl-head">
        <h2 id="rec-tl-title">{trec("rec.timeline")}</h2>
        <label class="check">
          <input type="checkbox" checked={messages} onChange={(e) => setMessages(e.currentTarget.checked)} />
          {trec("rec.showMessages")}
        </label>
      </div>
      <Loaded resource={r}>
        {(tl) => (
          <>
            <ol class="timeline">
              {tl.entries
                .filter((e) => messages || !isMessage(e))
                .map((e) => (
                  <li key={e.seq} data-kind={e.kind}>
                    <time class="muted">{time(e.atMs)}</time>
                    <div>
                      <span>{sentence(e, props.names)}</span>
                      {e.decision && <Decision decision={e.decision} name={props.names.agent} />}
                    </div>
                  </li>
                ))}
            </ol>
            {tl.truncated && <p class="muted">{trec("rec.truncated")}</p>}
          </>
        )}
      </Loaded>
    </section>
  );
}
