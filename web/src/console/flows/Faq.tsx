// The FAQ bot's questions and answers (the chatbot module's `faq` bot answers from them):
// add, edit and delete, each refusal under the field it names.
import { useState } from "preact/hooks";
import { call, type Schemas } from "../../core/api";
import { Dialog } from "../../core/Dialog";
import { Field, FormError, useForm } from "../ui/form";
import { tu } from "../ui/i18n";
import { ConfirmDelete, Loaded } from "../ui/kit";
import { useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { tf } from "./i18n";

type Entry = Schemas["FaqEntry"];

export function FaqList(props: { adding: boolean; onAdded: () => void }) {
  const list = useResource(() => call<Entry[]>("GET", "/faq"), []);
  const [editing, setEditing] = useState<Entry | null>(null);
  const [deleting, setDeleting] = useState<Entry | null>(null);
  const [q, setQ] = useState("");
  const close = () => {
    setEditing(null);
    props.onAdded();
  };
  return (
    <>
      <div class="toolbar">
        <label class="sr-only" for="faq-search">{tu("ui.search")}</label>
        <input id="faq-search" class="input" type="search" placeholder={tf("flows.faq.search")} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      </div>
      <Loaded resource={list}>
        {(entries) => {
          const shown = entries.filter((e) => !q || `${e.question}\n${e.answer}`.toLowerCase().includes(q.toLowerCase()));
          if (shown.length === 0) return <p class="empty">{tf("flows.faq.empty")}</p>;
          return (
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{tf("flows.faq.question")}</th>
                  <th scope="col">{tf("flows.faq.answer")}</th>
                  <th scope="col" class="actions"><span class="sr-only">{tf("flows.col.actions")}</span></th>
                </tr>
              </thead>
              <tbody>
                {shown.map((e) => (
                  <tr key={e.id}>
                    <td class="faq-q">{e.question}</td>
                    <td class="faq-a">{e.answer}</td>
                    <td class="actions">
                      <button type="button" class="btn btn-sm" aria-label={tf("flows.faq.editNamed", { name: e.question })} onClick={() => setEditing(e)}>{tu("ui.edit")}</button>{" "}
                      <button type="button" class="btn btn-sm btn-danger" aria-label={tf("flows.faq.deleteNamed", { name: e.question })} onClick={() => setDeleting(e)}>{tu("ui.delete")}</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Loaded>
      {(props.adding || editing) && <EntryForm entry={editing} onClose={close} onSaved={() => void list.reload()} />}
      {deleting && <ConfirmDelete name={deleting.question} action={() => call("DELETE", `/faq/${deleting.id}`)} onClose={() => setDeleting(null)} onDone={() => void list.reload()} />}
    </>
  );
}

function EntryForm(props: { entry: Entry | null; onClose: () => void; onSaved: () => void }) {
  const form = useForm();
  const [question, setQuestion] = useState(props.entry?.question ?? "");
  const [answer, setAnswer] = useState(props.entry?.answer ?? "");
  return (
    <Dialog title={props.entry ? tf("flows.faq.editTitle") : tf("flows.faq.add")} onClose={props.onClose} wide>
      <form
        class="stack"
        onSubmit={form.submit(async () => {
          const body = { question, answer };
          if (props.entry) await call("PUT", `/faq/${props.entry.id}`, body);
          else await call("POST", "/faq", body);
          toast(tu("ui.saved"));
          props.onSaved();
          props.onClose();
        })}
      >
        <Field form={form} name="question" label={tf("flows.faq.question")} hint={tf("flows.faq.questionHint")}>
          {(c) => <input {...c} class="input" value={question} onInput={(e) => setQuestion(e.currentTarget.value)} autofocus />}
        </Field>
        <Field form={form} name="answer" label={tf("flows.faq.answer")}>
          {(c) => <textarea {...c} class="input" rows={5} value={answer} onInput={(e) => setAnswer(e.currentTarget.value)} />}
        </Field>
        <FormError form={form} />
        <div class="buttons">
          <button type="button" class="btn" onClick={props.onClose}>{tu("ui.cancel")}</button>
          <button type="submit" class="btn btn-primary" disabled={form.busy.value}>{tu("ui.save")}</button>
        </div>
      </form>
    </Dialog>
  );
}
