// The forced password change of a first sign-in (or after a reset): every other call is
// refused by the server until it is done.
import { signal } from "@preact/signals";
import { api, ApiError, type Schemas } from "../core/api";
import { t } from "../core/i18n";

const error = signal<{ field: string | null; text: string } | null>(null);
const busy = signal(false);

export function ChangePassword(props: { current: string; onDone: (login: Schemas["LoginResponse"]) => void }) {
  const submit = async (form: HTMLFormElement) => {
    const data = new FormData(form);
    const next = String(data.get("new") ?? "");
    if (next !== String(data.get("repeat") ?? "")) {
      error.value = { field: "repeat", text: t("signin.change.mismatch") };
      return;
    }
    busy.value = true;
    error.value = null;
    try {
      const login = await api.changePassword({
        currentPassword: String(data.get("current") ?? ""),
        newPassword: next,
      });
      props.onDone(login);
    } catch (e) {
      const field = e instanceof ApiError ? e.field : null;
      error.value = { field, text: e instanceof Error ? e.message : String(e) };
    } finally {
      busy.value = false;
    }
  };
  const fieldError = (name: string) =>
    error.value && (error.value.field ?? "").includes(name) ? (
      <span class="error-text" id={`${name}-error`}>{error.value.text}</span>
    ) : null;
  return (
    <form
      class="card"
      aria-labelledby="change-title"
      onSubmit={(e) => {
        e.preventDefault();
        void submit(e.currentTarget);
      }}
    >
      <h1 id="change-title">{t("signin.change.title")}</h1>
      <p class="sub">{t("signin.change.why")}</p>
      <div class="field">
        <label for="current">{t("signin.change.current")}</label>
        <input class="input" id="current" name="current" type="password" autocomplete="current-password" value={props.current} required />
        {fieldError("current")}
      </div>
      <div class="field">
        <label for="new">{t("signin.change.new")}</label>
        <input class="input" id="new" name="new" type="password" autocomplete="new-password" minLength={10} required autofocus />
        {fieldError("new")}
      </div>
      <div class="field">
        <label for="repeat">{t("signin.change.repeat")}</label>
        <input class="input" id="repeat" name="repeat" type="password" autocomplete="new-password" minLength={10} required />
        {fieldError("repeat")}
      </div>
      {error.value && !["current", "new", "repeat"].some((n) => (error.value?.field ?? "").includes(n)) && (
        <p class="alert" role="alert">{error.value.text}</p>
      )}
      <button class="btn btn-primary wide" type="submit" disabled={busy.value}>{t("signin.change.submit")}</button>
    </form>
  );
}
