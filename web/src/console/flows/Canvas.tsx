// The flow canvas: an SVG of node boxes and the links between their ports, under one
// transform for pan and zoom. Pointer driven (drag a node, drag from an output handle to a
// node to link, drag the background or hold space to pan, wheel to zoom) and keyboard
// driven (each node is a tab stop; arrows move it, Delete removes it). Hit-testing is in
// canvas space, so zoom never changes what a drop lands on.
import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { tf } from "./i18n";
import { NODE_W, moveNode, nodeAt, nodeHeight, portPoint, ports, connect, type FlowNode } from "./model";
import type { Editor } from "./store";
import { curve, EdgeView, edgePaths, NodeView } from "./Shapes";

/** What a pointer drag is doing. */
type Drag =
  | { kind: "pan"; sx: number; sy: number; vx: number; vy: number }
  | { kind: "move"; id: string; dx: number; dy: number; moved: boolean }
  | { kind: "link"; from: string; port: string };

const pending = signal<{ x1: number; y1: number; x2: number; y2: number } | null>(null);

/** The screen point of a pointer event, relative to the canvas's top-left corner. */
function local(svg: SVGSVGElement, e: PointerEvent | WheelEvent): { x: number; y: number } {
  const r = svg.getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

export function Canvas(props: { editor: Editor; onDelete: (id: string) => void; label: string }) {
  const ed = props.editor;
  const svg = useRef<SVGSVGElement>(null);
  const drag = useRef<Drag | null>(null);
  const space = useRef(false);
  const mv = ed.moving.value;
  const saved = ed.graph.value;
  // The graph as drawn: the node being dragged where the pointer has it.
  const g = mv ? { ...saved, nodes: saved.nodes.map((n) => (n.id === mv.id ? { ...n, position: { x: mv.x, y: mv.y } } : n)) } : saved;
  const v = ed.view.value;
  const sel = ed.selected.value;
  void ed.errors.value;

  useEffect(() => {
    const el = svg.current;
    if (!el) return;
    ed.svg = el;
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      const p = local(el, e);
      ed.zoom(Math.exp(-e.deltaY * 0.0015), p.x, p.y);
    };
    const keys = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.code === "Space" && !(t && /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) space.current = e.type === "keydown";
    };
    el.addEventListener("wheel", wheel, { passive: false });
    addEventListener("keydown", keys);
    addEventListener("keyup", keys);
    return () => {
      el.removeEventListener("wheel", wheel);
      removeEventListener("keydown", keys);
      removeEventListener("keyup", keys);
    };
  }, []);

  const toCanvas = (e: PointerEvent) => {
    const el = svg.current;
    const view = ed.view.value;
    if (!el) return { x: 0, y: 0 };
    const p = local(el, e);
    return { x: (p.x - view.x) / view.k, y: (p.y - view.y) / view.k };
  };

  /** Follows the pointer until it is released, wherever it goes. */
  const follow = (first: Drag) => {
    drag.current = first;
    const move = (e: PointerEvent) => {
      const d = drag.current;
      if (!d) return;
      if (d.kind === "pan") {
        ed.view.value = { ...ed.view.value, x: d.vx + e.clientX - d.sx, y: d.vy + e.clientY - d.sy };
      } else if (d.kind === "move") {
        const p = toCanvas(e);
        d.moved = true;
        ed.moving.value = { id: d.id, x: Math.round(p.x - d.dx), y: Math.round(p.y - d.dy) };
      } else {
        const from = ed.graph.value.nodes.find((n) => n.id === d.from);
        if (!from) return;
        const a = portPoint(from, ports(from.module).indexOf(d.port));
        const p = toCanvas(e);
        pending.value = { x1: a.x, y1: a.y, x2: p.x, y2: p.y };
      }
    };
    const up = (e: PointerEvent) => {
      removeEventListener("pointermove", move);
      removeEventListener("pointerup", up);
      const d = drag.current;
      drag.current = null;
      pending.value = null;
      ed.settle();
      const mv = ed.moving.value;
      if (d?.kind === "move" && mv) {
        ed.moving.value = null;
        ed.change(moveNode(ed.graph.value, mv.id, mv.x, mv.y));
      }
      if (d?.kind !== "link") return;
      const p = toCanvas(e);
      const target = nodeAt(ed.graph.value, p.x, p.y);
      if (target && target.module.type !== "start" && target.id !== d.from) ed.change(connect(ed.graph.value, d.from, d.port, target.id));
    };
    addEventListener("pointermove", move);
    addEventListener("pointerup", up);
  };

  const pan = (e: PointerEvent) => {
    const view = ed.view.value;
    follow({ kind: "pan", sx: e.clientX, sy: e.clientY, vx: view.x, vy: view.y });
  };

  const onBackground = (e: PointerEvent) => {
    if (e.button !== 0) return;
    e.preventDefault();
    ed.selected.value = null;
    pan(e);
  };

  const onNode = (e: PointerEvent, node: FlowNode) => {
    if (e.button !== 0) return;
    e.stopPropagation();
    e.preventDefault();
    const box = e.currentTarget as SVGGElement;
    ed.selected.value = { kind: "node", id: node.id };
    if (space.current || ed.readOnly) pan(e);
    else {
      const p = toCanvas(e);
      const pos = node.position ?? { x: 0, y: 0 };
      follow({ kind: "move", id: node.id, dx: p.x - pos.x, dy: p.y - pos.y, moved: false });
    }
    // Focused once the drag is under way, so a click never pans the view to the node.
    box.focus({ preventScroll: true });
  };

  const onPort = (e: PointerEvent, node: FlowNode, port: string) => {
    if (e.button !== 0) return;
    e.stopPropagation();
    e.preventDefault();
    follow({ kind: "link", from: node.id, port });
  };

  const onEdge = (e: PointerEvent, index: number) => {
    if (e.button !== 0) return;
    e.stopPropagation();
    e.preventDefault();
    ed.selected.value = { kind: "edge", index };
    svg.current?.focus({ preventScroll: true });
  };

  const onNodeKey = (e: KeyboardEvent, node: FlowNode) => {
    const step = e.shiftKey ? 40 : 10;
    const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    const m = moves[e.key];
    if (m && !ed.readOnly) {
      e.preventDefault();
      const cur = ed.graph.value.nodes.find((n) => n.id === node.id);
      const pos = cur?.position ?? { x: 0, y: 0 };
      ed.change(moveNode(ed.graph.value, node.id, pos.x + m[0], pos.y + m[1]), `keys:${node.id}`);
    } else if (e.key === "Enter") {
      // Into the node's fields; Escape there comes back here.
      e.preventDefault();
      document.querySelector<HTMLElement>(".flow-panel .panel-body :is(input, select, textarea)")?.focus();
    } else if ((e.key === "Delete" || e.key === "Backspace") && !ed.readOnly) {
      e.preventDefault();
      e.stopPropagation();
      props.onDelete(node.id);
    }
  };

  // A node reached by Tab comes into view: the view pans to it when it is outside.
  const onNodeFocus = (node: FlowNode) => {
    ed.selected.value = { kind: "node", id: node.id };
    const el = svg.current;
    if (!el || drag.current) return;
    const r = el.getBoundingClientRect();
    const view = ed.view.value;
    const pos = node.position ?? { x: 0, y: 0 };
    const x0 = pos.x * view.k + view.x;
    const y0 = pos.y * view.k + view.y;
    const x1 = x0 + NODE_W * view.k;
    const y1 = y0 + nodeHeight(node.module) * view.k;
    if (x0 >= 0 && y0 >= 0 && x1 <= r.width && y1 <= r.height) return;
    ed.view.value = { ...view, x: r.width / 2 - (pos.x + NODE_W / 2) * view.k, y: r.height / 2 - (pos.y + nodeHeight(node.module) / 2) * view.k };
  };

  const paths = edgePaths(g);
  const p = pending.value;
  return (
    <svg
      ref={svg}
      class="flow-svg"
      role="application"
      aria-label={props.label}
      aria-roledescription={tf("flows.canvas.role")}
      tabindex={-1}
      onPointerDown={onBackground}
    >
      <defs>
        <marker id="flow-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" class="farrow" />
        </marker>
        <pattern id="flow-grid" width={24 * v.k} height={24 * v.k} patternUnits="userSpaceOnUse" x={v.x} y={v.y}>
          <circle cx={1} cy={1} r={1} class="fgrid-dot" />
        </pattern>
      </defs>
      <rect class="flow-bg" width="100%" height="100%" fill="url(#flow-grid)" />
      <g transform={`translate(${v.x},${v.y}) scale(${v.k})`}>
        {g.edges.map((e, i) => {
          const d = paths[i];
          return d ? <EdgeView key={`${e.from}:${e.port}`} d={d} index={i} selected={sel?.kind === "edge" && sel.index === i} onDown={onEdge} /> : null;
        })}
        {p && <path class="fedge-pending" d={curve(p.x1, p.y1, p.x2, p.y2)} />}
        {g.nodes.map((n) => (
          <NodeView
            key={n.id}
            node={n}
            selected={sel?.kind === "node" && sel.id === n.id}
            errors={ed.errorsAt(n.id).length}
            readOnly={ed.readOnly}
            onDown={onNode}
            onPort={onPort}
            onKey={onNodeKey}
            onFocus={onNodeFocus}
          />
        ))}
      </g>
    </svg>
  );
}
