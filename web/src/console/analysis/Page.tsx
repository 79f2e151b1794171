// Data analysis: the report of a date range in a chosen time zone (optionally one skill
// group) as charts per day and per skill group, or as tables; exported as CSV in the
// browser. A refused parameter (an unknown time zone) shows under its field.
import "./analysis.css";
import { signal } from "@preact/signals";
import { call, query, saveBlob, type Schemas } from "../../core/api";
import { duration, isoDay } from "../../core/format";
import { lang } from "../../core/i18n";
import type { PageProps } from "../sections";
import { Field, FormError, useForm } from "../ui/form";
import { PageHeader } from "../ui/kit";
import { useResource } from "../ui/resource";
import { Chart } from "./Chart";
import { en, ta } from "./i18n";

type Report = Schemas["ReportView"];
type Figures = Schemas["Figures"];

interface Params {
  from: string;
  to: string;
  timeZone: string;
  groupId: string;
  targetWaitS: string;
}

const DAY_MS = 86_400_000;
const params = signal<Params>({
  from: isoDay(Date.now() - 6 * DAY_MS),
  to: isoDay(Date.now()),
  timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
  groupId: "",
  targetWaitS: "20",
});
const report = signal<Report | null>(null);
const view = signal<"charts" | "table">("charts");

/** Zones offered in the picker besides the browser's own (any IANA name may be typed). */
const ZONES = ["UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "Asia/Tokyo", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles"];

function load(p: Params): Promise<Report> {
  return call<Report>("GET", `/analysis/report${query({ from: p.from, to: p.to, timeZone: p.timeZone, groupId: p.groupId || undefined, targetWaitS: p.targetWaitS || undefined })}`);
}

export function pct(v: number | null | undefined): string {
  return v == null ? "—" : new Intl.NumberFormat(lang.value, { style: "percent", maximumFractionDigits: 1 }).format(v);
}
const ms = (v: number | null | undefined) => (v == null ? "—" : v < 1_000 ? `${Math.round(v)} ms` : duration(v));
const num = (v: number | null | undefined, digits = 0) => (v == null ? "—" : new Intl.NumberFormat(lang.value, { maximumFractionDigits: digits }).format(v));

export default function Page(_props: PageProps) {
  const form = useForm();
  const groups = useResource(() => call<Schemas["GroupView"][]>("GET", "/skill-groups").catch(() => []));
  useResource(async () => {
    if (report.value === null) await form.run(async () => void (report.value = await load(params.value)));
  });
  const submit = (e: Event) => {
    const d = new FormData(e.currentTarget as HTMLFormElement);
    const p: Params = {
      from: String(d.get("from") ?? ""),
      to: String(d.get("to") ?? ""),
      timeZone: String(d.get("timeZone") ?? "").trim(),
      groupId: String(d.get("groupId") ?? ""),
      targetWaitS: String(d.get("targetWaitS") ?? "").trim(),
    };
    form.submit(async () => {
      report.value = await load(p);
      params.value = p;
    })(e);
  };
  const p = params.value;
  const r = report.value;
  return (
    <>
      <PageHeader title={ta("analysis.title")} intro={ta("analysis.intro")}>
        {r && (
          <button type="button" class="btn" onClick={() => exportCsv(r)}>{ta("analysis.csv")}</button>
        )}
      </PageHeader>
      <form class="card-box row an-filters" onSubmit={submit} noValidate>
        <Field form={form} name="from" label={ta("analysis.from")}>{(c) => <input {...c} class="input" name="from" type="date" defaultValue={p.from} />}</Field>
        <Field form={form} name="to" label={ta("analysis.to")}>{(c) => <input {...c} class="input" name="to" type="date" defaultValue={p.to} />}</Field>
        <Field form={form} name="timeZone" label={ta("analysis.timeZone")}>
          {(c) => (
            <>
              <input {...c} class="input" name="timeZone" list="an-zones" defaultValue={p.timeZone} autocomplete="off" />
              <datalist id="an-zones">{ZONES.map((z) => <option key={z} value={z} />)}</datalist>
            </>
          )}
        </Field>
        <Field form={form} name="groupId" label={ta("analysis.group")}>
          {(c) => (
            <select {...c} class="input" name="groupId" defaultValue={p.groupId}>
              <option value="">{ta("analysis.allGroups")}</option>
              {(groups.data.value ?? []).map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
            </select>
          )}
        </Field>
        <Field form={form} name="targetWaitS" label={ta("analysis.target")} hint={ta("analysis.targetHint")} class="an-target">
          {(c) => <input {...c} class="input" name="targetWaitS" type="number" min="0" defaultValue={p.targetWaitS} />}
        </Field>
        <div class="buttons">
          <button type="submit" class="btn btn-primary" disabled={form.busy.value}>{ta("analysis.show")}</button>
        </div>
        <FormError form={form} />
      </form>
      {r && <Result report={r} />}
    </>
  );
}

function Result(props: { report: Report }) {
  const r = props.report;
  const t = r.total;
  return (
    <>
      <div class="an-bar">
        <p class="an-total" data-total>
          {ta("analysis.total", { sessions: ta(new Intl.PluralRules(lang.value).select(t.sessions) === "one" ? "analysis.sessions.one" : "analysis.sessions.other", { count: t.sessions }), sl: pct(t.serviceLevel), ar: pct(t.abandonRate), wait: ms(t.avgWaitMs), rating: num(t.avgRating, 2) })}
        </p>
        <div class="an-switch" role="group" aria-label={ta("analysis.view")}>
          <button type="button" class="btn btn-sm" aria-pressed={view.value === "charts"} onClick={() => (view.value = "charts")}>{ta("analysis.charts")}</button>
          <button type="button" class="btn btn-sm" aria-pressed={view.value === "table"} onClick={() => (view.value = "table")}>{ta("analysis.table")}</button>
        </div>
      </div>
      {t.sessions === 0 && <p class="muted">{ta("analysis.noData")}</p>}
      {view.value === "charts" ? <Charts report={r} /> : <Tables report={r} />}
    </>
  );
}

const day = (d: string) => d.slice(5);
const groupLabel = (g: Schemas["GroupRow"]) => g.name ?? ta("analysis.noGroup");

function Charts(props: { report: Report }) {
  const r = props.report;
  const labels = r.days.map((d) => day(d.day));
  const groups = r.skillGroups.map(groupLabel);
  const levels = r.total.satisfaction;
  const perDay = (name: string, values: (number | null | undefined)[], color: string) => ({ name, values: values.map((v) => v ?? null), color });
  const byGroup = (name: keyof typeof en, values: (number | null | undefined)[], format: (v: number) => string, color: string, max?: number) => (
    <Chart title={`${ta("analysis.perGroup")}: ${ta(name)}`} axis={ta("analysis.group")} labels={groups} series={[perDay(ta(name), values, color)]} format={format} max={max} bars />
  );
  return (
    <div class="an-charts">
      <Chart title={ta("analysis.serviceLevel")} axis={ta("analysis.day")} labels={labels} series={[perDay(ta("analysis.serviceLevel"), r.days.map((d) => d.serviceLevel), "--accent")]} format={pct} max={1} />
      <Chart
        title={ta("analysis.wait")}
        axis={ta("analysis.day")}
        labels={labels}
        series={[perDay(ta("analysis.avgWait"), r.days.map((d) => d.avgWaitMs), "--accent"), perDay(ta("analysis.p90Wait"), r.days.map((d) => d.p90WaitMs), "--st-arrange")]}
        format={ms}
      />
      <Chart title={ta("analysis.handle")} axis={ta("analysis.day")} labels={labels} series={[perDay(ta("analysis.handle"), r.days.map((d) => d.avgHandleMs), "--st-free")]} format={ms} bars />
      <Chart title={ta("analysis.abandonRate")} axis={ta("analysis.day")} labels={labels} series={[perDay(ta("analysis.abandonRate"), r.days.map((d) => d.abandonRate), "--danger")]} format={pct} max={1} />
      {levels.length > 0 ? (
        <Chart
          title={ta("analysis.satisfaction")}
          axis={ta("analysis.rating")}
          labels={levels.map((l) => ta("analysis.level", { value: l.value, label: l.label }))}
          series={[perDay(ta("analysis.sessions"), levels.map((l) => l.sessions), "--st-rest")]}
          format={(v) => num(v)}
          bars
          whole
        />
      ) : (
        <figure class="chart"><figcaption>{ta("analysis.satisfaction")}</figcaption><p class="muted">{ta("analysis.noRatings")}</p></figure>
      )}
      {byGroup("analysis.serviceLevel", r.skillGroups.map((g) => g.serviceLevel), pct, "--accent", 1)}
      {byGroup("analysis.avgWait", r.skillGroups.map((g) => g.avgWaitMs), ms, "--st-arrange")}
      {byGroup("analysis.abandonRate", r.skillGroups.map((g) => g.abandonRate), pct, "--danger", 1)}
      {byGroup("analysis.handle", r.skillGroups.map((g) => g.avgHandleMs), ms, "--st-free")}
    </div>
  );
}

/** The columns of both tables and the CSV. */
const columns: [string, (f: Figures) => string][] = [
  [ta("analysis.sessions"), (f) => num(f.sessions)],
  [ta("analysis.answered"), (f) => num(f.answered)],
  [ta("analysis.abandoned"), (f) => num(f.abandoned)],
  [ta("analysis.serviceLevel"), (f) => pct(f.serviceLevel)],
  [ta("analysis.abandonRate"), (f) => pct(f.abandonRate)],
  [ta("analysis.avgWait"), (f) => ms(f.avgWaitMs)],
  [ta("analysis.p90Wait"), (f) => ms(f.p90WaitMs)],
  [ta("analysis.handle"), (f) => ms(f.avgHandleMs)],
  [ta("analysis.rated"), (f) => num(f.rated)],
  [ta("analysis.avgRating"), (f) => num(f.avgRating, 2)],
];

function Table(props: { caption: string; first: string; rows: { key: string; label: string; figures: Figures }[] }) {
  return (
    <table class="table compact an-table">
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">{props.first}</th>
          {columns.map(([name]) => <th key={name} scope="col" class="num">{name}</th>)}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr key={row.key} data-row={row.key}>
            <th scope="row">{row.label}</th>
            {columns.map(([name, cell]) => <td key={name} class="num">{cell(row.figures)}</td>)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Tables(props: { report: Report }) {
  const r = props.report;
  return (
    <div class="stack">
      <Table caption={ta("analysis.perDay")} first={ta("analysis.day")} rows={r.days.map((d) => ({ key: d.day, label: d.day, figures: d }))} />
      <Table caption={ta("analysis.perGroup")} first={ta("analysis.group")} rows={r.skillGroups.map((g) => ({ key: String(g.skillGroupId ?? "none"), label: groupLabel(g), figures: g }))} />
    </div>
  );
}

/** The report's day-by-group rows as CSV (raw numbers: ms and ratios, for spreadsheets). */
function exportCsv(r: Report): void {
  const names = new Map(r.skillGroups.map((g) => [g.skillGroupId ?? null, groupLabel(g)]));
  const head = ["day", "skillGroup", "sessions", "answered", "abandoned", "serviceLevel", "abandonRate", "avgWaitMs", "p90WaitMs", "avgHandleMs", "p90HandleMs", "rated", "avgRating"];
  const cell = (v: string | number | null | undefined) => {
    const s = v == null ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = r.rows.map((x) =>
    [x.day, names.get(x.skillGroupId ?? null) ?? "", x.sessions, x.answered, x.abandoned, x.serviceLevel, x.abandonRate, x.avgWaitMs, x.p90WaitMs, x.avgHandleMs, x.p90HandleMs, x.rated, x.avgRating].map(cell).join(","),
  );
  saveBlob(new Blob([[head.join(","), ...lines].join("\n") + "\n"], { type: "text/csv" }), `analysis-${r.from}-${r.to}.csv`);
}
