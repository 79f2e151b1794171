// The property panel: every field of the selected node's module, where each port leads
// (the keyboard's way to link), and the server's errors at their fields; or the selected
// link with its delete.
import { useEffect, useRef } from "preact/hooks";
import type { Schemas } from "../../core/api";
import { tf } from "./i18n";
import { connect, ports, setModule, variables, type FlowNode, type Module } from "./model";
import { moduleName, portLabel } from "./names";
import type { Editor, FlowError } from "./store";
import { ModuleFields } from "./fields";
import { isClaimed, PField, Text, type Ctx } from "./widgets";

export function Panel(props: { editor: Editor; groups: Schemas["GroupView"][]; onDelete: (id: string) => void }) {
  const ed = props.editor;
  const g = ed.graph.value;
  const sel = ed.selected.value;
  const box = useRef<HTMLElement>(null);
  const jump = ed.jump.value;
  useEffect(() => {
    if (jump === 0) return;
    const first = box.current?.querySelector<HTMLElement>(".invalid input, .invalid select, .invalid textarea, .panel-errors");
    first?.focus();
  }, [jump]);
  if (sel?.kind === "edge") {
    const e = g.edges[sel.index];
    if (!e) return null;
    const from = g.nodes.find((n) => n.id === e.from);
    const to = g.nodes.find((n) => n.id === e.to);
    return (
      <aside class="flow-panel" aria-label={tf("flows.panel.link")} ref={box}>
        <h2>{tf("flows.panel.link")}</h2>
        <p>{tf("flows.link.describe", { from: from?.label || e.from, port: from ? portLabel(from.module, e.port) : e.port, to: to?.label || e.to })}</p>
        {!ed.readOnly && (
          <button type="button" class="btn btn-danger" onClick={() => {
            ed.change({ ...g, edges: g.edges.filter((_, i) => i !== sel.index) });
            ed.selected.value = null;
          }}>{tf("flows.link.delete")}</button>
        )}
      </aside>
    );
  }
  const node = sel?.kind === "node" ? g.nodes.find((n) => n.id === sel.id) : undefined;
  if (!node)
    return (
      <aside class="flow-panel" aria-label={tf("flows.panel.title")} ref={box}>
        <h2>{tf("flows.panel.title")}</h2>
        <p class="muted">{tf("flows.panel.none")}</p>
        <p class="muted small">{tf("flows.panel.keys")}</p>
      </aside>
    );
  return <NodePanel key={node.id} editor={ed} node={node} groups={props.groups} onDelete={props.onDelete} box={box} />;
}

function NodePanel(props: { editor: Editor; node: FlowNode; groups: Schemas["GroupView"][]; onDelete: (id: string) => void; box: { current: HTMLElement | null } }) {
  const ed = props.editor;
  const { node } = props;
  const g = ed.graph.value;
  const ctx: Ctx = { node: node.id, errors: ed.errorsAt(node.id), claimed: new Set(), variables: variables(g), readOnly: ed.readOnly };
  const fixed = node.module.type === "start" || node.module.type === "end";
  const set = (m: Module, key: string, renamed?: { from: string; to: string }) =>
    ed.change(setModule(ed.graph.value, node.id, m, renamed), `${node.id}:${key}`);
  const targets = g.nodes.filter((n) => n.module.type !== "start");
  return (
    <aside class="flow-panel" aria-label={tf("flows.panel.of", { name: node.label || node.id })} ref={props.box}>
      <div class="panel-head">
        <div>
          <h2>{node.label || node.id}</h2>
          <span class="muted small">{moduleName(node.module.type)} · <code>{node.id}</code></span>
        </div>
        {!ed.readOnly && (
          <button type="button" class="btn btn-sm btn-danger" disabled={fixed} title={fixed ? tf("flows.node.fixed") : undefined} onClick={() => props.onDelete(node.id)}>
            {tf("flows.node.delete")}
          </button>
        )}
      </div>
      <div class="panel-body">
        <Text ctx={ctx} name="label" label={tf("flows.f.label")} value={node.label ?? ""}
          onInput={(label) => ed.change({ ...ed.graph.value, nodes: ed.graph.value.nodes.map((n) => (n.id === node.id ? { ...n, label } : n)) }, `${node.id}:label`)} />
        <ModuleFields ctx={ctx} m={node.module} set={set} groups={props.groups} />
        {ports(node.module).length > 0 && (
          <fieldset class="fieldset">
            <legend>{tf("flows.links")}</legend>
            {ports(node.module).map((port) => {
              const to = g.edges.find((e) => e.from === node.id && e.port === port)?.to ?? "";
              return (
                <PField key={port} ctx={ctx} name={`ports.${port}`} label={tf("flows.link.connect", { port: portLabel(node.module, port) })}>
                  {(c) => (
                    <select {...c} class="input" value={to} onChange={(e) => ed.change(connect(ed.graph.value, node.id, port, e.currentTarget.value || null))}>
                      <option value="">{tf("flows.link.none")}</option>
                      {targets.map((n) => <option key={n.id} value={n.id}>{`${n.label || n.id} (${moduleName(n.module.type)})`}</option>)}
                    </select>
                  )}
                </PField>
              );
            })}
          </fieldset>
        )}
        <Unclaimed ctx={ctx} />
      </div>
    </aside>
  );
}

/** The node's errors no field above shows (`id`, `edges`), listed first in the panel. */
function Unclaimed(props: { ctx: Ctx }) {
  const rest: FlowError[] = props.ctx.errors.filter((e) => !isClaimed(props.ctx.claimed, e));
  if (rest.length === 0) return null;
  return (
    <div class="alert panel-errors" tabIndex={-1}>
      <ul>
        {rest.map((e, i) => <li key={i}><code>{e.field}</code>: {e.message}</li>)}
      </ul>
    </div>
  );
}
