// Channels: the list (`#/channels`), a new channel (`#/channels/new`) and one channel
// (`#/channels/<id>`): its form, and for a website channel the embed script and link the
// server gives, with copy buttons, and its launcher's corner and colour. The pickers list
// the app's flows, groups and satisfaction configurations.
import "./channels.css";
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { go, href } from "../router";
import type { PageProps } from "../sections";
import { Field, FieldSet, FormError, useForm, type ControlProps } from "../ui/form";
import { ConfirmDelete, Copyable, Loaded, PageHeader } from "../ui/kit";
import { tu } from "../ui/i18n";
import { useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { t } from "./i18n";
import { DEFAULT_COLOR, LauncherFields, type Position } from "./Launcher";

type View = Schemas["ChannelView"];
type Input = Schemas["ChannelInput"];
type KindType = Schemas["ChannelKind"]["type"];

interface Choices {
  flows: Schemas["FlowView"][];
  groups: Schemas["GroupView"][];
  configs: Schemas["SatisfactionConfig"][];
}

function loadChoices(): Promise<Choices> {
  return Promise.all([
    call<Schemas["FlowView"][]>("GET", "/flows"),
    call<Schemas["GroupView"][]>("GET", "/skill-groups"),
    call<Schemas["SatisfactionConfig"][]>("GET", "/satisfaction-configs"),
  ]).then(([flows, groups, configs]) => ({ flows, groups, configs }));
}

/** The form's state: every field as typed, whichever kind is chosen. */
interface Draft {
  name: string;
  type: KindType;
  userId: string;
  avatarUrl: string;
  proactiveGroup: number | null;
  flow: number | null;
  skillGroup: number | null;
  satisfaction: number | null;
  origins: string;
  position: Position;
  color: string;
  tasks: boolean;
}

function draftOf(c: View | null): Draft {
  const base: Draft = { name: "", type: "in_app", userId: "", avatarUrl: "", proactiveGroup: null, flow: null, skillGroup: null, satisfaction: null, origins: "", position: "bottom_right", color: DEFAULT_COLOR, tasks: false };
  if (!c) return base;
  const d: Draft = { ...base, name: c.name, type: c.kind.type, flow: c.flow ?? null, skillGroup: c.skillGroup ?? null, satisfaction: c.satisfaction ?? null, origins: (c.allowedOrigins ?? []).join("\n"), position: c.launcherPosition ?? "bottom_right", color: c.themeColor ?? DEFAULT_COLOR, tasks: c.taskMessages };
  if (c.kind.type === "in_app") return { ...d, userId: c.kind.userId, avatarUrl: c.kind.avatarUrl ?? "", proactiveGroup: c.kind.proactiveGroup ?? null };
  return d;
}

function inputOf(d: Draft): Input {
  const kind: Input["kind"] =
    d.type === "in_app" ? { type: "in_app", userId: d.userId, avatarUrl: d.avatarUrl.trim() || null, proactiveGroup: d.proactiveGroup } : { type: "website" };
  const input: Input = { name: d.name, kind, flow: d.flow, skillGroup: d.skillGroup, satisfaction: d.satisfaction, taskMessages: d.tasks };
  if (d.type === "website") {
    input.allowedOrigins = d.origins.split(/\s+/).filter(Boolean);
    input.launcherPosition = d.position;
    input.themeColor = d.color;
  }
  return input;
}

/** The desk's Android client draws exactly five levels: a configuration of another count says so. */
function androidHint(configs: Schemas["SatisfactionConfig"][], id: number | null): string | undefined {
  const levels = configs.find((c) => c.id === id)?.levels.length;
  return levels !== undefined && levels !== 5 ? t("ch.android", { count: levels }) : undefined;
}

/** A select of ids with a "none" choice; answers a number or null. */
function Picker(props: { control: ControlProps; value: number | null; items: { id: number; name: string }[]; onChange: (v: number | null) => void }) {
  return (
    <select {...props.control} class="input" value={props.value ?? ""} onChange={(e) => props.onChange(e.currentTarget.value ? Number(e.currentTarget.value) : null)}>
      <option value="">{t("ch.noneOption")}</option>
      {props.items.map((i) => <option key={i.id} value={i.id}>{i.name}</option>)}
    </select>
  );
}

function ChannelForm(props: { channel: View | null; choices: Choices; onSaved: (c: View) => void }) {
  const form = useForm();
  const [d, setD] = useState<Draft>(() => draftOf(props.channel));
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD({ ...d, [k]: v });
  const text = (k: "name" | "userId" | "avatarUrl" | "origins") => (e: Event) => set(k, (e.currentTarget as HTMLInputElement).value);
  const save = form.submit(async () => {
    const saved = props.channel ? await call<View>("PUT", `/channels/${props.channel.id}`, inputOf(d)) : await call<View>("POST", "/channels", inputOf(d));
    toast(props.channel ? tu("ui.saved") : t("ch.created"));
    props.onSaved(saved);
  });
  const avatar = d.avatarUrl.trim();
  return (
    <form class="stack ch-form" onSubmit={save} noValidate>
      <section class="card-box stack" aria-labelledby="ch-basics">
        <h2 id="ch-basics">{t("ch.basics")}</h2>
        <Field form={form} name="name" label={t("ch.name")}>
          {(c) => <input {...c} class="input" value={d.name} onInput={text("name")} autofocus={!props.channel} />}
        </Field>
        <FieldSet form={form} name="kind.type" legend={t("ch.type")} hint={props.channel ? t("ch.typeFixed") : undefined}>
          <div class="ch-inline">
            {(["in_app", "website"] as const).map((k) => (
              <label key={k} class="check">
                <input type="radio" name="ch-type" checked={d.type === k} disabled={props.channel !== null} onChange={() => set("type", k)} />
                {t(`ch.type.${k}`)}
              </label>
            ))}
          </div>
        </FieldSet>
      </section>
      {d.type === "in_app" && (
        <section class="card-box stack" aria-labelledby="ch-inapp">
          <h2 id="ch-inapp">{t("ch.inApp")}</h2>
          <div class="ch-grid">
            <Field form={form} name="kind.userId" label={t("ch.userId")} hint={t("ch.userIdHint")}>
              {(c) => <input {...c} class="input mono" value={d.userId} onInput={text("userId")} />}
            </Field>
            <Field form={form} name="kind.proactiveGroup" label={t("ch.proactive")} hint={t("ch.proactiveHint")}>
              {(c) => <Picker control={c} value={d.proactiveGroup} items={props.choices.groups} onChange={(v) => set("proactiveGroup", v)} />}
            </Field>
          </div>
          <div class="ch-avatar-row">
            <Field form={form} name="kind.avatarUrl" label={t("ch.avatar")} hint={t("ch.avatarHint")}>
              {(c) => <input {...c} class="input" type="url" value={d.avatarUrl} onInput={text("avatarUrl")} placeholder="https://" />}
            </Field>
            {avatar.startsWith("https://") && (
              // An address that draws nothing shows nothing, not a broken image.
              <img key={avatar} class="ch-avatar" src={avatar} alt={t("ch.avatarPreview")} width={40} height={40} onError={(e) => (e.currentTarget.hidden = true)} />
            )}
          </div>
        </section>
      )}
      <section class="card-box stack" aria-labelledby="ch-routing">
        <h2 id="ch-routing">{t("ch.routing")}</h2>
        <div class="ch-grid">
          <Field form={form} name="flow" label={t("ch.flow")} hint={t("ch.flowHint")}>
            {(c) => <Picker control={c} value={d.flow} items={props.choices.flows} onChange={(v) => set("flow", v)} />}
          </Field>
          <Field form={form} name="skillGroup" label={t("ch.group")}>
            {(c) => <Picker control={c} value={d.skillGroup} items={props.choices.groups} onChange={(v) => set("skillGroup", v)} />}
          </Field>
          <Field form={form} name="satisfaction" label={t("ch.satisfaction")} hint={androidHint(props.choices.configs, d.satisfaction)}>
            {(c) => <Picker control={c} value={d.satisfaction} items={props.choices.configs} onChange={(v) => set("satisfaction", v)} />}
          </Field>
        </div>
        <FieldSet form={form} name="taskMessages" legend={t("ch.tasks")} hint={t("ch.tasksHint")}>
          <label class="check">
            <input type="checkbox" checked={d.tasks} onChange={(e) => set("tasks", e.currentTarget.checked)} />
            {t("ch.tasksOn")}
          </label>
        </FieldSet>
        {d.type === "website" && (
          <Field form={form} name="allowedOrigins" label={t("ch.origins")} hint={t("ch.originsHint")}>
            {(c) => <textarea {...c} class="input mono" rows={3} value={d.origins} onInput={text("origins")} />}
          </Field>
        )}
      </section>
      {d.type === "website" && <LauncherFields form={form} position={d.position} color={d.color} onPosition={(v) => set("position", v)} onColor={(v) => set("color", v)} />}
      <FormError form={form} />
      <div class="buttons">
        <a class="btn" href={href("channels")}>{tu("ui.cancel")}</a>
        <button type="submit" class="btn btn-primary" disabled={form.busy.value}>{form.busy.value ? tu("ui.saving") : tu("ui.save")}</button>
      </div>
    </form>
  );
}

function Access(props: { access: Schemas["WebsiteAccess"] }) {
  return (
    <section class="card-box stack ch-access" aria-labelledby="ch-access">
      <h2 id="ch-access">{t("ch.access")}</h2>
      <p class="muted">{t("ch.accessIntro")}</p>
      <Copyable label={t("ch.embed")} value={props.access.embedScript} multiline />
      <Copyable label={t("ch.link")} value={props.access.link} />
      <p>
        <a href={props.access.link} target="_blank" rel="noopener">{t("ch.openLink")}</a>
      </p>
    </section>
  );
}

function One(props: { id: string }) {
  const isNew = props.id === "new";
  const r = useResource(
    () => Promise.all([isNew ? Promise.resolve(null) : call<View>("GET", `/channels/${encodeURIComponent(props.id)}`), loadChoices()]),
    [props.id],
  );
  const [deleting, setDeleting] = useState<View | null>(null);
  return (
    <Loaded resource={r}>
      {([channel, choices]) => (
        <>
          <PageHeader title={channel ? channel.name : t("ch.new")}>
            <a class="btn" href={href("channels")}>{t("ch.back")}</a>
            {channel && <button type="button" class="btn btn-danger" onClick={() => setDeleting(channel)}>{tu("ui.delete")}</button>}
          </PageHeader>
          <div class={channel?.access ? "ch-detail" : ""}>
            <ChannelForm
              key={channel?.id ?? "new"}
              channel={channel}
              choices={choices}
              onSaved={(saved) => {
                if (isNew) go(["channels", saved.id]);
                else void r.reload();
              }}
            />
            {channel?.access && <Access access={channel.access} />}
          </div>
          {deleting && <ConfirmDelete name={deleting.name} action={() => call("DELETE", `/channels/${deleting.id}`)} onClose={() => setDeleting(null)} onDone={() => go("channels")} />}
        </>
      )}
    </Loaded>
  );
}

function nameOf(items: { id: number; name: string }[], id: number | null | undefined): string {
  if (id == null) return "";
  return items.find((i) => i.id === id)?.name ?? `#${id}`;
}

function List() {
  const r = useResource(() => Promise.all([call<View[]>("GET", "/channels"), loadChoices()]), []);
  return (
    <>
      <PageHeader title={t("ch.title")} intro={t("ch.intro")}>
        <a class="btn btn-primary" href={href("channels", "new")}>{t("ch.add")}</a>
      </PageHeader>
      <Loaded resource={r}>
        {([list, choices]) =>
          list.length === 0 ? (
            <p class="empty card-box">{t("ch.none")}</p>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{t("ch.name")}</th>
                  <th scope="col">{t("ch.type")}</th>
                  <th scope="col">{t("ch.target")}</th>
                  <th scope="col">{t("ch.flow")}</th>
                  <th scope="col">{t("ch.group")}</th>
                  <th scope="col">{t("ch.satisfaction")}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((c) => (
                  <tr key={c.id}>
                    <td><a href={href("channels", c.id)}>{c.name}</a></td>
                    <td><span class="badge">{t(`ch.type.${c.kind.type}`)}</span></td>
                    <td class="mono">{c.kind.type === "in_app" ? c.kind.userId : c.kind.webAppId}</td>
                    <td>{nameOf(choices.flows, c.flow) || <span class="muted">{t("ch.noneOption")}</span>}</td>
                    <td>{nameOf(choices.groups, c.skillGroup) || <span class="muted">{t("ch.noneOption")}</span>}</td>
                    <td>{nameOf(choices.configs, c.satisfaction) || <span class="muted">{t("ch.noneOption")}</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </>
  );
}

export default function Page(props: PageProps) {
  const [id] = props.path;
  return <div class="ch-page">{id ? <One id={id} /> : <List />}</div>;
}
