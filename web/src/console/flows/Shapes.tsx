// What the canvas draws: a node's box with its ports and error mark, and a link's curve from
// a port's handle to a node's input. Each redraws only when its own data changes, so a drag
// of a 200-node flow redraws one box and the links that touch it.
import { Component } from "preact";
import { tf } from "./i18n";
import { HEAD_H, NODE_W, PORT_H, inputPoint, nodeHeight, portPoint, ports, type FlowNode, type Graph } from "./model";
import { moduleName, portLabel } from "./names";

export interface NodeProps {
  node: FlowNode;
  selected: boolean;
  errors: number;
  readOnly: boolean;
  onDown: (e: PointerEvent, node: FlowNode) => void;
  onPort: (e: PointerEvent, node: FlowNode, port: string) => void;
  onKey: (e: KeyboardEvent, node: FlowNode) => void;
  onFocus: (node: FlowNode) => void;
}

/** One node's box; redrawn only when its own node, selection or errors change (a drag of a
 * 200-node flow redraws one box). */
export class NodeView extends Component<NodeProps> {
  shouldComponentUpdate(next: NodeProps): boolean {
    const p = this.props;
    return next.node !== p.node || next.selected !== p.selected || next.errors !== p.errors;
  }

  render() {
    const { node, selected, errors, readOnly } = this.props;
    const pos = node.position ?? { x: 0, y: 0 };
    const h = nodeHeight(node.module);
    const name = moduleName(node.module.type);
    const title = node.label || node.id;
    const outs = ports(node.module);
    const shortTitle = title.length > 24 ? `${title.slice(0, 23)}…` : title;
    const portTexts = outs.map((port) => {
      const text = portLabel(node.module, port);
      return text.length > 26 ? `${text.slice(0, 25)}…` : text;
    });
    // The name starts with the box's visible words, in their order, so speech and sight agree.
    const label = [[shortTitle, name, ...portTexts].join(" "), errors > 0 ? tf("flows.canvas.errorCount", { count: errors }) : ""].filter(Boolean).join(", ");
    return (
      <g
        class={`fnode fnode-${node.module.type} ${selected ? "selected" : ""} ${errors > 0 ? "faulty" : ""}`}
        transform={`translate(${pos.x},${pos.y})`}
        tabindex={0}
        role="group"
        aria-roledescription={tf("flows.canvas.node")}
        aria-label={label}
        aria-current={selected ? "true" : undefined}
        data-node={node.id}
        onPointerDown={(e) => this.props.onDown(e, node)}
        onKeyDown={(e) => this.props.onKey(e, node)}
        onFocus={() => this.props.onFocus(node)}
      >
        <rect class="fnode-box" width={NODE_W} height={h} rx={8} />
        <rect class="fnode-strip" width={6} height={h} rx={3} />
        <text class="fnode-title" x={16} y={19}>{shortTitle}</text>
        <text class="fnode-kind" x={16} y={35}>{name}</text>
        {node.module.type !== "start" && <circle class="port-in" cx={0} cy={HEAD_H / 2} r={6} />}
        {outs.map((port, i) => {
          const y = HEAD_H + i * PORT_H + PORT_H / 2;
          const text = portTexts[i] ?? port;
          return (
            <g key={port} class="fport" data-port={port}>
              <text class="fport-label" x={NODE_W - 14} y={y + 4} text-anchor="end">{text}</text>
              <circle
                class="port-out"
                cx={NODE_W}
                cy={y}
                r={7}
                onPointerDown={readOnly ? undefined : (e) => this.props.onPort(e, node, port)}
              />
            </g>
          );
        })}
        {errors > 0 && (
          <g class="fnode-mark" transform={`translate(${NODE_W - 10},-8)`} aria-hidden="true">
            <circle r={11} />
            <text y={4} text-anchor="middle">{errors}</text>
          </g>
        )}
      </g>
    );
  }
}

interface EdgeProps {
  d: string;
  index: number;
  selected: boolean;
  onDown: (e: PointerEvent, index: number) => void;
}

export class EdgeView extends Component<EdgeProps> {
  shouldComponentUpdate(next: EdgeProps): boolean {
    return next.d !== this.props.d || next.selected !== this.props.selected || next.index !== this.props.index;
  }

  render() {
    const { d, index, selected } = this.props;
    return (
      <g class={`fedge ${selected ? "selected" : ""}`} data-edge={index} onPointerDown={(e) => this.props.onDown(e, index)}>
        <path class="fedge-hit" d={d} />
        <path class="fedge-line" d={d} marker-end="url(#flow-arrow)" />
      </g>
    );
  }
}

export function curve(x1: number, y1: number, x2: number, y2: number): string {
  const dx = Math.max(40, Math.abs(x2 - x1) / 2);
  return `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
}

/** The path of each edge, from its port's handle to its target's input. */
export function edgePaths(g: Graph): (string | null)[] {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  return g.edges.map((e) => {
    const from = byId.get(e.from);
    const to = byId.get(e.to);
    if (!from || !to) return null;
    const i = ports(from.module).indexOf(e.port);
    if (i < 0) return null;
    const a = portPoint(from, i);
    const b = inputPoint(to);
    return curve(a.x, a.y, b.x, b.y);
  });
}

