// Settings: status after login, routing, reception and the user-reply timeout (one document,
// `PUT /settings`, every field checked by the server and its refusal shown at the field),
// the proactive-contact rule and the rest reasons beside them.
import "./settings.css";
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import type { PageProps } from "../sections";
import { Field, FieldSet, FormError, typedNumber, useForm } from "../ui/form";
import { Loaded, PageHeader } from "../ui/kit";
import { tu } from "../ui/i18n";
import { useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { ts } from "./i18n";
import { Proactive } from "./Proactive";
import { RestReasons } from "./RestReasons";
import { Check } from "./controls";

type Settings = Schemas["AppSettings"];

export default function Page(_props: PageProps) {
  const settings = useResource(() => call<Settings>("GET", "/settings"), []);
  return (
    <>
      <PageHeader title={ts("settings.title")} intro={ts("settings.intro")} />
      <div class="settings-grid">
        <Loaded resource={settings}>{(s) => <SettingsForm initial={s} onSaved={(x) => (settings.data.value = x)} />}</Loaded>
        <div class="settings-side">
          <Proactive />
          <RestReasons />
        </div>
      </div>
    </>
  );
}

const LOGIN: Schemas["LoginStatus"][] = ["free", "not_ready"];
const BASIC: Schemas["BasicRouting"][] = ["fifo", "agent_priority"];

function SettingsForm(props: { initial: Settings; onSaved: (s: Settings) => void }) {
  const form = useForm();
  const [s, setS] = useState<Settings>(props.initial);
  // Numbers are kept as typed, so an emptied box shows the server's refusal, not a reset.
  const [accept, setAccept] = useState(String(props.initial.reception.acceptTimeoutSecs));
  const [reply, setReply] = useState(String(props.initial.userReplyTimeoutSecs));
  const reception = (r: Partial<Schemas["ReceptionSettings"]>) => setS({ ...s, reception: { ...s.reception, ...r } });
  const routing = (r: Partial<Schemas["RoutingPolicy"]>) => setS({ ...s, routing: { ...s.routing, ...r } });
  const save = async () => {
    const body: Settings = { ...s, reception: { ...s.reception, acceptTimeoutSecs: typedNumber(accept) }, userReplyTimeoutSecs: typedNumber(reply) };
    const saved = await call<Settings>("PUT", "/settings", body);
    setS(saved);
    setAccept(String(saved.reception.acceptTimeoutSecs));
    setReply(String(saved.userReplyTimeoutSecs));
    props.onSaved(saved);
    toast(ts("settings.saved"));
  };
  return (
    <form class="settings-main" onSubmit={form.submit(save)} noValidate aria-label={ts("settings.title")}>
      <section class="card-box" aria-labelledby="settings-login">
        <h2 id="settings-login">{ts("settings.login")}</h2>
        <FieldSet form={form} name="loginStatus" legend={ts("settings.login.legend")}>
          {LOGIN.map((v) => (
            <label key={v} class="check">
              <input type="radio" name="loginStatus" checked={s.loginStatus === v} onChange={() => setS({ ...s, loginStatus: v })} />
              {ts(`settings.login.${v}`)}
            </label>
          ))}
        </FieldSet>
      </section>
      <section class="card-box" aria-labelledby="settings-routing">
        <h2 id="settings-routing">{ts("settings.routing")}</h2>
        <div class="stack">
          <FieldSet form={form} name="routing.basic" legend={ts("settings.routing.legend")}>
            {BASIC.map((v) => (
              <label key={v} class="check">
                <input type="radio" name="routing.basic" checked={s.routing.basic === v} onChange={() => routing({ basic: v })} />
                {ts(`settings.routing.${v}`)}
              </label>
            ))}
          </FieldSet>
          <Check checked={s.routing.lastReceptionistFirst} onChange={(v) => routing({ lastReceptionistFirst: v })} label={ts("settings.routing.last")} />
        </div>
      </section>
      <section class="card-box" aria-labelledby="settings-reception">
        <h2 id="settings-reception">{ts("settings.reception")}</h2>
        <div class="stack">
          <Check checked={s.reception.autoReception} onChange={(v) => reception({ autoReception: v })} label={ts("settings.reception.auto")} />
          <Field form={form} name="reception.acceptTimeoutSecs" label={ts("settings.reception.timeout")} hint={ts("settings.reception.timeoutHint")}>
            {(c) => <input {...c} class="input secs" type="number" inputMode="numeric" value={accept} onInput={(e) => setAccept(e.currentTarget.value)} />}
          </Field>
          <Check checked={s.reception.redirectOnTimeout} onChange={(v) => reception({ redirectOnTimeout: v })} label={ts("settings.reception.redirect")} />
          <Check checked={s.reception.autoShortBreak} onChange={(v) => reception({ autoShortBreak: v })} label={ts("settings.reception.shortBreak")} />
        </div>
      </section>
      <section class="card-box" aria-labelledby="settings-reply">
        <h2 id="settings-reply">{ts("settings.reply")}</h2>
        <div class="stack">
          <Field form={form} name="userReplyTimeoutSecs" label={ts("settings.reply.secs")} hint={ts("settings.reply.secsHint")}>
            {(c) => <input {...c} class="input secs" type="number" inputMode="numeric" value={reply} onInput={(e) => setReply(e.currentTarget.value)} />}
          </Field>
          <Field form={form} name="autoTerminationMessage" label={ts("settings.reply.message")} hint={ts("settings.reply.messageHint")}>
            {(c) => <textarea {...c} class="input" rows={3} value={s.autoTerminationMessage} onInput={(e) => setS({ ...s, autoTerminationMessage: e.currentTarget.value })} />}
          </Field>
        </div>
      </section>
      <FormError form={form} />
      <div class="buttons settings-save">
        <button type="submit" class="btn btn-primary" aria-disabled={form.busy.value}>{form.busy.value ? tu("ui.saving") : ts("settings.save")}</button>
      </div>
    </form>
  );
}
