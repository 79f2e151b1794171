// Satisfaction configurations: the scale (stars or numbers, 1-10 labelled levels), the
// invitation and thank-you texts, how long an invitation can be answered, the three send
// rules, and which channels use each one (bound in the channel's own form).
import "./satisfaction.css";
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { href } from "../router";
import type { PageProps } from "../sections";
import { ActionsHead, EditorDialog, focusHeading, RowActions } from "../ui/editor";
import { Field, FieldSet, useForm } from "../ui/form";
import { ConfirmDelete, Loaded, PageHeader } from "../ui/kit";
import { useResource } from "../ui/resource";
import { t } from "./i18n";

type Config = Schemas["SatisfactionConfig"];
// The console always sends its levels (the API defaults them to five when absent).
type Input = Schemas["SatisfactionInput"] & { levels: Schemas["LevelInput"][] };
type Rules = Input["sendRules"];

/** The desk's Android client draws exactly this many levels. */
const ANDROID_LEVELS = 5;
const MAX_LEVELS = 10;

const UNITS = { minutes: 60, hours: 3600, days: 86400 } as const;
type Unit = keyof typeof UNITS;

/** The largest unit the period is a whole number of, so 86400 s reads "1 day". */
function splitPeriod(secs: number): { amount: number; unit: Unit } {
  for (const unit of ["days", "hours", "minutes"] as const) if (secs > 0 && secs % UNITS[unit] === 0) return { amount: secs / UNITS[unit], unit };
  return { amount: secs / 60, unit: "minutes" };
}

const RULES: (keyof Rules)[] = ["autoOnEnd", "agentMayInvite", "userMayRate"];

function fresh(): Input {
  return {
    name: "",
    kind: "star",
    levels: [1, 2, 3, 4, 5].map((value) => ({ value, label: t(`sat.default${value as 1 | 2 | 3 | 4 | 5}`) })),
    invitationText: t("sat.defaultInvitation"),
    thankYouText: t("sat.defaultThanks"),
    validitySecs: 86400,
    sendRules: { autoOnEnd: true, agentMayInvite: true, userMayRate: false },
  };
}

function AndroidBadge(props: { levels: number }) {
  if (props.levels === ANDROID_LEVELS) return null;
  return <span class="badge badge-warn" title={t("sat.androidTitle")}>{t("sat.android")}</span>;
}

function Editor(props: { config: Config | null; onClose: () => void; onSaved: () => void }) {
  const form = useForm();
  const [v, setV] = useState<Input>(() => {
    const c = props.config;
    if (!c) return fresh();
    return { name: c.name, kind: c.kind, levels: c.levels.map((l) => ({ ...l })), invitationText: c.invitationText, thankYouText: c.thankYouText, validitySecs: c.validitySecs, sendRules: { ...c.sendRules } };
  });
  const [period, setPeriod] = useState(() => splitPeriod(v.validitySecs));
  const text = (k: "name" | "invitationText" | "thankYouText") => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  const label = (i: number, value: string) => setV({ ...v, levels: v.levels.map((l, j) => (j === i ? { ...l, label: value } : l)) });
  // Values follow positions: the server wants them 1..n ascending.
  const renumber = (labels: string[]) => labels.map((label, i) => ({ value: i + 1, label }));
  const addLevel = () => setV({ ...v, levels: renumber([...v.levels.map((l) => l.label), ""]) });
  const removeLevel = (i: number) => setV({ ...v, levels: renumber(v.levels.filter((_, j) => j !== i).map((l) => l.label)) });
  const body = (): Input => ({ ...v, validitySecs: Math.round(period.amount * UNITS[period.unit]) });
  return (
    <EditorDialog form={form} title={props.config ? t("sat.edit") : t("sat.add")} path="/satisfaction-configs" id={props.config?.id ?? null} body={body} created={t("sat.created")} onClose={props.onClose} onSaved={props.onSaved} wide>
        <div class="row">
          <Field form={form} name="name" label={t("sat.name")}>
            {(c) => <input {...c} class="input" value={v.name} onInput={text("name")} autofocus />}
          </Field>
          <FieldSet form={form} name="kind" legend={t("sat.kind")}>
            <div class="sat-inline">
              {(["star", "numeric"] as const).map((k) => (
                <label key={k} class="check">
                  <input type="radio" name="sat-kind" checked={v.kind === k} onChange={() => setV({ ...v, kind: k })} />
                  {t(`sat.kind.${k}`)}
                </label>
              ))}
            </div>
          </FieldSet>
        </div>
        <FieldSet form={form} name="levels" legend={`${t("sat.levels")} `} hint={t("sat.levelsHint")}>
          <div class="sat-levels-head">
            <AndroidBadge levels={v.levels.length} />
          </div>
          <ol class="sat-levels">
            {v.levels.map((l, i) => (
              <li key={i}>
                <span class="sat-value" aria-hidden="true">{v.kind === "star" ? "★".repeat(l.value) : l.value}</span>
                <input class="input" aria-label={t("sat.level", { n: l.value })} value={l.label} onInput={(e) => label(i, e.currentTarget.value)} />
                <button type="button" class="btn btn-sm btn-ghost" aria-label={t("sat.removeLevel", { n: l.value })} disabled={v.levels.length <= 1} onClick={() => removeLevel(i)}>✕</button>
              </li>
            ))}
          </ol>
          <div>
            <button type="button" class="btn btn-sm" disabled={v.levels.length >= MAX_LEVELS} onClick={addLevel}>{t("sat.addLevel")}</button>
          </div>
        </FieldSet>
        <Field form={form} name="invitationText" label={t("sat.invitation")}>
          {(c) => <input {...c} class="input" value={v.invitationText} onInput={text("invitationText")} />}
        </Field>
        <Field form={form} name="thankYouText" label={t("sat.thankYou")}>
          {(c) => <input {...c} class="input" value={v.thankYouText} onInput={text("thankYouText")} />}
        </Field>
        <Field form={form} name="validitySecs" label={t("sat.validity")} hint={t("sat.validityHint")}>
          {(c) => (
            <div class="sat-inline">
              <input {...c} class="input sat-amount" type="number" min={0} step="any" value={period.amount} onInput={(e) => setPeriod({ ...period, amount: Number(e.currentTarget.value) })} />
              <select class="input" aria-label={t("sat.validityUnit")} value={period.unit} onChange={(e) => setPeriod({ ...period, unit: e.currentTarget.value as Unit })}>
                {(Object.keys(UNITS) as Unit[]).map((u) => <option key={u} value={u}>{t(`sat.unit.${u}`)}</option>)}
              </select>
            </div>
          )}
        </Field>
        <FieldSet form={form} name="sendRules" legend={t("sat.rules")}>
          {RULES.map((r) => (
            <label key={r} class="check">
              <input type="checkbox" checked={v.sendRules[r]} onChange={(e) => setV({ ...v, sendRules: { ...v.sendRules, [r]: e.currentTarget.checked } })} />
              {t(`sat.rule.${r}`)}
            </label>
          ))}
        </FieldSet>
    </EditorDialog>
  );
}

function periodText(secs: number): string {
  const p = splitPeriod(secs);
  return t(`sat.period.${p.unit}`, { n: p.amount });
}

export default function Page(_props: PageProps) {
  const configs = useResource(() => Promise.all([call<Config[]>("GET", "/satisfaction-configs"), call<Schemas["ChannelView"][]>("GET", "/channels")]), []);
  const [editing, setEditing] = useState<Config | "new" | null>(null);
  const [deleting, setDeleting] = useState<Config | null>(null);
  const reload = () => void configs.reload();
  return (
    <>
      <PageHeader title={t("sat.title")} intro={t("sat.intro")}>
        <button type="button" class="btn btn-primary" onClick={() => setEditing("new")}>{t("sat.add")}</button>
      </PageHeader>
      <Loaded resource={configs}>
        {([list, channels]) =>
          list.length === 0 ? (
            <p class="empty card-box">{t("sat.none")}</p>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{t("sat.name")}</th>
                  <th scope="col">{t("sat.levels")}</th>
                  <th scope="col">{t("sat.validity")}</th>
                  <th scope="col">{t("sat.rules")}</th>
                  <th scope="col">{t("sat.channels")}</th>
                  <ActionsHead />
                </tr>
              </thead>
              <tbody>
                {list.map((c) => {
                  const bound = channels.filter((ch) => ch.satisfaction === c.id);
                  return (
                    <tr key={c.id} data-config={c.id}>
                      <td>
                        <strong>{c.name}</strong>
                        <div class="muted">{t(`sat.kind.${c.kind}`)}</div>
                      </td>
                      <td>
                        <div class="sat-count">
                          {t("sat.levelCount", { count: c.levels.length })} <AndroidBadge levels={c.levels.length} />
                        </div>
                        <div class="muted sat-labels">{c.levels.map((l) => l.label).join(" · ")}</div>
                      </td>
                      <td>{periodText(c.validitySecs)}</td>
                      <td>
                        <ul class="sat-rules">
                          {RULES.filter((r) => c.sendRules[r]).map((r) => <li key={r}>{t(`sat.rule.${r}`)}</li>)}
                        </ul>
                      </td>
                      <td>
                        {bound.length === 0 ? (
                          <span class="muted" title={t("sat.bindHint")}>{t("sat.noChannels")}</span>
                        ) : (
                          <ul class="sat-rules">
                            {bound.map((ch) => <li key={ch.id}><a href={href("channels", ch.id)}>{ch.name}</a></li>)}
                          </ul>
                        )}
                      </td>
                      <RowActions name={c.name} onEdit={() => setEditing(c)} onDelete={() => setDeleting(c)} />
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Loaded>
      {editing && <Editor config={editing === "new" ? null : editing} onClose={() => setEditing(null)} onSaved={reload} />}
      {deleting && <ConfirmDelete name={deleting.name} action={() => call("DELETE", `/satisfaction-configs/${deleting.id}`)} onClose={() => setDeleting(null)} onDone={() => void configs.reload().then(focusHeading)} />}
    </>
  );
}
