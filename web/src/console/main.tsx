// The administration console: a menu of the sections the role opens, and the page of the
// one in the address, each page's code loaded when first opened.
import "../core/tokens.css";
import "./console.css";
import { render } from "preact";
import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type Schemas } from "../core/api";
import { lang, setLang } from "../core/i18n";
import { session, signOutReason } from "../core/session";
import { Switches } from "../core/Switches";
import { tr } from "./i18n";
import { route, href } from "./router";
import { menuGroups, opens, sections, type Page, type Section } from "./sections";
import { Toasts } from "./ui/toast";
import { onUnauthorized } from "./ui/resource";

const me = signal<Schemas["Me"] | null>(null);

function leave(cause: string): void {
  session.clear();
  signOutReason.set(cause);
  location.replace("/");
}

async function signOut(): Promise<void> {
  try {
    await api.logout();
  } finally {
    leave("signed_out");
  }
}

/** A section's page, loaded once and kept. */
const loaded = new Map<string, Page>();

function SectionPage(props: { section: Section; path: string[] }) {
  // A page is a function, which useState would call as an initializer: it is wrapped.
  const [page, setPage] = useState<Page | null>(() => loaded.get(props.section.path) ?? null);
  const [failed, setFailed] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (loaded.has(props.section.path)) {
      setPage(() => loaded.get(props.section.path) ?? null);
      return;
    }
    setPage(null);
    setFailed(null);
    props.section
      .load()
      .then((m) => {
        loaded.set(props.section.path, m.default);
        setPage(() => m.default);
      })
      .catch((e: unknown) => setFailed(e instanceof Error ? e.message : String(e)));
  }, [props.section.path, attempt]);
  if (failed)
    return (
      <div class="alert" role="alert">
        {tr("console.loadFailed", { message: failed })}{" "}
        <button type="button" class="btn btn-sm" onClick={() => setAttempt(attempt + 1)}>{tr("console.retry")}</button>
      </div>
    );
  if (!page) return <p class="muted" aria-busy="true">{tr("console.loading")}</p>;
  const P = page;
  return <P path={props.path} />;
}

function Menu(props: { me: Schemas["Me"]; current: string | undefined }) {
  return (
    <nav class="menu" aria-label={tr("console.menu")}>
      {menuGroups.map((g) => {
        const items = sections.filter((s) => s.group === g && opens(props.me, s));
        if (items.length === 0) return null;
        return (
          <section key={g}>
            <h2>{tr(`nav.group.${g}`)}</h2>
            <ul>
              {items.map((s) => (
                <li key={s.path}>
                  <a href={href(s.path)} aria-current={s.path === props.current ? "page" : undefined}>{tr(`nav.${s.path}`)}</a>
                </li>
              ))}
            </ul>
          </section>
        );
      })}
    </nav>
  );
}

function Notice(props: { title: string; text: string }) {
  return (
    <>
      <h1>{props.title}</h1>
      <p class="alert alert-info">{props.text}</p>
    </>
  );
}

function Shell(props: { me: Schemas["Me"] }) {
  void lang.value;
  const [first, ...rest] = route.value;
  const open = sections.filter((s) => opens(props.me, s));
  const current = first ?? open[0]?.path;
  const section = sections.find((s) => s.path === current);
  useEffect(() => {
    document.title = `${section ? tr(`nav.${section.path}`) : tr("console.title")} · helpline`;
  }, [current, lang.value]);
  let body;
  if (open.length === 0) body = <Notice title={tr("console.title")} text={tr("console.noSections")} />;
  else if (!section) body = <Notice title={tr("console.title")} text={tr("console.notFound")} />;
  else if (!opens(props.me, section)) body = <Notice title={tr(`nav.${section.path}`)} text={tr("console.forbidden")} />;
  else body = <SectionPage key={section.path} section={section} path={first ? rest : []} />;
  return (
    <div class="console">
      <header class="console-top">
        <a class="brand" href={href()}>helpline</a>
        <span class="muted">{tr("console.title")}</span>
        <span class="spacer" />
        <span class="muted who" title={props.me.email}>{tr("console.signedInAs", { name: props.me.name, role: props.me.roleName })}</span>
        {props.me.agentId != null && <a class="btn btn-sm" href="/workstation">{tr("console.workstation")}</a>}
        <Switches />
        <button type="button" class="btn btn-sm" onClick={() => void signOut()}>{tr("console.signOut")}</button>
      </header>
      <Menu me={props.me} current={current} />
      <main class="console-main" id="main">{body}</main>
      <Toasts />
    </div>
  );
}

function App() {
  const m = me.value;
  return m ? <Shell me={m} /> : <p class="muted boot" aria-busy="true">{tr("console.loading")}</p>;
}

async function boot(): Promise<void> {
  if (!session.token()) {
    location.replace("/");
    return;
  }
  setLang(lang.value);
  onUnauthorized(() => leave("expired"));
  render(<App />, document.getElementById("app") ?? document.body);
  try {
    const who = await api.me();
    if (who.mustChangePassword) {
      location.replace("/");
      return;
    }
    me.value = who;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) leave("expired");
    else throw e;
  }
}

void boot();
