// Service records: filters (dates, skill group, agent, keyword), the list, and one record's
// transcript with the keyword's messages marked beside its timeline from the log. A refused
// filter shows the server's message under the field it names.
import "./records.css";
import { signal } from "@preact/signals";
import { call, query, type RecordQuery, type Schemas } from "../../core/api";
import { dateTime, duration, isoDay, userLabel } from "../../core/format";
import type { PageProps } from "../sections";
import { href } from "../router";
import { Field, FormError, useForm } from "../ui/form";
import { PageHeader } from "../ui/kit";
import { useResource } from "../ui/resource";
import { Detail } from "./Detail";
import { trec } from "./i18n";
import type { Lookup } from "./Timeline";

interface Filters {
  from: string;
  to: string;
  group: string;
  agent: string;
  keyword: string;
}

/** Kept while the console is open, so going from a record back to the list keeps them. */
const applied = signal<Filters>({ from: "", to: "", group: "", agent: "", keyword: "" });
const page = signal<Schemas["RecordPage"] | null>(null);

const DAY_MS = 86_400_000;

function request(f: Filters, cursor?: string): RecordQuery {
  const q: RecordQuery = {};
  // The days are the browser's: from its midnight to the midnight after the last day.
  if (f.from) q.from = String(new Date(`${f.from}T00:00:00`).getTime());
  if (f.to) q.to = String(new Date(`${f.to}T00:00:00`).getTime() + DAY_MS);
  if (f.group) q.groupId = Number(f.group);
  if (f.agent) q.agentId = Number(f.agent);
  if (f.keyword.trim()) q.keyword = f.keyword.trim();
  if (cursor) q.cursor = cursor;
  return q;
}

const list = (q: RecordQuery) => call<Schemas["RecordPage"]>("GET", `/records${query(q)}`);

export default function Page(props: PageProps) {
  const form = useForm();
  // Names for ids: a role without the agents module gets 403 there, and sees numbers.
  const agents = useResource(() => call<Schemas["AgentView"][]>("GET", "/agents").catch(() => []));
  const groups = useResource(() => call<Schemas["GroupView"][]>("GET", "/skill-groups").catch(() => []));
  const channels = useResource(() => call<Schemas["ChannelView"][]>("GET", "/channels").catch(() => []));
  const flows = useResource(() => call<Schemas["FlowView"][]>("GET", "/flows").catch(() => []));
  useResource(async () => {
    if (page.value === null) await form.run(async () => void (page.value = await list(request(applied.value))));
  });
  const agentName = new Map((agents.data.value ?? []).map((a) => [a.id, a.nickname || a.name]));
  const groupName = new Map((groups.data.value ?? []).map((g) => [g.id, g.name]));
  const channelName = new Map((channels.data.value ?? []).map((c) => [c.id, c.name]));
  const flowById = new Map((flows.data.value ?? []).map((f) => [f.id, f]));
  const names: Lookup = {
    agent: (id) => agentName.get(id) ?? `#${id}`,
    group: (id) => (id == null ? "—" : groupName.get(id) ?? `#${id}`),
    channel: (id) => (id == null ? "—" : channelName.get(id) ?? `#${id}`),
    flow: (id) => (id == null ? "—" : flowById.get(id)?.name ?? `#${id}`),
    // The latest version's label: a node keeps its id across versions.
    node: (flow, node) => (flow == null ? node : flowById.get(flow)?.graph.nodes.find((x) => x.id === node)?.label || node),
  };
  const open = props.path[0] ? Number(props.path[0]) : null;
  const submit = (e: Event) => {
    const d = new FormData(e.currentTarget as HTMLFormElement);
    const f: Filters = {
      from: String(d.get("from") ?? ""),
      to: String(d.get("to") ?? ""),
      group: String(d.get("groupId") ?? ""),
      agent: String(d.get("agentId") ?? ""),
      keyword: String(d.get("keyword") ?? ""),
    };
    form.submit(async () => {
      page.value = await list(request(f));
      applied.value = f;
    })(e);
  };
  const more = async (cursor: string) => {
    const next = await list(request(applied.value, cursor));
    page.value = { records: [...(page.value?.records ?? []), ...next.records], nextCursor: next.nextCursor ?? null };
  };
  const f = applied.value;
  return (
    <>
      <PageHeader title={trec("rec.title")} intro={trec("rec.intro")} />
      <form class="card-box row rec-filters" onSubmit={submit} noValidate>
        <Field form={form} name="from" label={trec("rec.from")}>{(c) => <input {...c} class="input" name="from" type="date" max={isoDay(Date.now())} defaultValue={f.from} />}</Field>
        <Field form={form} name="to" label={trec("rec.to")}>{(c) => <input {...c} class="input" name="to" type="date" defaultValue={f.to} />}</Field>
        <Field form={form} name="groupId" label={trec("rec.group")}>
          {(c) => (
            <select {...c} class="input" name="groupId" defaultValue={f.group}>
              <option value="">{trec("rec.any")}</option>
              {(groups.data.value ?? []).map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
            </select>
          )}
        </Field>
        <Field form={form} name="agentId" label={trec("rec.agent")}>
          {(c) => (
            <select {...c} class="input" name="agentId" defaultValue={f.agent}>
              <option value="">{trec("rec.any")}</option>
              {(agents.data.value ?? []).filter((a) => !a.deleted).map((a) => <option key={a.id} value={a.id}>{a.nickname || a.name}</option>)}
            </select>
          )}
        </Field>
        <Field form={form} name="keyword" label={trec("rec.keyword")} hint={trec("rec.keywordHint")} class="rec-keyword">
          {(c) => <input {...c} class="input" name="keyword" type="search" defaultValue={f.keyword} />}
        </Field>
        <div class="buttons">
          <button type="submit" class="btn btn-primary" disabled={form.busy.value}>{trec("rec.search")}</button>
        </div>
        <FormError form={form} />
      </form>
      {open != null ? <Detail id={open} keyword={f.keyword.trim()} names={names} /> : <RecordTable open={open} names={names} more={more} />}
    </>
  );
}

function RecordTable(props: { open: number | null; names: Lookup; more: (cursor: string) => Promise<void> }) {
  const p = page.value;
  if (p === null) return null;
  if (p.records.length === 0) return <p class="empty card-box">{trec("rec.none")}</p>;
  const compact = props.open != null;
  return (
    <div>
      <table class="table compact rec-table">
        <thead>
          <tr>
            <th scope="col">{trec("rec.started")}</th>
            <th scope="col">{trec("rec.user")}</th>
            {!compact && <th scope="col">{trec("rec.group")}</th>}
            <th scope="col">{trec("rec.agents")}</th>
            {!compact && <th scope="col" class="num">{trec("rec.wait")}</th>}
            {!compact && <th scope="col" class="num">{trec("rec.duration")}</th>}
            {!compact && <th scope="col">{trec("rec.endedBy")}</th>}
            <th scope="col">{trec("rec.rating")}</th>
          </tr>
        </thead>
        <tbody>
          {p.records.map((r) => (
            <tr key={r.sessionId} data-session={r.sessionId} class={props.open === r.sessionId ? "on" : ""}>
              <td>
                <a href={href("records", r.sessionId)} aria-current={props.open === r.sessionId ? "true" : undefined}>{dateTime(r.createdAtMs)}</a>
              </td>
              <td title={r.userId}>{userLabel(r.userId)}</td>
              {!compact && <td>{props.names.group(r.skillGroupId)}</td>}
              <td>{r.agentIds.map(props.names.agent).join(", ") || "—"}</td>
              {!compact && <td class="num">{r.queueWaitMs != null ? duration(r.queueWaitMs) : "—"}</td>}
              {!compact && <td class="num">{r.endedAtMs == null ? trec("rec.live") : r.handleTimeMs != null ? duration(r.handleTimeMs) : "—"}</td>}
              {!compact && <td>{r.closeBy ? trec(`rec.closeBy.${r.closeBy}`) : "—"}</td>}
              <td>{r.satisfaction ? `${r.satisfaction.value} · ${r.satisfaction.label}` : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {p.nextCursor && (
        <button type="button" class="btn rec-more" onClick={() => p.nextCursor && void props.more(p.nextCursor)}>{trec("rec.more")}</button>
      )}
    </div>
  );
}
