// The proactive-contact rule: whether agents may start chats with in-app users and how long
// an unanswered one lasts (60-86400 s, checked by the server).
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { Field, FormError, typedNumber, useForm } from "../ui/form";
import { Loaded } from "../ui/kit";
import { tu } from "../ui/i18n";
import { useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { Check } from "./controls";
import { ts } from "./i18n";

type Rule = Schemas["ProactiveRule"];

export function Proactive() {
  const rule = useResource(() => call<Rule>("GET", "/settings/proactive"), []);
  return (
    <section class="card-box" aria-labelledby="settings-proactive">
      <h2 id="settings-proactive">{ts("settings.proactive")}</h2>
      <Loaded resource={rule}>{(r) => <RuleForm initial={r} />}</Loaded>
    </section>
  );
}

function RuleForm(props: { initial: Rule }) {
  const form = useForm();
  const [enabled, setEnabled] = useState(props.initial.enabled);
  const [timeout, setTimeoutText] = useState(String(props.initial.timeoutSecs));
  const save = async () => {
    const saved = await call<Rule>("PUT", "/settings/proactive", { enabled, timeoutSecs: typedNumber(timeout) } satisfies Rule);
    setEnabled(saved.enabled);
    setTimeoutText(String(saved.timeoutSecs));
    toast(ts("settings.proactive.saved"));
  };
  return (
    <form class="stack" onSubmit={form.submit(save)} noValidate aria-label={ts("settings.proactive")}>
      <Check checked={enabled} onChange={setEnabled} label={ts("settings.proactive.enabled")} />
      <Field form={form} name="timeoutSecs" label={ts("settings.proactive.timeout")} hint={ts("settings.proactive.timeoutHint")}>
        {(c) => <input {...c} class="input secs" type="number" inputMode="numeric" value={timeout} onInput={(e) => setTimeoutText(e.currentTarget.value)} />}
      </Field>
      <FormError form={form} />
      <div class="buttons">
        <button type="submit" class="btn btn-primary" aria-disabled={form.busy.value}>{form.busy.value ? tu("ui.saving") : ts("settings.proactive.save")}</button>
      </div>
    </form>
  );
}
