// A flow's graph as the canvas sees it: the ten modules with their ports and a new node's
// configuration, the size of a node's box, and the layered layout of a flow that has no
// positions. Pure functions over the API's own types, so what the canvas edits is exactly
// what the server stores and a flow loads and saves back unchanged.
import type { Schemas } from "../../core/api";

export type Graph = Schemas["Graph"];
export type FlowNode = Schemas["Node"];
export type Edge = Schemas["Edge"];
export type Module = Schemas["FlowModule"];
export type ModuleType = Module["type"];
export type ModuleOf<T extends ModuleType> = Extract<Module, { type: T }>;

/** The palette's order: the eight a person adds (start and end are always there). */
export const PALETTE: ModuleType[] = [
  "send_message", "branch", "service_time", "collect", "interface_call", "condition", "chatbot", "transfer_to_agent",
];

/** Every module, in the order the legend names them. */
export const MODULES: ModuleType[] = ["start", ...PALETTE, "end"];

/** The parameters every flow knows from its start (the server's SYSTEM_PARAMS). */
export const SYSTEM_PARAMS = ["WaitNo", "StaffNo", "StaffNickName", "ChannelId", "ChannelName", "UserId", "SystemSessionId"];

/** A module's output ports, in order (the server's `Module::ports`). */
export function ports(m: Module): string[] {
  switch (m.type) {
    case "service_time":
      return ["in_hours", "out_of_hours"];
    case "branch":
      return m.options.map((o) => o.port);
    case "condition":
      return [...m.branches.map((b) => b.port), "default"];
    case "chatbot":
      return ["handover"];
    case "end":
      return [];
    default:
      return ["next"];
  }
}

/** The variables a module sets (collect's variable, an interface call's response fields). */
export function sets(m: Module): string[] {
  if (m.type === "collect") return m.variable ? [m.variable] : [];
  if (m.type === "interface_call") return (m.response ?? []).map((f) => f.variable).filter(Boolean);
  return [];
}

/** Every variable some node of the graph sets, for the pickers. */
export function variables(g: Graph): string[] {
  return [...new Set(g.nodes.flatMap((n) => sets(n.module)))].sort();
}

/** A new node's configuration: valid as far as it goes, with texts left for the person. */
export function fresh(type: ModuleType, group: number | null): Module {
  switch (type) {
    case "start":
      return { type };
    case "send_message":
      return { type, text: "" };
    case "branch":
      return { type, style: "menu", text: "", invalidPrompt: "", options: [{ port: "option1", content: "" }, { port: "option2", content: "" }] };
    case "service_time":
      return {
        type, timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
        weekly: [{ days: ["mon", "tue", "wed", "thu", "fri"], hours: [{ from: "09:00", to: "18:00" }] }], exceptions: [],
      };
    case "collect":
      return { type, form: "text", text: "", variable: "" };
    case "interface_call":
      return { type, url: "https://", params: [], response: [], timeoutMs: 3000, maxAttempts: 1 };
    case "condition":
      return { type, branches: [{ port: "branch1", combine: "all", conditions: [{ variable: "", op: "eq", value: "" }] }] };
    case "chatbot":
      return { type, bot: { kind: "faq", threshold: 0.5, noAnswer: "" }, handoverKeywords: [] };
    case "transfer_to_agent":
      return { type, group: group ?? 0, queueMessage: "", successMessage: "" };
    case "end":
      return { type, replyTimeoutSecs: 0, autoTerminationMessage: "", humanTerminationMessage: "" };
  }
}

/** An id no node of `g` has, from the module's name. */
export function freshId(g: Graph, type: ModuleType): string {
  const taken = new Set(g.nodes.map((n) => n.id));
  for (let i = 1; ; i++) if (!taken.has(`${type}_${i}`)) return `${type}_${i}`;
}

/** A port name `prefix<n>` none of `taken` is. */
export function freshPort(taken: string[], prefix: string): string {
  for (let i = 1; ; i++) if (!taken.includes(`${prefix}${i}`)) return `${prefix}${i}`;
}

/** What a brand-new flow holds: start connected to end. */
export function newGraph(): Graph {
  return {
    nodes: [
      { id: "start", label: "", module: { type: "start" }, position: { x: 40, y: 80 } },
      { id: "end", label: "", module: fresh("end", null), position: { x: 340, y: 80 } },
    ],
    edges: [{ from: "start", port: "next", to: "end" }],
  };
}

// A node's box: a header with its name and module, then one row per output port, each with
// its handle on the right edge; the input handle sits at the header's left edge.
export const NODE_W = 200;
export const HEAD_H = 44;
export const PORT_H = 22;

export function nodeHeight(m: Module): number {
  return HEAD_H + Math.max(ports(m).length, 0) * PORT_H + 8;
}

/** Where a port's handle is, in canvas pixels. */
export function portPoint(n: FlowNode, index: number): { x: number; y: number } {
  const p = n.position ?? { x: 0, y: 0 };
  return { x: p.x + NODE_W, y: p.y + HEAD_H + index * PORT_H + PORT_H / 2 };
}

/** Where a node's input handle is. */
export function inputPoint(n: FlowNode): { x: number; y: number } {
  const p = n.position ?? { x: 0, y: 0 };
  return { x: p.x, y: p.y + HEAD_H / 2 };
}

/** The node under a canvas point, the topmost (last drawn) first. */
export function nodeAt(g: Graph, x: number, y: number): FlowNode | null {
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n?.position) continue;
    const { x: nx, y: ny } = n.position;
    if (x >= nx && x <= nx + NODE_W && y >= ny && y <= ny + nodeHeight(n.module)) return n;
  }
  return null;
}

const LAYER_GAP = 250;
const ROW_GAP = 28;

/**
 * A layered layout from start: links that lead back (loops) are set aside, then each node
 * goes one layer right of its furthest parent, so the flow reads left to right in the order
 * a user goes through it; nodes start does not reach go in a last layer. Each layer is a
 * column of boxes stacked without overlap, in the order their parents' ports reach them.
 */
export function layout(g: Graph): Graph {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const out = new Map<string, string[]>();
  for (const n of g.nodes) {
    const edges = g.edges.filter((e) => e.from === n.id && byId.has(e.to));
    out.set(n.id, ports(n.module).flatMap((p) => edges.filter((e) => e.port === p).map((e) => e.to)));
  }
  // Depth-first from start: the order nodes finish in, and the links back to a node still open.
  const state = new Map<string, "open" | "done">();
  const finished: string[] = [];
  const back = new Set<string>();
  const start = g.nodes.find((n) => n.module.type === "start");
  const visit = (root: string) => {
    const stack: [string, number][] = [[root, 0]];
    state.set(root, "open");
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as [string, number];
      const [id, i] = top;
      const next = out.get(id) ?? [];
      if (i >= next.length) {
        stack.pop();
        state.set(id, "done");
        finished.push(id);
        continue;
      }
      top[1] = i + 1;
      const to = next[i] as string;
      const s = state.get(to);
      if (s === "open") back.add(`${id}>${to}`);
      else if (s === undefined) {
        state.set(to, "open");
        stack.push([to, 0]);
      }
    }
  };
  if (start) visit(start.id);
  const layer = new Map<string, number>();
  // Reverse finishing order is a topological order of the links that lead forward.
  for (const id of [...finished].reverse()) {
    const l = layer.get(id) ?? 0;
    layer.set(id, l);
    for (const to of out.get(id) ?? []) if (!back.has(`${id}>${to}`)) layer.set(to, Math.max(layer.get(to) ?? 0, l + 1));
  }
  const last = Math.max(0, ...layer.values()) + 1;
  const order = [...finished].reverse();
  for (const n of g.nodes) {
    if (layer.has(n.id)) continue;
    layer.set(n.id, last);
    order.push(n.id);
  }
  const nextY = new Map<number, number>();
  const placed = new Map<string, { x: number; y: number }>();
  for (const id of order) {
    const n = byId.get(id);
    if (!n) continue;
    const l = layer.get(id) ?? 0;
    const y = nextY.get(l) ?? 40;
    placed.set(id, { x: 40 + l * LAYER_GAP, y });
    nextY.set(l, y + nodeHeight(n.module) + ROW_GAP);
  }
  let changed = false;
  const nodes = g.nodes.map((n) => {
    const p = placed.get(n.id) ?? { x: 40, y: 40 };
    if (n.position && n.position.x === p.x && n.position.y === p.y) return n;
    changed = true;
    return { ...n, position: p };
  });
  // Laying out a laid-out flow is no change (and no undo step).
  return changed ? { ...g, nodes } : g;
}

/** Whether some node lacks a position (a flow written through the API). */
export function needsLayout(g: Graph): boolean {
  return g.nodes.some((n) => !n.position);
}

/** The box around every node, for fit-to-screen. */
export function bounds(g: Graph): { x: number; y: number; w: number; h: number } {
  if (g.nodes.length === 0) return { x: 0, y: 0, w: 1, h: 1 };
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const n of g.nodes) {
    const p = n.position ?? { x: 0, y: 0 };
    x0 = Math.min(x0, p.x);
    y0 = Math.min(y0, p.y);
    x1 = Math.max(x1, p.x + NODE_W);
    y1 = Math.max(y1, p.y + nodeHeight(n.module));
  }
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** Connects `from`'s `port` to `to`, replacing what that port led to. */
export function connect(g: Graph, from: string, port: string, to: string | null): Graph {
  const edges = g.edges.filter((e) => !(e.from === from && e.port === port));
  if (to === null) return { ...g, edges };
  const at = g.edges.findIndex((e) => e.from === from && e.port === port);
  const edge = { from, port, to };
  if (at < 0) return { ...g, edges: [...edges, edge] };
  // The same place in the list, so a changed target does not reorder the saved graph.
  return { ...g, edges: g.edges.map((e, i) => (i === at ? edge : e)).filter((e, i) => i === at || !(e.from === from && e.port === port)) };
}

/** Removes a node and every edge to or from it. */
export function removeNode(g: Graph, id: string): Graph {
  return { nodes: g.nodes.filter((n) => n.id !== id), edges: g.edges.filter((e) => e.from !== id && e.to !== id) };
}

/** Replaces a node's module; edges of ports it no longer has go, renamed ports keep theirs. */
export function setModule(g: Graph, id: string, module: Module, renamed?: { from: string; to: string }): Graph {
  const have = ports(module);
  const edges = g.edges
    .map((e) => (renamed && e.from === id && e.port === renamed.from ? { ...e, port: renamed.to } : e))
    .filter((e) => e.from !== id || have.includes(e.port));
  return { edges, nodes: g.nodes.map((n) => (n.id === id ? { ...n, module } : n)) };
}

/** Moves a node to a whole-pixel position (the server keeps integers). */
export function moveNode(g: Graph, id: string, x: number, y: number): Graph {
  const position = { x: Math.round(x), y: Math.round(y) };
  return { ...g, nodes: g.nodes.map((n) => (n.id === id ? { ...n, position } : n)) };
}
