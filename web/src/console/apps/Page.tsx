// Apps (the instance's owners: administrators of app 1): the list, and a new app with its
// first administrator, whose first password is shown once.
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { Dialog } from "../../core/Dialog";
import type { PageProps } from "../sections";
import { Field, FormError, useForm } from "../ui/form";
import { Loaded, PageHeader, SecretOnce } from "../ui/kit";
import { tu } from "../ui/i18n";
import { useResource } from "../ui/resource";
import { t } from "./i18n";

type Created = Schemas["CreatedApp"];

function NewApp(props: { onClose: () => void; onCreated: (c: Created, email: string) => void }) {
  const form = useForm();
  const [v, setV] = useState<Schemas["NewApp"]>({ name: "", adminEmail: "" });
  const save = form.submit(async () => {
    const made = await call<Created>("POST", "/apps", v);
    props.onCreated(made, v.adminEmail.trim());
  });
  return (
    <Dialog title={t("apps.add")} onClose={props.onClose}>
      <form class="stack" onSubmit={save} noValidate>
        <Field form={form} name="name" label={t("apps.name")}>
          {(c) => <input {...c} class="input" value={v.name} onInput={(e) => setV({ ...v, name: e.currentTarget.value })} autofocus />}
        </Field>
        <Field form={form} name="adminEmail" label={t("apps.adminEmail")}>
          {(c) => <input {...c} class="input" type="email" value={v.adminEmail} onInput={(e) => setV({ ...v, adminEmail: e.currentTarget.value })} />}
        </Field>
        <FormError form={form} />
        <div class="buttons">
          <button type="button" class="btn" onClick={props.onClose}>{tu("ui.cancel")}</button>
          <button type="submit" class="btn btn-primary" disabled={form.busy.value}>{t("apps.add")}</button>
        </div>
      </form>
    </Dialog>
  );
}

export default function Page(_props: PageProps) {
  const apps = useResource(() => call<Schemas["AppView"][]>("GET", "/apps"), []);
  const [adding, setAdding] = useState(false);
  const [made, setMade] = useState<{ app: Created; email: string } | null>(null);
  return (
    <>
      <PageHeader title={t("apps.title")} intro={t("apps.intro")}>
        <button type="button" class="btn btn-primary" onClick={() => setAdding(true)}>{t("apps.add")}</button>
      </PageHeader>
      <Loaded resource={apps}>
        {(list) =>
          list.length === 0 ? (
            <p class="empty card-box">{t("apps.none")}</p>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th scope="col" class="num">{t("apps.id")}</th>
                  <th scope="col">{t("apps.name")}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((a) => (
                  <tr key={a.id}>
                    <td class="num">{a.id}</td>
                    <td>
                      {a.name} {a.id === 1 && <span class="badge">{t("apps.this")}</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      {adding && (
        <NewApp
          onClose={() => setAdding(false)}
          onCreated={(app, email) => {
            setAdding(false);
            setMade({ app, email });
            void apps.reload();
          }}
        />
      )}
      {made && (
        <SecretOnce
          title={t("apps.createdTitle")}
          label={t("apps.password", { email: made.email })}
          secret={made.app.adminPassword}
          note={t("apps.createdNote", { name: made.app.app.name, id: made.app.app.id, email: made.email })}
          onClose={() => setMade(null)}
        />
      )}
    </>
  );
}
