// Each module's fields in the property panel, named as the server names them in a refusal
// (`invalidPrompt`, `options[1].content`), so its error lands under the right control.
import type { Schemas } from "../../core/api";
import { tf } from "./i18n";
import { freshPort, type Module, type ModuleOf } from "./model";
import { Choice, Num, PField, Rows, Template, Text, Words, type Ctx } from "./widgets";
import { CallFields, ConditionFields, ServiceTimeFields } from "./fields-more";

/** Sets the module; `key` coalesces a run of typing into one undo step; `renamed` moves a port's link. */
export type Set<M> = (m: M, key: string, renamed?: { from: string; to: string }) => void;

export function ModuleFields(props: { ctx: Ctx; m: Module; set: Set<Module>; groups: Schemas["GroupView"][] }) {
  const { ctx, m, set } = props;
  switch (m.type) {
    case "start":
      return <p class="muted">{tf("flows.start.about")}</p>;
    case "send_message":
      return <Template ctx={ctx} name="text" label={tf("flows.f.text")} value={m.text} onInput={(text) => set({ ...m, text }, "text")} />;
    case "branch":
      return <BranchFields ctx={ctx} m={m} set={set} />;
    case "collect":
      return <CollectFields ctx={ctx} m={m} set={set} />;
    case "transfer_to_agent":
      return <TransferFields ctx={ctx} m={m} set={set} groups={props.groups} />;
    case "chatbot":
      return <ChatbotFields ctx={ctx} m={m} set={set} />;
    case "end":
      return <EndFields ctx={ctx} m={m} set={set} />;
    case "service_time":
      return <ServiceTimeFields ctx={ctx} m={m} set={set} />;
    case "interface_call":
      return <CallFields ctx={ctx} m={m} set={set} />;
    case "condition":
      return <ConditionFields ctx={ctx} m={m} set={set} />;
  }
}

/** Which port changed name between two lists of the same length, if one did. */
export function renamedPort(before: string[], after: string[]): { from: string; to: string } | undefined {
  if (before.length !== after.length) return undefined;
  const i = before.findIndex((p, j) => p !== after[j]);
  const from = before[i];
  const to = after[i];
  return from !== undefined && to !== undefined ? { from, to } : undefined;
}

function BranchFields(props: { ctx: Ctx; m: ModuleOf<"branch">; set: Set<ModuleOf<"branch">> }) {
  const { ctx, m, set } = props;
  type Option = Schemas["BranchOption"];
  const setOptions = (options: Option[]) =>
    set({ ...m, options }, "options", renamedPort(m.options.map((o) => o.port), options.map((o) => o.port)));
  return (
    <>
      <Choice ctx={ctx} name="style" label={tf("flows.f.style")} value={m.style}
        options={[["menu", tf("flows.style.menu")], ["keyword", tf("flows.style.keyword")]]} onChange={(style) => set({ ...m, style }, "style")} />
      <Template ctx={ctx} name="text" label={tf("flows.f.prompt")} value={m.text} onInput={(text) => set({ ...m, text }, "text")} />
      <Template ctx={ctx} name="invalidPrompt" label={tf("flows.f.invalidPrompt")} value={m.invalidPrompt} rows={2}
        onInput={(invalidPrompt) => set({ ...m, invalidPrompt }, "invalidPrompt")} />
      <Rows<Option>
        ctx={ctx} name="options" legend={tf("flows.f.options")} items={m.options} onChange={setOptions} ordered
        add={() => ({ port: freshPort(m.options.map((o) => o.port), "option"), content: "" })}
        addLabel={tf("flows.add.option")} itemName={(i) => tf("flows.item.option", { n: i + 1 })}
        row={(o, i, put) => (
          <>
            <div class="row">
              <Text ctx={ctx} name={`options[${i}].content`} label={tf("flows.f.content")} value={o.content} onInput={(content) => put({ ...o, content })} />
              <Text ctx={ctx} name={`options[${i}].port`} label={tf("flows.f.port")} value={o.port} mono onInput={(port) => put({ ...o, port })} />
            </div>
            <Text ctx={ctx} name={`options[${i}].desc`} label={tf("flows.f.desc")} value={o.desc ?? ""} onInput={(desc) => put({ ...o, desc })} />
            {m.style === "keyword" && (
              <Words ctx={ctx} name={`options[${i}].keywords`} label={tf("flows.f.keywords")} value={o.keywords ?? []} onChange={(keywords) => put({ ...o, keywords })} />
            )}
          </>
        )}
      />
    </>
  );
}

function CollectFields(props: { ctx: Ctx; m: ModuleOf<"collect">; set: Set<ModuleOf<"collect">> }) {
  const { ctx, m, set } = props;
  type Option = Schemas["FormOption"];
  return (
    <>
      <Choice ctx={ctx} name="form" label={tf("flows.f.form")} value={m.form}
        options={[["text", tf("flows.form.text")], ["options", tf("flows.form.options")]]}
        onChange={(form) => set(form === "text" ? { ...m, form, options: [] } : { ...m, form, options: m.options?.length ? m.options : [{ content: "" }] }, "form")} />
      <Template ctx={ctx} name="text" label={tf("flows.f.question")} value={m.text} onInput={(text) => set({ ...m, text }, "text")} />
      <Text ctx={ctx} name="variable" label={tf("flows.f.variable")} value={m.variable} mono hint={tf("flows.hint.variable")}
        onInput={(variable) => set({ ...m, variable }, "variable")} />
      {m.form === "options" && (
        <>
          <Rows<Option>
            ctx={ctx} name="options" legend={tf("flows.f.options")} items={m.options ?? []} ordered
            onChange={(options) => set({ ...m, options }, "options")}
            add={() => ({ content: "" })} addLabel={tf("flows.add.option")} itemName={(i) => tf("flows.item.option", { n: i + 1 })}
            row={(o, i, put) => (
              <div class="row">
                <Text ctx={ctx} name={`options[${i}].content`} label={tf("flows.f.content")} value={o.content} onInput={(content) => put({ ...o, content })} />
                <Text ctx={ctx} name={`options[${i}].desc`} label={tf("flows.f.desc")} value={o.desc ?? ""} onInput={(desc) => put({ ...o, desc })} />
              </div>
            )}
          />
          <Template ctx={ctx} name="invalidPrompt" label={tf("flows.f.invalidPrompt")} value={m.invalidPrompt ?? ""} rows={2}
            onInput={(invalidPrompt) => set({ ...m, invalidPrompt }, "invalidPrompt")} />
        </>
      )}
    </>
  );
}

function TransferFields(props: { ctx: Ctx; m: ModuleOf<"transfer_to_agent">; set: Set<ModuleOf<"transfer_to_agent">>; groups: Schemas["GroupView"][] }) {
  const { ctx, m, set } = props;
  const known = props.groups.some((g) => g.id === m.group);
  return (
    <>
      <PField ctx={ctx} name="group" label={tf("flows.f.group")}>
        {(c) => (
          <select {...c} class="input" value={String(m.group)} onChange={(e) => set({ ...m, group: Number(e.currentTarget.value) }, "group")}>
            {!known && <option value={String(m.group)}>{m.group ? tf("flows.group.unknown", { id: m.group }) : tf("flows.group.choose")}</option>}
            {props.groups.map((g) => <option key={g.id} value={String(g.id)}>{g.name}</option>)}
          </select>
        )}
      </PField>
      <Template ctx={ctx} name="queueMessage" label={tf("flows.f.queueMessage")} value={m.queueMessage ?? ""} rows={2} hint={tf("flows.hint.queueMessage")}
        onInput={(queueMessage) => set({ ...m, queueMessage }, "queueMessage")} />
      <Template ctx={ctx} name="successMessage" label={tf("flows.f.successMessage")} value={m.successMessage ?? ""} rows={2} hint={tf("flows.hint.successMessage")}
        onInput={(successMessage) => set({ ...m, successMessage }, "successMessage")} />
    </>
  );
}

function ChatbotFields(props: { ctx: Ctx; m: ModuleOf<"chatbot">; set: Set<ModuleOf<"chatbot">> }) {
  const { ctx, m, set } = props;
  const bot = m.bot;
  return (
    <>
      <Choice ctx={ctx} name="bot.kind" label={tf("flows.f.bot")} value={bot.kind}
        options={[["faq", tf("flows.bot.faq")], ["webhook", tf("flows.bot.webhook")]]}
        onChange={(kind) => set({ ...m, bot: kind === "faq" ? { kind, threshold: 0.5, noAnswer: "" } : { kind, url: "https://", timeoutMs: 3000 } }, "bot.kind")} />
      {bot.kind === "faq" ? (
        <>
          <Num ctx={ctx} name="bot.threshold" label={tf("flows.f.threshold")} value={bot.threshold} step={0.05} min={0} max={1} hint={tf("flows.hint.threshold")}
            onInput={(threshold) => set({ ...m, bot: { ...bot, threshold } }, "bot.threshold")} />
          <Template ctx={ctx} name="bot.noAnswer" label={tf("flows.f.noAnswer")} value={bot.noAnswer ?? ""} rows={2}
            onInput={(noAnswer) => set({ ...m, bot: { ...bot, noAnswer } }, "bot.noAnswer")} />
          <p class="muted small"><a href="#/flows/faq">{tf("flows.faq.edit")}</a></p>
        </>
      ) : (
        <>
          <Text ctx={ctx} name="bot.url" label={tf("flows.f.url")} value={bot.url} mono type="url" onInput={(url) => set({ ...m, bot: { ...bot, url } }, "bot.url")} />
          <Num ctx={ctx} name="bot.timeoutMs" label={tf("flows.f.timeoutMs")} value={bot.timeoutMs} hint={tf("flows.hint.timeoutMs")}
            onInput={(timeoutMs) => set({ ...m, bot: { ...bot, timeoutMs } }, "bot.timeoutMs")} />
        </>
      )}
      <Words ctx={ctx} name="handoverKeywords" label={tf("flows.f.handoverKeywords")} value={m.handoverKeywords ?? []}
        onChange={(handoverKeywords) => set({ ...m, handoverKeywords }, "handoverKeywords")} />
    </>
  );
}

function EndFields(props: { ctx: Ctx; m: ModuleOf<"end">; set: Set<ModuleOf<"end">> }) {
  const { ctx, m, set } = props;
  return (
    <>
      <Num ctx={ctx} name="replyTimeoutSecs" label={tf("flows.f.replyTimeoutSecs")} value={m.replyTimeoutSecs ?? 0} min={0} max={86400} hint={tf("flows.hint.replyTimeout")}
        onInput={(replyTimeoutSecs) => set({ ...m, replyTimeoutSecs }, "replyTimeoutSecs")} />
      <Template ctx={ctx} name="autoTerminationMessage" label={tf("flows.f.autoTerminationMessage")} value={m.autoTerminationMessage ?? ""} rows={2}
        onInput={(autoTerminationMessage) => set({ ...m, autoTerminationMessage }, "autoTerminationMessage")} />
      <Template ctx={ctx} name="humanTerminationMessage" label={tf("flows.f.humanTerminationMessage")} value={m.humanTerminationMessage ?? ""} rows={2}
        onInput={(humanTerminationMessage) => set({ ...m, humanTerminationMessage }, "humanTerminationMessage")} />
    </>
  );
}
