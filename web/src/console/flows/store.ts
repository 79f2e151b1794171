// One open flow's editing state: the graph, what is selected, the view's pan and zoom, the
// server's refusal, and undo as a stack of whole graphs (graphs are immutable, so a step
// costs one reference; a drag or a run of typing in one field is one step).
import { signal, type Signal } from "@preact/signals";
import type { Schemas } from "../../core/api";
import { bounds, type Graph } from "./model";

export type Selection = { kind: "node"; id: string } | { kind: "edge"; index: number } | null;

export interface View {
  x: number;
  y: number;
  k: number;
}

export type FlowError = Schemas["FlowError"];

/** Most undo steps kept. */
const MAX_HISTORY = 200;
export const MIN_ZOOM = 0.2;
export const MAX_ZOOM = 2.5;
/** The smallest zoom a flow opens at: node names stay readable. */
const READABLE_ZOOM = 0.6;

export class Editor {
  graph: Signal<Graph>;
  selected = signal<Selection>(null);
  view = signal<View>({ x: 0, y: 0, k: 1 });
  errors = signal<FlowError[]>([]);
  /** Bumped when undo or redo becomes possible or not, for the buttons. */
  steps = signal(0);
  readonly readOnly: boolean;
  /** The canvas element, for drops from the palette and the view's size. */
  svg: SVGSVGElement | null = null;
  /** A node being dragged, where it is now: only the canvas redraws while it moves; the
   * graph (and the undo stack) takes the move when the pointer is released. */
  moving = signal<{ id: string; x: number; y: number } | null>(null);
  /** Bumped after a refused save, so the panel focuses the first field at fault. */
  jump = signal(0);
  private past: Graph[] = [];
  private future: Graph[] = [];
  private lastKey: string | null = null;

  constructor(graph: Graph, readOnly = false) {
    this.graph = signal(graph);
    this.readOnly = readOnly;
  }

  /**
   * Makes `next` the graph as one undo step; calls with the same `key` in a row (typing in
   * one field, a drag) are one step together.
   */
  change(next: Graph, key: string | null = null): void {
    if (this.readOnly || next === this.graph.value) return;
    if (key === null || key !== this.lastKey) {
      this.past.push(this.graph.value);
      if (this.past.length > MAX_HISTORY) this.past.shift();
    }
    this.lastKey = key;
    this.future = [];
    this.graph.value = next;
    this.steps.value++;
  }

  /** Ends a run of same-key changes, so the next change is a step of its own. */
  settle(): void {
    this.lastKey = null;
  }

  canUndo(): boolean {
    return this.past.length > 0;
  }

  canRedo(): boolean {
    return this.future.length > 0;
  }

  undo(): void {
    const prev = this.past.pop();
    if (!prev) return;
    this.future.push(this.graph.value);
    this.restore(prev);
  }

  redo(): void {
    const next = this.future.pop();
    if (!next) return;
    this.past.push(this.graph.value);
    this.restore(next);
  }

  private restore(g: Graph): void {
    this.lastKey = null;
    this.graph.value = g;
    const s = this.selected.value;
    if (s?.kind === "node" && !g.nodes.some((n) => n.id === s.id)) this.selected.value = null;
    if (s?.kind === "edge" && s.index >= g.edges.length) this.selected.value = null;
    this.steps.value++;
  }

  /** The errors the server found at a node. */
  errorsAt(id: string): FlowError[] {
    return this.errors.value.filter((e) => e.node === id);
  }

  /** Zooms by `factor` keeping the canvas point under (sx, sy) of the screen where it is. */
  zoom(factor: number, sx: number, sy: number): void {
    const v = this.view.value;
    const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.k * factor));
    const mx = (sx - v.x) / v.k;
    const my = (sy - v.y) / v.k;
    this.view.value = { k, x: sx - mx * k, y: sy - my * k };
  }

  /** Shows every node in a `w` by `h` viewport. */
  fit(w: number, h: number): void {
    const b = bounds(this.graph.value);
    const pad = 40;
    const k = Math.min(1.2, Math.max(MIN_ZOOM, Math.min((w - 2 * pad) / b.w, (h - 2 * pad) / b.h)));
    this.view.value = { k, x: (w - b.w * k) / 2 - b.x * k, y: (h - b.h * k) / 2 - b.y * k };
  }

  /**
   * The view a flow opens in: all of it when that stays legible, otherwise its beginning at
   * a readable zoom (Fit shows the whole of it).
   */
  open(w: number, h: number): void {
    this.fit(w, h);
    if (this.view.value.k >= READABLE_ZOOM) return;
    const b = bounds(this.graph.value);
    const start = this.graph.value.nodes.find((n) => n.module.type === "start")?.position ?? { x: b.x, y: b.y };
    const k = READABLE_ZOOM;
    const y = b.h * k + 48 <= h ? (h - b.h * k) / 2 - b.y * k : Math.min(24 - b.y * k, h / 3 - start.y * k);
    this.view.value = { k, x: 24 - b.x * k, y };
  }

  /** The canvas point at the centre of a `w` by `h` viewport. */
  centre(w: number, h: number): { x: number; y: number } {
    const v = this.view.value;
    return { x: (w / 2 - v.x) / v.k, y: (h / 2 - v.y) / v.k };
  }
}
