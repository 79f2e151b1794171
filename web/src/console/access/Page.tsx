// API access: the app's API keys (made with their secret shown once, listed without it,
// revoked after asking) and its IM secret (whether one exists; rotated, the new one shown
// once, with how long the old one keeps working as the server says).
import "./access.css";
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { dateTime } from "../../core/format";
import type { PageProps } from "../sections";
import { focusHeading } from "../ui/editor";
import { Field, FormError, useForm } from "../ui/form";
import { Confirm, Loaded, PageHeader, SecretOnce } from "../ui/kit";
import { tu } from "../ui/i18n";
import { useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { t } from "./i18n";

type Key = Schemas["ApiKeyView"];

function Keys() {
  const keys = useResource(() => call<Key[]>("GET", "/api-keys"), []);
  const form = useForm();
  const [name, setName] = useState("");
  const [made, setMade] = useState<Schemas["CreatedApiKey"] | null>(null);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const create = form.submit(async () => {
    const k = await call<Schemas["CreatedApiKey"]>("POST", "/api-keys", { name });
    setName("");
    setMade(k);
    void keys.reload();
  });
  return (
    <section class="card-box" aria-labelledby="access-keys">
      <h2 id="access-keys">{t("access.keys")}</h2>
      <p class="muted">{t("access.keysIntro")}</p>
      <form class="row access-new" onSubmit={create} noValidate>
        <Field form={form} name="name" label={t("access.keyName")}>
          {(c) => <input {...c} class="input" value={name} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <button type="submit" class="btn btn-primary" disabled={form.busy.value}>{t("access.create")}</button>
      </form>
      <FormError form={form} />
      <Loaded resource={keys}>
        {(list) =>
          list.length === 0 ? (
            <p class="empty">{t("access.noKeys")}</p>
          ) : (
            <table class="table compact access-keys">
              <thead>
                <tr>
                  <th scope="col" class="num">{t("access.id")}</th>
                  <th scope="col">{t("access.keyName")}</th>
                  <th scope="col" class="actions"><span class="sr-only">{tu("ui.actions")}</span></th>
                </tr>
              </thead>
              <tbody>
                {list.map((k) => (
                  <tr key={k.id}>
                    <td class="num">{k.id}</td>
                    <td>{k.name}</td>
                    <td class="actions">
                      <button type="button" class="btn btn-sm btn-ghost btn-danger" aria-label={`${t("access.revoke")} ${k.name}`} onClick={() => setRevoking(k)}>{t("access.revoke")}</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      {made && <SecretOnce title={t("access.created")} label={t("access.keyLabel")} secret={made.key} note={made.name} onClose={() => setMade(null)} />}
      {revoking && (
        <Confirm
          title={t("access.revokeTitle")}
          text={t("access.revokeText", { name: revoking.name })}
          confirmLabel={t("access.revoke")}
          danger
          action={async () => {
            await call("DELETE", `/api-keys/${revoking.id}`);
            toast(t("access.revoked"));
            void keys.reload().then(focusHeading);
          }}
          onClose={() => setRevoking(null)}
        />
      )}
    </section>
  );
}

function ImSecret() {
  const status = useResource(() => call<Schemas["ImSecretStatus"]>("GET", "/im/secret"), []);
  const [asking, setAsking] = useState(false);
  const [made, setMade] = useState<Schemas["ImSecret"] | null>(null);
  return (
    <section class="card-box access-im" aria-labelledby="access-im">
      <h2 id="access-im">{t("access.im")}</h2>
      <p class="muted">{t("access.imIntro")}</p>
      <Loaded resource={status}>
        {(s) => (
          <div class="stack">
            <p class="access-status">
              {s.configured ? <span class="badge badge-ok">{t("access.imConfigured")}</span> : <span class="alert">{t("access.imMissing")}</span>}
            </p>
            {s.previousValidUntilMs != null && <p class="muted">{t("access.imPrevious", { time: dateTime(s.previousValidUntilMs) })}</p>}
            <div>
              <button type="button" class="btn" onClick={() => setAsking(true)}>{s.configured ? t("access.rotate") : t("access.makeSecret")}</button>
            </div>
          </div>
        )}
      </Loaded>
      {asking && (
        <Confirm
          title={t("access.rotateTitle")}
          text={t("access.rotateText")}
          confirmLabel={t("access.rotate")}
          action={async () => {
            setMade(await call<Schemas["ImSecret"]>("POST", "/im/secret"));
            void status.reload();
          }}
          onClose={() => setAsking(false)}
        />
      )}
      {made && (
        <SecretOnce
          title={t("access.secretTitle")}
          label={t("access.secretLabel")}
          secret={made.secret}
          note={made.previousValidUntilMs != null ? t("access.grace", { time: dateTime(made.previousValidUntilMs) }) : t("access.firstSecret")}
          onClose={() => setMade(null)}
        />
      )}
    </section>
  );
}

export default function Page(_props: PageProps) {
  return (
    <>
      <PageHeader title={t("access.title")} intro={t("access.intro")} />
      <div class="grid-2">
        <Keys />
        <ImSecret />
      </div>
    </>
  );
}
