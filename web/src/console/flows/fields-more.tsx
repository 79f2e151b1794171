// The fields of the three modules with nested lists: service time (weekly hours by weekday,
// time zone, dated exceptions), the interface call (parameters, response mapping) and the
// condition (ordered branches of rules with AND/OR, and the default).
import type { Schemas } from "../../core/api";
import { tf } from "./i18n";
import { freshPort, SYSTEM_PARAMS, type ModuleOf } from "./model";
import { renamedPort, type Set } from "./fields";
import { Choice, Num, PField, Rows, Template, Text, type Ctx } from "./widgets";

type Day = Schemas["Day"];
const DAYS: Day[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
type Range = Schemas["TimeRange"];

/** The zones the browser knows, for the time zone box's suggestions. */
function zones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  return intl.supportedValuesOf?.("timeZone") ?? ["UTC"];
}

function Hours(props: { ctx: Ctx; name: string; items: Range[]; onChange: (r: Range[]) => void; legend: string }) {
  const { ctx } = props;
  return (
    <Rows<Range>
      ctx={ctx} name={props.name} legend={props.legend} items={props.items} onChange={props.onChange}
      add={() => ({ from: "09:00", to: "18:00" })} addLabel={tf("flows.add.hours")} itemName={(i) => tf("flows.item.hours", { n: i + 1 })}
      row={(r, i, put) => (
        <div class="row">
          <Text ctx={ctx} name={`${props.name}[${i}].from`} label={tf("flows.f.from")} type="time" value={r.from} onInput={(from) => put({ ...r, from })} />
          <Text ctx={ctx} name={`${props.name}[${i}].to`} label={tf("flows.f.to")} type="text" hint={tf("flows.hint.to")} value={r.to} onInput={(to) => put({ ...r, to })} />
        </div>
      )}
    />
  );
}

export function ServiceTimeFields(props: { ctx: Ctx; m: ModuleOf<"service_time">; set: Set<ModuleOf<"service_time">> }) {
  const { ctx, m, set } = props;
  type Weekly = Schemas["WeeklyHours"];
  type Dated = Schemas["DatedHours"];
  return (
    <>
      <PField ctx={ctx} name="timeZone" label={tf("flows.f.timeZone")}>
        {(c) => (
          <>
            <input {...c} class="input" list="flow-zones" value={m.timeZone} onInput={(e) => set({ ...m, timeZone: e.currentTarget.value }, "timeZone")} />
            <datalist id="flow-zones">{zones().map((z) => <option key={z} value={z} />)}</datalist>
          </>
        )}
      </PField>
      <Rows<Weekly>
        ctx={ctx} name="weekly" legend={tf("flows.f.weekly")} items={m.weekly} onChange={(weekly) => set({ ...m, weekly }, "weekly")}
        add={() => ({ days: ["sat", "sun"], hours: [{ from: "10:00", to: "16:00" }] })} addLabel={tf("flows.add.weekly")}
        itemName={(i) => tf("flows.item.weekly", { n: i + 1 })}
        row={(w, i, put) => (
          <>
            <fieldset class={`fieldset days ${ctx.errors.some((e) => e.field === `weekly[${i}].days`) ? "invalid" : ""}`}>
              <legend>{tf("flows.f.days")}</legend>
              <div class="day-boxes">
                {DAYS.map((d) => (
                  <label key={d} class="check">
                    <input type="checkbox" disabled={ctx.readOnly} checked={w.days.includes(d)}
                      onChange={(e) => put({ ...w, days: e.currentTarget.checked ? DAYS.filter((x) => x === d || w.days.includes(x)) : w.days.filter((x) => x !== d) })} />
                    {tf(`flows.day.${d}`)}
                  </label>
                ))}
              </div>
              <Err ctx={ctx} name={`weekly[${i}].days`} />
            </fieldset>
            <Hours ctx={ctx} name={`weekly[${i}].hours`} legend={tf("flows.f.hours")} items={w.hours} onChange={(hours) => put({ ...w, hours })} />
          </>
        )}
      />
      <Rows<Dated>
        ctx={ctx} name="exceptions" legend={tf("flows.f.exceptions")} items={m.exceptions ?? []} onChange={(exceptions) => set({ ...m, exceptions }, "exceptions")}
        add={() => ({ date: new Date().toISOString().slice(0, 10), hours: [] })} addLabel={tf("flows.add.exception")}
        itemName={(i) => tf("flows.item.exception", { n: i + 1 })}
        row={(x, i, put) => (
          <>
            <Text ctx={ctx} name={`exceptions[${i}].date`} label={tf("flows.f.date")} type="date" value={x.date} onInput={(date) => put({ ...x, date })} />
            <Hours ctx={ctx} name={`exceptions[${i}].hours`} legend={tf("flows.f.exceptionHours")} items={x.hours ?? []} onChange={(hours) => put({ ...x, hours })} />
          </>
        )}
      />
    </>
  );
}

function Err(props: { ctx: Ctx; name: string }) {
  props.ctx.claimed.add(props.name);
  const mine = props.ctx.errors.filter((e) => e.field === props.name);
  return mine.length ? <span class="error-text">{mine.map((e) => e.message).join("; ")}</span> : null;
}

export function CallFields(props: { ctx: Ctx; m: ModuleOf<"interface_call">; set: Set<ModuleOf<"interface_call">> }) {
  const { ctx, m, set } = props;
  type Param = Schemas["CallParam"];
  type Field = Schemas["CallField"];
  return (
    <>
      <Text ctx={ctx} name="url" label={tf("flows.f.url")} type="url" mono value={m.url} onInput={(url) => set({ ...m, url }, "url")} />
      <div class="row">
        <Num ctx={ctx} name="timeoutMs" label={tf("flows.f.timeoutMs")} value={m.timeoutMs} hint={tf("flows.hint.timeoutMs")} onInput={(timeoutMs) => set({ ...m, timeoutMs }, "timeoutMs")} />
        <Num ctx={ctx} name="maxAttempts" label={tf("flows.f.maxAttempts")} value={m.maxAttempts} min={1} max={5} hint={tf("flows.hint.maxAttempts")}
          onInput={(maxAttempts) => set({ ...m, maxAttempts }, "maxAttempts")} />
      </div>
      <Rows<Param>
        ctx={ctx} name="params" legend={tf("flows.f.params")} items={m.params ?? []} onChange={(params) => set({ ...m, params }, "params")}
        add={() => ({ name: "", value: "" })} addLabel={tf("flows.add.param")} itemName={(i) => tf("flows.item.param", { n: i + 1 })}
        row={(p, i, put) => (
          <>
            <Text ctx={ctx} name={`params[${i}].name`} label={tf("flows.f.paramName")} mono value={p.name} onInput={(name) => put({ ...p, name })} />
            <Template ctx={ctx} name={`params[${i}].value`} label={tf("flows.f.paramValue")} rows={1} value={p.value} onInput={(value) => put({ ...p, value })} />
          </>
        )}
      />
      <Rows<Field>
        ctx={ctx} name="response" legend={tf("flows.f.response")} items={m.response ?? []} onChange={(response) => set({ ...m, response }, "response")}
        add={() => ({ field: "", variable: "", default: "" })} addLabel={tf("flows.add.field")} itemName={(i) => tf("flows.item.field", { n: i + 1 })}
        row={(f, i, put) => (
          <div class="row">
            <Text ctx={ctx} name={`response[${i}].field`} label={tf("flows.f.responseField")} mono value={f.field} onInput={(field) => put({ ...f, field })} />
            <Text ctx={ctx} name={`response[${i}].variable`} label={tf("flows.f.variable")} mono value={f.variable} onInput={(variable) => put({ ...f, variable })} />
            <Text ctx={ctx} name={`response[${i}].default`} label={tf("flows.f.default")} value={f.default ?? ""} onInput={(v) => put({ ...f, default: v })} />
          </div>
        )}
      />
    </>
  );
}

const OPS: [Schemas["Op"], string][] = [["eq", "="], ["ne", "≠"], ["gt", ">"], ["lt", "<"], ["ge", "≥"], ["le", "≤"]];

export function ConditionFields(props: { ctx: Ctx; m: ModuleOf<"condition">; set: Set<ModuleOf<"condition">> }) {
  const { ctx, m, set } = props;
  type Branch = Schemas["ConditionBranch"];
  type Rule = Schemas["Comparison"];
  const known = [...SYSTEM_PARAMS, ...ctx.variables];
  const setBranches = (branches: Branch[]) =>
    set({ ...m, branches }, "branches", renamedPort(m.branches.map((b) => b.port), branches.map((b) => b.port)));
  return (
    <>
      <datalist id="flow-vars">{known.map((v) => <option key={v} value={v} />)}</datalist>
      <Rows<Branch>
        ctx={ctx} name="branches" legend={tf("flows.f.branches")} items={m.branches} onChange={setBranches} ordered
        add={() => ({ port: freshPort(m.branches.map((b) => b.port), "branch"), combine: "all", conditions: [{ variable: "", op: "eq", value: "" }] })}
        addLabel={tf("flows.add.branch")} itemName={(i) => tf("flows.item.branch", { n: i + 1 })}
        row={(b, i, put) => (
          <>
            <div class="row">
              <Text ctx={ctx} name={`branches[${i}].port`} label={tf("flows.f.port")} mono value={b.port} onInput={(port) => put({ ...b, port })} />
              <Choice ctx={ctx} name={`branches[${i}].combine`} label={tf("flows.f.combine")} value={b.combine}
                options={[["all", tf("flows.combine.all")], ["any", tf("flows.combine.any")]]} onChange={(combine) => put({ ...b, combine })} />
            </div>
            <Rows<Rule>
              ctx={ctx} name={`branches[${i}].conditions`} legend={tf("flows.f.conditions")} items={b.conditions} onChange={(conditions) => put({ ...b, conditions })}
              add={() => ({ variable: "", op: "eq", value: "" })} addLabel={tf("flows.add.rule")} itemName={(j) => tf("flows.item.rule", { n: j + 1 })}
              row={(c, j, putRule) => (
                <div class="row rule">
                  <PField ctx={ctx} name={`branches[${i}].conditions[${j}].variable`} label={tf("flows.f.variable")}>
                    {(ctl) => <input {...ctl} class="input mono" list="flow-vars" value={c.variable} onInput={(e) => putRule({ ...c, variable: e.currentTarget.value })} />}
                  </PField>
                  <Choice ctx={ctx} name={`branches[${i}].conditions[${j}].op`} label={tf("flows.f.op")} value={c.op} options={OPS} onChange={(op) => putRule({ ...c, op })} />
                  <Text ctx={ctx} name={`branches[${i}].conditions[${j}].value`} label={tf("flows.f.value")} value={c.value} onInput={(value) => putRule({ ...c, value })} />
                </div>
              )}
            />
          </>
        )}
      />
      <p class="muted small">{tf("flows.condition.default")}</p>
    </>
  );
}
