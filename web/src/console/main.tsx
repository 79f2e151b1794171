// The console's placeholder until the console issue: says so, and links back.
import "../core/tokens.css";
import "../signin/signin.css";
import { render } from "preact";
import { lang, t } from "../core/i18n";
import { Switches } from "../core/Switches";

function Page() {
  void lang.value;
  document.documentElement.lang = lang.value;
  return (
    <main class="page">
      <header class="top">
        <span class="brand">{t("app.name")}</span>
        <Switches />
      </header>
      <section class="card" aria-labelledby="console-title">
        <h1 id="console-title">{t("console.title")}</h1>
        <p>{t("console.placeholder")}</p>
        <a class="btn btn-primary wide" href="/workstation">{t("console.workstation")}</a>
        <a class="btn wide" href="/">{t("console.back")}</a>
      </section>
    </main>
  );
}

render(<Page />, document.getElementById("app") ?? document.body);
