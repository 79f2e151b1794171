// Session service flows: the list of flows and the FAQ bot's entries (two tabs), and the
// canvas editor of one flow at `#/flows/<id>`.
import "./flows.css";
import { useState } from "preact/hooks";
import { href } from "../router";
import type { PageProps } from "../sections";
import { PageHeader } from "../ui/kit";
import { FlowEditor } from "./Editor";
import { FaqList } from "./Faq";
import { tf } from "./i18n";
import { FlowList } from "./List";

export default function Page(props: PageProps) {
  const [first] = props.path;
  const id = first && /^\d+$/.test(first) ? Number(first) : null;
  if (id !== null) return <FlowEditor key={id} id={id} />;
  return <Lists faq={first === "faq"} />;
}

function Lists(props: { faq: boolean }) {
  const [adding, setAdding] = useState(false);
  return (
    <>
      <PageHeader title={tf("flows.title")} intro={props.faq ? tf("flows.faq.intro") : tf("flows.intro")}>
        <button type="button" class="btn btn-primary" onClick={() => setAdding(true)}>{props.faq ? tf("flows.faq.add") : tf("flows.new")}</button>
      </PageHeader>
      <nav class="tabs" aria-label={tf("flows.tabs")}>
        <a href={href("flows")} aria-current={props.faq ? undefined : "page"}>{tf("flows.tab.flows")}</a>
        <a href={href("flows", "faq")} aria-current={props.faq ? "page" : undefined}>{tf("flows.tab.faq")}</a>
      </nav>
      {props.faq ? <FaqList adding={adding} onAdded={() => setAdding(false)} /> : <FlowList creating={adding} onCreated={() => setAdding(false)} />}
    </>
  );
}
