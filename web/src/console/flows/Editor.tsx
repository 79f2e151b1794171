// The flow editor at `#/flows/<id>`: the palette, the canvas and the property panel, a
// toolbar (save, undo/redo, zoom, fit, layout, versions), and the server's refusal of a save
// shown on the nodes and fields at fault.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { call, type ApiError, type Schemas } from "../../core/api";
import { go, href } from "../router";
import { Confirm, Loaded } from "../ui/kit";
import { checked, toApiError, useResource } from "../ui/resource";
import { toast } from "../ui/toast";
import { tu } from "../ui/i18n";
import { Canvas } from "./Canvas";
import { tf } from "./i18n";
import { fresh, freshId, layout, needsLayout, NODE_W, removeNode, type Graph, type ModuleType } from "./model";
import { Palette } from "./Palette";
import { Panel } from "./Panel";
import { Editor } from "./store";
import { Versions } from "./Versions";

type FlowView = Schemas["FlowView"];
type GroupView = Schemas["GroupView"];

export function FlowEditor(props: { id: number }) {
  const flow = useResource(() => call<FlowView>("GET", `/flows/${props.id}`), [props.id]);
  // A role without the skill groups module still edits flows; its transfer picker shows ids.
  const groups = useResource(() => call<GroupView[]>("GET", "/skill-groups").catch(() => [] as GroupView[]), []);
  return (
    <Loaded resource={flow}>
      {(f) => (
        <Loaded resource={groups}>
          {(gs) => <Workspace key={`${f.id}:${f.version}`} flow={f} groups={gs} reload={() => void flow.reload()} />}
        </Loaded>
      )}
    </Loaded>
  );
}

const isControl = (t: EventTarget | null) => t instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName);

function Workspace(props: { flow: FlowView; groups: GroupView[]; reload: () => void }) {
  const f = props.flow;
  const ed = useMemo(() => new Editor(needsLayout(f.graph) ? layout(f.graph) : f.graph), []);
  const [name, setName] = useState(f.name);
  const [saved, setSaved] = useState<{ graph: Graph; name: string; version: number }>({ graph: ed.graph.value, name: f.name, version: f.version });
  const [refusal, setRefusal] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [versions, setVersions] = useState(false);
  const [preview, setPreview] = useState<Schemas["FlowVersionView"] | null>(null);
  const [leaving, setLeaving] = useState(false);
  void ed.steps.value;
  const g = ed.graph.value;
  const dirty = g !== saved.graph || name !== saved.name;

  const size = () => {
    const r = ed.svg?.getBoundingClientRect();
    return { w: r?.width ?? 800, h: r?.height ?? 600 };
  };
  const fit = () => {
    const s = size();
    ed.fit(s.w, s.h);
  };
  useEffect(() => {
    const s = size();
    ed.open(s.w, s.h);
  }, []);

  const focusNode = (id: string) =>
    requestAnimationFrame(() => ed.svg?.querySelector<SVGGElement>(`[data-node="${CSS.escape(id)}"]`)?.focus({ preventScroll: true }));

  const remove = (id: string) => {
    const node = ed.graph.value.nodes.find((n) => n.id === id);
    if (!node) return;
    if (node.module.type === "start" || node.module.type === "end") {
      toast(tf("flows.node.fixed"), "error");
      return;
    }
    ed.change(removeNode(ed.graph.value, id));
    ed.selected.value = null;
    requestAnimationFrame(() => ed.svg?.focus({ preventScroll: true }));
  };

  const add = (type: ModuleType, at: { clientX: number; clientY: number } | null) => {
    const svg = ed.svg;
    if (!svg) return;
    const r = svg.getBoundingClientRect();
    const v = ed.view.value;
    let x: number, y: number;
    if (at) {
      if (at.clientX < r.left || at.clientX > r.right || at.clientY < r.top || at.clientY > r.bottom) return;
      x = (at.clientX - r.left - v.x) / v.k - NODE_W / 2;
      y = (at.clientY - r.top - v.y) / v.k - 20;
    } else {
      const c = ed.centre(r.width, r.height);
      x = c.x - NODE_W / 2;
      y = c.y - 30;
    }
    const graph = ed.graph.value;
    const id = freshId(graph, type);
    const node = { id, label: "", module: fresh(type, props.groups[0]?.id ?? null), position: { x: Math.round(x), y: Math.round(y) } };
    ed.change({ ...graph, nodes: [...graph.nodes, node] });
    ed.selected.value = { kind: "node", id };
    focusNode(id);
  };

  const save = async () => {
    if (busy) return;
    setBusy(true);
    setRefusal(null);
    const graph = ed.graph.value;
    try {
      const v = await call<FlowView>("PUT", `/flows/${f.id}`, { name, graph });
      ed.errors.value = [];
      setSaved({ graph, name, version: v.version });
      toast(tf("flows.saved", { version: v.version }));
    } catch (e) {
      const err = toApiError(checked(e));
      const list = err.detail?.errors ?? [];
      ed.errors.value = list;
      setRefusal(err);
      const first = list.find((x) => x.node && graph.nodes.some((n) => n.id === x.node));
      if (first?.node) {
        ed.selected.value = { kind: "node", id: first.node };
        ed.jump.value++;
      }
    } finally {
      setBusy(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.defaultPrevented || preview) return;
    // A dialog (versions, a confirmation) keeps its keys.
    if (e.target instanceof Element && e.target.closest(".dialog")) return;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.key.toLowerCase() === "s") {
      // Saving works from a text field too (the browser's own "save page" is never meant here).
      e.preventDefault();
      void save();
      return;
    }
    if (isControl(e.target)) {
      // Escape in the panel goes back to the node on the canvas.
      const s = ed.selected.value;
      if (e.key === "Escape" && s?.kind === "node") focusNode(s.id);
      return;
    }
    if (mod && e.key.toLowerCase() === "z") {
      e.preventDefault();
      if (e.shiftKey) ed.redo();
      else ed.undo();
    } else if (mod && e.key.toLowerCase() === "y") {
      e.preventDefault();
      ed.redo();
    } else if (e.key === "Delete" || e.key === "Backspace") {
      const s = ed.selected.value;
      if (!s) return;
      e.preventDefault();
      if (s.kind === "edge") {
        ed.change({ ...ed.graph.value, edges: ed.graph.value.edges.filter((_, i) => i !== s.index) });
        ed.selected.value = null;
      } else remove(s.id);
    } else if (e.key === "Escape") {
      ed.selected.value = null;
    }
  };

  // Closing or reloading the tab with unsaved changes asks first (the browser's own words).
  useEffect(() => {
    if (!dirty) return;
    const ask = (e: BeforeUnloadEvent) => e.preventDefault();
    addEventListener("beforeunload", ask);
    return () => removeEventListener("beforeunload", ask);
  }, [dirty]);

  // The editor's keys work wherever focus is on the page (the canvas, a toolbar button, the
  // page itself after a node is deleted), except in text fields, whose own undo they keep.
  const keys = useRef(onKeyDown);
  keys.current = onKeyDown;
  useEffect(() => {
    const f = (e: KeyboardEvent) => keys.current(e);
    document.addEventListener("keydown", f);
    return () => document.removeEventListener("keydown", f);
  }, []);

  const graphErrors = ed.errors.value.filter((x) => !x.node || !g.nodes.some((n) => n.id === x.node));
  const faulty = new Set(ed.errors.value.map((x) => x.node).filter(Boolean)).size;
  const nameError = refusal?.field === "name" ? refusal.message : null;
  return (
    <div class="flow-editor">
      <header class="flow-top">
        <a class="btn btn-sm btn-ghost" href={href("flows")} onClick={(e) => {
          if (!dirty) return;
          e.preventDefault();
          setLeaving(true);
        }}>{tf("flows.back")}</a>
        <h1 class="sr-only">{tf("flows.editor.title", { name: saved.name })}</h1>
        <div class={`field flow-name ${nameError ? "invalid" : ""}`}>
          <label for="flow-name" class="sr-only">{tf("flows.name")}</label>
          <input id="flow-name" class="input" value={name} aria-invalid={nameError !== null} aria-describedby={nameError ? "flow-name-err" : undefined}
            onInput={(e) => setName(e.currentTarget.value)} />
          {nameError && <span class="error-text" id="flow-name-err">{nameError}</span>}
        </div>
        <span class="badge" title={tf("flows.version.title")}>{tf("flows.version", { version: saved.version })}</span>
        {/* Always in the bar, so the canvas never moves when it shows. */}
        <span class={`badge badge-warn ${dirty ? "" : "hidden"}`} aria-hidden={!dirty}>{tf("flows.unsaved")}</span>
        <span class="spacer" />
        <div class="toolbar flow-tools" role="toolbar" aria-label={tf("flows.tools")}>
          <button type="button" class="btn btn-sm" disabled={!ed.canUndo()} onClick={() => ed.undo()} title="Ctrl+Z">{tf("flows.undo")}</button>
          <button type="button" class="btn btn-sm" disabled={!ed.canRedo()} onClick={() => ed.redo()} title="Ctrl+Shift+Z">{tf("flows.redo")}</button>
          <button type="button" class="btn btn-sm" aria-label={tf("flows.zoomOut")} onClick={() => ed.zoom(1 / 1.2, size().w / 2, size().h / 2)}>−</button>
          <Zoom editor={ed} />
          <button type="button" class="btn btn-sm" aria-label={tf("flows.zoomIn")} onClick={() => ed.zoom(1.2, size().w / 2, size().h / 2)}>+</button>
          <button type="button" class="btn btn-sm" onClick={fit}>{tf("flows.fit")}</button>
          <button type="button" class="btn btn-sm" onClick={() => {
            ed.change(layout(ed.graph.value));
            const s = size();
            ed.open(s.w, s.h);
          }}>{tf("flows.layout")}</button>
          <button type="button" class="btn btn-sm" onClick={() => setVersions(true)}>{tf("flows.versions")}</button>
          <button type="button" class="btn btn-sm btn-primary" disabled={busy} onClick={() => void save()}>{busy ? tu("ui.saving") : tu("ui.save")}</button>
        </div>
      </header>
      {refusal && !nameError && (
        <div class="alert flow-refusal" role="alert">
          <p>
            <strong>{refusal.message}</strong>
            {faulty > 0 && <span> · {tf("flows.errors.marked", { count: faulty })}</span>}
          </p>
          {graphErrors.length > 0 && (
            <ul>
              {graphErrors.map((x, i) => <li key={i}><code>{x.field}</code>{x.node ? ` (${x.node})` : ""}: {x.message}</li>)}
            </ul>
          )}
        </div>
      )}
      {preview ? (
        <PreviewVersion version={preview} groups={props.groups} onBack={() => setPreview(null)} onRestore={() => setVersions(true)} />
      ) : (
        <div class="flow-body">
          <Palette onAdd={add} disabled={false} />
          <div class="flow-canvas">
            <Canvas editor={ed} onDelete={remove} label={tf("flows.canvas.label", { name: saved.name })} />
          </div>
          <Panel editor={ed} groups={props.groups} onDelete={remove} />
        </div>
      )}
      {leaving && (
        <Confirm title={tf("flows.leave.title")} text={tf("flows.leave.text")} confirmLabel={tf("flows.leave.confirm")} danger
          action={async () => go("flows")} onClose={() => setLeaving(false)} />
      )}
      {versions && (
        <Versions
          flow={f.id}
          current={saved.version}
          onClose={() => setVersions(false)}
          onView={(v) => {
            setPreview(v);
            setVersions(false);
          }}
          onRestored={() => {
            setVersions(false);
            props.reload();
          }}
        />
      )}
    </div>
  );
}

/** The zoom, on its own so a pan redraws only this and the canvas. */
function Zoom(props: { editor: Editor }) {
  return <span class="zoom muted" aria-live="polite">{Math.round(props.editor.view.value.k * 100)}%</span>;
}

/** An old version on a read-only canvas, with its panel, until the person goes back. */
function PreviewVersion(props: { version: Schemas["FlowVersionView"]; groups: GroupView[]; onBack: () => void; onRestore: () => void }) {
  const ed = useMemo(() => new Editor(needsLayout(props.version.graph) ? layout(props.version.graph) : props.version.graph, true), [props.version]);
  useEffect(() => {
    const r = ed.svg?.getBoundingClientRect();
    if (r) ed.fit(r.width, r.height);
  }, [ed]);
  return (
    <>
      <div class="alert alert-info flow-preview">
        <span>{tf("flows.preview", { version: props.version.version, name: props.version.name })}</span>
        <span class="spacer" />
        <button type="button" class="btn btn-sm" onClick={props.onRestore}>{tf("flows.versions")}</button>
        <button type="button" class="btn btn-sm btn-primary" onClick={props.onBack}>{tf("flows.preview.back")}</button>
      </div>
      <div class="flow-body preview">
        <div class="flow-canvas">
          <Canvas editor={ed} onDelete={() => {}} label={tf("flows.canvas.label", { name: props.version.name })} />
        </div>
        <Panel editor={ed} groups={props.groups} onDelete={() => {}} />
      </div>
    </>
  );
}
