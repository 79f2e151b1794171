// Small charts drawn as SVG (no charting library: two chart kinds fit in a few lines and
// keep the console's budget). Every point carries its figure (`data-value`) and a label, so
// a reader (and a test) sees the numbers the API answered, not only shapes.

/** One line of a line chart. */
export interface Series {
  name: string;
  values: (number | null)[];
  /** A design token, e.g. `var(--accent)`. */
  color: string;
}

const W = 560;
const H = 200;
const PAD = { left: 52, right: 28, top: 14, bottom: 34 };

function scaleMax(values: number[], fixed?: number): number {
  if (fixed !== undefined) return fixed;
  const m = Math.max(0, ...values);
  return m === 0 ? 1 : m * 1.15;
}

/** Axis labels: at most 8 of the x labels, evenly spread. */
function ticks(n: number): number[] {
  if (n <= 8) return [...Array(n).keys()];
  const step = Math.ceil(n / 8);
  return [...Array(n).keys()].filter((i) => i % step === 0 || i === n - 1);
}

export function LineChart(props: { title: string; labels: string[]; series: Series[]; format: (v: number) => string; max?: number }) {
  const all = props.series.flatMap((s) => s.values.filter((v): v is number => v != null));
  const max = scaleMax(all, props.max);
  const n = props.labels.length;
  const x = (i: number) => PAD.left + (n <= 1 ? (W - PAD.left - PAD.right) / 2 : (i * (W - PAD.left - PAD.right)) / (n - 1));
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
        <Axes max={max} format={props.format} labels={props.labels} x={x} />
        {props.series.map((s) => {
          const pts = s.values.map((v, i) => (v == null ? null : ([x(i), y(v), v] as const)));
          const path = pts.reduce((d, p, i) => (p ? `${d}${d && pts[i - 1] ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}` : d), "");
          return (
            <g key={s.name} data-series={s.name}>
              <path d={path} fill="none" stroke={s.color} stroke-width="2" />
              {pts.map((p, i) =>
                p ? (
                  <g key={i}>
                    <circle cx={p[0]} cy={p[1]} r="3.5" fill={s.color} data-value={p[2]} data-label={props.labels[i]}>
                      <title>{`${props.labels[i]} · ${s.name}: ${props.format(p[2])}`}</title>
                    </circle>
                    {n <= 14 && <text x={p[0]} y={p[1] - 7} class="chart-value">{props.format(p[2])}</text>}
                  </g>
                ) : null,
              )}
            </g>
          );
        })}
      </svg>
      {props.series.length > 1 && (
        <ul class="chart-legend">
          {props.series.map((s) => (
            <li key={s.name}><span class="swatch" style={{ background: s.color }} />{s.name}</li>
          ))}
        </ul>
      )}
    </figure>
  );
}

export function BarChart(props: { title: string; labels: string[]; values: (number | null)[]; format: (v: number) => string; max?: number; color?: string }) {
  const max = scaleMax(props.values.filter((v): v is number => v != null), props.max);
  const n = Math.max(1, props.labels.length);
  const band = (W - PAD.left - PAD.right) / n;
  const x = (i: number) => PAD.left + band * i + band / 2;
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const bw = Math.min(48, band * 0.6);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
        <Axes max={max} format={props.format} labels={props.labels} x={x} />
        {props.values.map((v, i) =>
          v == null ? null : (
            <g key={i}>
              <rect x={x(i) - bw / 2} y={y(v)} width={bw} height={Math.max(0, H - PAD.bottom - y(v))} rx="2" fill={props.color ?? "var(--accent)"} data-value={v} data-label={props.labels[i]}>
                <title>{`${props.labels[i]}: ${props.format(v)}`}</title>
              </rect>
              {n <= 14 && <text x={x(i)} y={y(v) - 5} class="chart-value">{props.format(v)}</text>}
            </g>
          ),
        )}
      </svg>
    </figure>
  );
}

function Axes(props: { max: number; format: (v: number) => string; labels: string[]; x: (i: number) => number }) {
  const lines = [0, 0.5, 1].map((f) => f * props.max);
  const y = (v: number) => H - PAD.bottom - (v / props.max) * (H - PAD.top - PAD.bottom);
  return (
    <g class="chart-axes" aria-hidden="true">
      {lines.map((v) => (
        <g key={v}>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
          <text x={PAD.left - 6} y={y(v) + 4} text-anchor="end">{props.format(v)}</text>
        </g>
      ))}
      {ticks(props.labels.length).map((i) => (
        <text key={i} x={props.x(i)} y={H - PAD.bottom + 16} text-anchor="middle">{props.labels[i]}</text>
      ))}
    </g>
  );
}
