// Real-time monitoring: every skill group's queue and agents, every agent's status and load,
// and beyond the figures, why each waiting session waits (each member's reason, as routing
// sees them) and why each offer went to its agent (the decision the engine recorded).
// Polled every 2 s while the page is visible; the server scopes what a role sees.
import "./monitoring.css";
import { call, type Schemas } from "../../core/api";
import { duration, time } from "../../core/format";
import type { PageProps } from "../sections";
import { Loaded, PageHeader } from "../ui/kit";
import { usePoll, useResource } from "../ui/resource";
import { Decision, Refusals, statusText, type Names } from "../ui/routing/Decision";
import { tr as trRouting } from "../ui/routing/i18n";
import { tm } from "./i18n";

type Groups = Schemas["GroupsMonitor"];
type Agents = Schemas["AgentsMonitor"];
type Queue = Schemas["QueueMonitor"];

/** How often the page asks again (the "at least every 2 s"). */
const REFRESH_MS = 2_000;

export default function Page(_props: PageProps) {
  const groups = useResource(() => call<Groups>("GET", "/monitoring/groups"));
  const agents = useResource(() => call<Agents>("GET", "/monitoring/agents"));
  const queue = useResource(() => call<Queue>("GET", "/monitoring/queue"));
  usePoll(() => {
    void groups.reload();
    void agents.reload();
    void queue.reload();
  }, REFRESH_MS);
  const known = new Map((agents.data.value?.agents ?? []).map((a) => [a.agentId, a.nickname || a.name]));
  const name: Names = (id) => known.get(id) ?? `#${id}`;
  const groupName = (id: number | null | undefined) => (id == null ? tm("monitoring.direct") : groups.data.value?.groups.find((g) => g.skillGroupId === id)?.name ?? `#${id}`);
  const at = groups.data.value?.atMs;
  return (
    <>
      <PageHeader title={tm("monitoring.title")} intro={tm("monitoring.intro")}>
        {at != null && <span class="muted">{tm("monitoring.updated", { time: time(at) })}</span>}
      </PageHeader>
      <Loaded resource={groups}>{(g) => <Overview data={g} />}</Loaded>
      <div class="grid-2">
        <section class="card-box" aria-labelledby="mon-waiting">
          <h2 id="mon-waiting">{tm("monitoring.waiting")}</h2>
          <Loaded resource={queue}>{(q) => <Waiting data={q} name={name} />}</Loaded>
        </section>
        <section class="card-box" aria-labelledby="mon-offers">
          <h2 id="mon-offers">{tm("monitoring.liveOffers")}</h2>
          <Loaded resource={queue}>{(q) => <Offers data={q} name={name} groupName={groupName} />}</Loaded>
        </section>
      </div>
      <section class="card-box" aria-labelledby="mon-agents">
        <h2 id="mon-agents">{tm("monitoring.agents")}</h2>
        <Loaded resource={agents}>{(a) => <AgentTable data={a} groupName={groupName} />}</Loaded>
      </section>
    </>
  );
}

function Overview(props: { data: Groups }) {
  const d = props.data;
  const wait = (ms: number | null | undefined) => (ms == null ? "—" : duration(ms));
  return (
    <>
      <dl class="mon-totals">
        <div><dt>{tm("monitoring.total.queue")}</dt><dd data-figure="queue">{d.queueLength}</dd></div>
        <div><dt>{tm("monitoring.total.longest")}</dt><dd>{wait(d.longestWaitMs)}</dd></div>
        <div><dt>{tm("monitoring.total.inService")}</dt><dd>{d.inService}</dd></div>
        <div><dt>{tm("monitoring.total.free")}</dt><dd>{d.agents.free}</dd></div>
      </dl>
      <section class="card-box" aria-labelledby="mon-groups">
        <h2 id="mon-groups">{tm("monitoring.groups")}</h2>
        <table class="table compact mon-table">
          <thead>
            <tr>
              <th scope="col">{tm("monitoring.group")}</th>
              <th scope="col" class="num">{tm("monitoring.queue")}</th>
              <th scope="col" class="num">{tm("monitoring.longest")}</th>
              <th scope="col" class="num">{tm("monitoring.inService")}</th>
              <th scope="col" class="num">{tm("monitoring.capacity")}</th>
              <th scope="col">{tm("monitoring.members")}</th>
            </tr>
          </thead>
          <tbody>
            {d.groups.map((g) => (
              <tr key={g.skillGroupId} data-group={g.skillGroupId}>
                <th scope="row">{g.name}</th>
                <td class="num" data-figure="queue">{g.queueLength}</td>
                <td class="num">{wait(g.longestWaitMs)}</td>
                <td class="num">{g.inService}</td>
                <td class="num">{g.freeCapacity}</td>
                <td class="muted">
                  {tm("monitoring.byStatus", { free: g.agents.free, busy: g.agents.busy, rest: g.agents.rest, arrange: g.agents.arrange, notReady: g.agents.notReady, offline: g.agents.offline })}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function reason(m: Schemas["MemberReason"]): string {
  switch (m.reason) {
    case "not_free":
      return tm("monitoring.reason.not_free", { status: statusText(m.status) });
    case "at_limit":
      return tm("monitoring.reason.at_limit", { load: m.load, limit: m.limit });
    case "reserved":
      return tm("monitoring.reason.reserved", { load: m.load, pending: m.pending, limit: m.limit });
    case "next":
      return tm("monitoring.reason.next", { rule: m.rule ? trRouting(`routing.rule.${m.rule}`) : "" });
    default:
      return tm(`monitoring.reason.${m.reason}`);
  }
}

function Waiting(props: { data: Queue; name: Names }) {
  const waiting = props.data.groups.flatMap((g) => g.sessions.map((s) => ({ group: g, s })));
  if (waiting.length === 0) return <p class="muted empty-line">{tm("monitoring.noneWaiting")}</p>;
  return (
    <ul class="mon-list">
      {waiting.map(({ group, s }, i) => (
        <li key={s.sessionId} data-session={s.sessionId}>
          <div class="mon-line">
            <strong>{tm("monitoring.session", { id: s.sessionId })}</strong>
            <span class="muted">
              {tm("monitoring.inGroup", { group: group.name })} · {s.position === 0 ? tm("monitoring.first") : tm("monitoring.ahead", { n: s.position })} ·{" "}
              {tm("monitoring.wait")} {duration(s.waitMs)}
            </span>
          </div>
          <details open={i < 3}>
            <summary>{tm("monitoring.why")}</summary>
            {s.members.length === 0 ? (
              <p class="muted">{tm("monitoring.noMembers")}</p>
            ) : (
              <ul class="why">
                {s.members.map((m) => (
                  <li key={m.agentId} data-agent={m.agentId} data-reason={m.reason}>
                    <span class={`dot dot-${m.status || "offline"}`} aria-hidden="true" />
                    <span class="who">{props.name(m.agentId)}</span> <span class="muted">{reason(m)}</span>
                  </li>
                ))}
              </ul>
            )}
            <Refusals refused={s.refused} name={props.name} />
          </details>
        </li>
      ))}
    </ul>
  );
}

function Offers(props: { data: Queue; name: Names; groupName: (id: number | null | undefined) => string }) {
  const offers = props.data.offers;
  if (offers.length === 0) return <p class="muted empty-line">{tm("monitoring.noOffers")}</p>;
  const now = props.data.atMs;
  return (
    <ul class="mon-list">
      {offers.map((o) => (
        <li key={o.sessionId} data-offer={o.sessionId}>
          <div class="mon-line">
            <strong>{tm("monitoring.offerTo", { id: o.sessionId, agent: props.name(o.agentId) })}</strong>
            <span class="muted">
              {props.groupName(o.skillGroupId)} · {o.deadlineMs > now ? tm("monitoring.left", { time: duration(o.deadlineMs - now) }) : tm("monitoring.overdue")}
            </span>
          </div>
          <details open>
            <summary>{trRouting("routing.why")}</summary>
            <Decision decision={o.decision} name={props.name} />
          </details>
        </li>
      ))}
    </ul>
  );
}

function AgentTable(props: { data: Agents; groupName: (id: number) => string }) {
  const d = props.data;
  if (d.agents.length === 0) return <p class="muted empty-line">{tm("monitoring.noAgents")}</p>;
  return (
    <table class="table compact mon-table">
      <thead>
        <tr>
          <th scope="col">{tm("monitoring.agent")}</th>
          <th scope="col">{tm("monitoring.status")}</th>
          <th scope="col" class="num">{tm("monitoring.since")}</th>
          <th scope="col" class="num">{tm("monitoring.sessions")}</th>
          <th scope="col" class="num">{tm("monitoring.offers")}</th>
          <th scope="col">{tm("monitoring.groups")}</th>
        </tr>
      </thead>
      <tbody>
        {d.agents.map((a) => (
          <tr key={a.agentId} data-agent={a.agentId}>
            <th scope="row">
              {a.nickname || a.name} <span class="muted">{a.staffNo}</span>
            </th>
            <td data-status={a.status}>
              <span class={`dot dot-${a.status}`} aria-hidden="true" />
              {statusText(a.status)}
              {a.restReason ? ` · ${a.restReason}` : ""}
            </td>
            <td class="num">{a.statusSinceMs != null ? duration(d.atMs - a.statusSinceMs) : "—"}</td>
            <td class="num">{tm("monitoring.sessionsOf", { sessions: a.sessions, limit: a.receptionLimit })}</td>
            <td class="num">{a.offers}</td>
            <td class="muted">{a.skillGroupIds.map(props.groupName).join(", ")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
