// The analysis charts, drawn by uPlot on a canvas. uPlot sets its sizes and colours through
// the CSSOM, which the page's Content-Security-Policy allows (no inline style is written).
// A canvas says nothing to a screen reader, so each chart carries a visually hidden table of
// its figures (each cell also holds the API's number in `data-value`).
import "uplot/dist/uPlot.min.css";
import uPlot from "uplot";
import { useEffect, useRef } from "preact/hooks";

/** One line (or one row of bars) of a chart. */
export interface Series {
  name: string;
  values: (number | null)[];
  /** A design token's name, e.g. `--accent`: its colour is read when the chart is drawn. */
  color: string;
}

export interface ChartProps {
  title: string;
  /** The heading of the hidden table's first column (day, skill group, rating). */
  axis: string;
  labels: string[];
  series: Series[];
  format: (v: number) => string;
  /** Bars (uPlot's bars path) instead of lines with points. */
  bars?: boolean;
  /** The top of the value scale (1 for ratios); otherwise a little above the largest. */
  max?: number;
  /** Counts: ticks only on whole numbers. */
  whole?: boolean;
}

const HEIGHT = 200;
/** At most this many points get their figure written above them. */
const LABELLED = 14;
const WHOLE_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 100_000];

/** Axis labels: at most 8 of the x labels, evenly spread. */
function ticks(n: number): number[] {
  if (n <= 8) return [...Array(n).keys()];
  const step = Math.ceil(n / 8);
  return [...Array(n).keys()].filter((i) => i % step === 0 || i === n - 1);
}

function token(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** uPlot's options with the design tokens' colours as they are now (light or dark). */
function options(props: ChartProps, width: number): uPlot.Options {
  const n = props.labels.length;
  const text = token("--text");
  const text2 = token("--text-2");
  const line = token("--line");
  const font = `${token("--fs-xs") || "11px"} ${token("--font")}`;
  const top = (max: number) => props.max ?? (max > 0 ? max * 1.15 : 1);
  const axis = { stroke: text2, font, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
  const bars = props.bars ? uPlot.paths.bars?.({ size: [0.6, 48] }) : undefined;
  const colors = props.series.map((s) => token(s.color));
  return {
    width,
    height: HEIGHT,
    // The x labels sit in bands (range ±0.5), so no room is kept for one past the edge.
    padding: [12, 12, 0, 0],
    legend: { show: props.series.length > 1, live: false, markers: { width: 0, fill: (_u, i) => colors[i - 1] ?? "" } },
    cursor: { show: false },
    scales: {
      x: { time: false, range: () => [-0.5, Math.max(0, n - 0.5)] },
      y: { range: (_u, _min, max) => [0, top(max)] },
    },
    axes: [
      { ...axis, size: 32, grid: { show: false }, splits: () => ticks(n), values: (_u, splits) => splits.map((i) => props.labels[i] ?? "") },
      { ...axis, size: 64, values: (_u, splits) => splits.map(props.format), ...(props.whole ? { incrs: WHOLE_INCRS } : {}) },
    ],
    series: [
      {},
      ...props.series.map((s, i) => {
        const color = colors[i] ?? "";
        return bars
          ? { label: s.name, stroke: color, fill: color, width: 0, paths: bars, points: { show: false } }
          : { label: s.name, stroke: color, width: 2, points: { show: true, size: 7, fill: color, stroke: color } };
      }),
    ],
    hooks: n > LABELLED ? {} : { draw: [(u: uPlot) => figures(u, props, text, font)] },
  };
}

/** Writes each point's figure above it, in the page's format (few points only). */
function figures(u: uPlot, props: ChartProps, color: string, font: string): void {
  const ctx = u.ctx;
  const ratio = uPlot.pxRatio;
  ctx.save();
  ctx.fillStyle = color;
  ctx.font = font.replace(/^(\d+(?:\.\d+)?)px/, (_m, px: string) => `${Number(px) * ratio}px`);
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  props.series.forEach((s) =>
    s.values.forEach((v, i) => {
      if (v == null) return;
      ctx.fillText(props.format(v), u.valToPos(i, "x", true), u.valToPos(v, "y", true) - 6 * ratio);
    }),
  );
  ctx.restore();
}

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const latest = useRef(props);
  latest.current = props;
  // Redrawn when the figures, texts or language change (the key), on a theme change and when
  // the container's width changes; destroyed when the chart leaves the page.
  const key = JSON.stringify([props.title, props.labels, props.series, props.max, props.bars, props.format(0)]);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data: uPlot.AlignedData = [props.labels.map((_, i) => i), ...props.series.map((s) => s.values)];
    let plot: uPlot | null = null;
    const draw = () => {
      plot?.destroy();
      plot = new uPlot(options(latest.current, el.clientWidth || 400), data, el);
    };
    draw();
    const resize = new ResizeObserver(() => {
      if (plot && el.clientWidth > 0 && el.clientWidth !== plot.width) plot.setSize({ width: el.clientWidth, height: HEIGHT });
    });
    resize.observe(el);
    // The chosen theme is an attribute on <html>; "system" follows the media query.
    const themed = new MutationObserver(draw);
    themed.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    const dark = matchMedia("(prefers-color-scheme: dark)");
    dark.addEventListener("change", draw);
    return () => {
      resize.disconnect();
      themed.disconnect();
      dark.removeEventListener("change", draw);
      plot?.destroy();
    };
  }, [key]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div class="chart-plot" ref={box} aria-hidden="true" />
      <table class="sr-only" data-chart-table>
        <caption>{props.title}</caption>
        <thead>
          <tr>
            <th scope="col">{props.axis}</th>
            {props.series.map((s) => <th key={s.name} scope="col">{s.name}</th>)}
          </tr>
        </thead>
        <tbody>
          {props.labels.map((label, i) => (
            <tr key={i}>
              <th scope="row">{label}</th>
              {props.series.map((s) => {
                const v = s.values[i];
                return <td key={s.name} data-value={v ?? undefined}>{v == null ? "—" : props.format(v)}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
