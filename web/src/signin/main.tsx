// The sign-in page (/): email and password, the app only when the server asks for it, the
// forced first-password change, then the workstation, or a choice for administrators.
import "../core/tokens.css";
import "./signin.css";
import { render } from "preact";
import { signal } from "@preact/signals";
import { api, ApiError, type Schemas } from "../core/api";
import { session, signOutReason } from "../core/session";
import { lang, t, type Key } from "../core/i18n";
import { duration } from "../core/format";
import { Switches } from "../core/Switches";
import { ChangePassword } from "./ChangePassword";

type Step = "signin" | "change" | "choose";
const step = signal<Step>("signin");
const error = signal<string | null>(null);
const notice = signal<string | null>(null);
const busy = signal(false);
const askApp = signal<string | null>(null);
const current = signal("");

function signOutText(cause: string): string {
  const key = `signout.${cause}` as Key;
  return key in { "signout.expired": 1, "signout.new_login": 1, "signout.signed_out": 1, "signout.password_changed": 1,
    "signout.password_reset": 1, "signout.forced_offline": 1, "signout.deleted": 1 } ? t(key) : t("signout.expired");
}

/** Where a signed-in account goes: agents to the workstation, administrators choose. */
async function proceed(): Promise<void> {
  const me = await api.me();
  if (me.mustChangePassword) {
    step.value = "change";
    return;
  }
  if (me.roleId === 1 || me.modules.length > 0) step.value = "choose";
  else location.assign("/workstation");
}

function describe(e: unknown): string {
  if (!(e instanceof ApiError)) return t("common.error", { message: String(e) });
  if (e.status === 0) return t("signin.network");
  if (e.status === 401) return t("signin.wrong");
  if (e.status === 429) return t("signin.locked", { time: duration((e.retryAfterSecs ?? 60) * 1000) });
  if (e.code === "forced_offline") return t("signin.forced");
  return t("signin.failed", { message: e.message });
}

async function submit(form: HTMLFormElement): Promise<void> {
  const data = new FormData(form);
  const req: Schemas["LoginRequest"] = {
    email: String(data.get("email") ?? ""),
    password: String(data.get("password") ?? ""),
  };
  const app = data.get("app");
  if (askApp.value !== null && app) req.appId = Number(app);
  busy.value = true;
  error.value = null;
  try {
    const login = await api.login(req);
    session.save(login);
    current.value = req.password;
    if (login.mustChangePassword) step.value = "change";
    else await proceed();
  } catch (e) {
    if (e instanceof ApiError && e.status === 400 && (e.field === "appId" || e.field === "appId")) {
      askApp.value = e.message;
    } else {
      error.value = describe(e);
    }
  } finally {
    busy.value = false;
  }
}

function SignIn() {
  return (
    <form
      class="card"
      aria-labelledby="signin-title"
      onSubmit={(e) => {
        e.preventDefault();
        void submit(e.currentTarget);
      }}
    >
      <h1 id="signin-title">{t("signin.title")}</h1>
      <p class="sub">{t("signin.subtitle")}</p>
      {notice.value && <p class="alert alert-info" role="status">{notice.value}</p>}
      <div class="field">
        <label for="email">{t("signin.email")}</label>
        <input class="input" id="email" name="email" type="email" autocomplete="username" required autofocus />
      </div>
      <div class="field">
        <label for="password">{t("signin.password")}</label>
        <input class="input" id="password" name="password" type="password" autocomplete="current-password" required />
      </div>
      {askApp.value !== null && (
        <div class="field">
          <label for="app">{t("signin.appId")}</label>
          <input class="input" id="app" name="app" inputMode="numeric" required aria-describedby="app-hint" />
          <span id="app-hint" class="hint">{t("signin.appIdHint", { message: askApp.value })}</span>
        </div>
      )}
      {error.value && <p class="alert" role="alert">{error.value}</p>}
      <button class="btn btn-primary wide" type="submit" disabled={busy.value}>
        {busy.value ? t("signin.busy") : t("signin.submit")}
      </button>
    </form>
  );
}

function Choose() {
  return (
    <nav class="card" aria-labelledby="choose-title">
      <h1 id="choose-title">{t("signin.choose.title")}</h1>
      <a class="choice" href="/workstation">
        <strong>{t("signin.choose.workstation")}</strong>
        <span>{t("signin.choose.workstationHint")}</span>
      </a>
      <a class="choice" href="/console">
        <strong>{t("signin.choose.console")}</strong>
        <span>{t("signin.choose.consoleHint")}</span>
      </a>
    </nav>
  );
}

function Page() {
  void lang.value;
  return (
    <main class="page">
      <header class="top">
        <span class="brand">{t("app.name")}</span>
        <Switches />
      </header>
      {step.value === "signin" && <SignIn />}
      {step.value === "change" && (
        <ChangePassword
          current={current.value}
          onDone={(login) => {
            session.save(login);
            void proceed();
          }}
        />
      )}
      {step.value === "choose" && <Choose />}
    </main>
  );
}

const reason = signOutReason.take();
if (reason) notice.value = signOutText(reason);
document.documentElement.lang = lang.value;
render(<Page />, document.getElementById("app") ?? document.body);

// A tab that still holds a live sign-in goes on without asking again.
if (session.token()) {
  proceed().catch(() => session.clear());
}
