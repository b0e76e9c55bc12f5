/**
 * The cost-growth chart: req/s against session size (log scale), one line per contestant,
 * one panel per workload, as a self-contained SVG (no dependency), written by the benchmark.
 */
export interface Series {
  label: string;
  /** [session bytes, req/s], in size order. */
  points: Array<[number, number]>;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const WIDTH = 460;
const HEIGHT = 300;
const PAD = { left: 60, right: 20, top: 36, bottom: 44 };

const xmlText = (text: string) => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
const sizeLabel = (bytes: number) => (bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : `${bytes} B`);

function panel(title: string, series: Series[], offsetX: number): string {
  const sizes = [...new Set(series.flatMap((s) => s.points.map(([size]) => size)))].sort((a, b) => a - b);
  const top = Math.max(1, ...series.flatMap((s) => s.points.map(([, rps]) => rps))) * 1.1;
  const [minLog, maxLog] = [Math.log10(sizes[0] ?? 1), Math.log10(sizes.at(-1) ?? 10)];
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (size: number) =>
    offsetX +
    PAD.left +
    (maxLog === minLog ? plotW / 2 : ((Math.log10(size) - minLog) / (maxLog - minLog)) * plotW);
  const y = (rps: number) => PAD.top + plotH - (rps / top) * plotH;
  const parts = [
    `<text x="${offsetX + WIDTH / 2}" y="20" text-anchor="middle" font-weight="bold">${xmlText(title)}</text>`,
    `<line x1="${offsetX + PAD.left}" y1="${PAD.top + plotH}" x2="${offsetX + WIDTH - PAD.right}" y2="${PAD.top + plotH}" stroke="#333"/>`,
    `<line x1="${offsetX + PAD.left}" y1="${PAD.top}" x2="${offsetX + PAD.left}" y2="${PAD.top + plotH}" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const value = (top / 4) * i;
    parts.push(
      `<text x="${offsetX + PAD.left - 6}" y="${y(value) + 4}" text-anchor="end" font-size="11">${Math.round(value)}</text>`,
      `<line x1="${offsetX + PAD.left}" y1="${y(value)}" x2="${offsetX + WIDTH - PAD.right}" y2="${y(value)}" stroke="#eee"/>`,
    );
  }
  for (const size of sizes) {
    parts.push(
      `<text x="${x(size)}" y="${PAD.top + plotH + 16}" text-anchor="middle" font-size="11">${sizeLabel(size)}</text>`,
    );
  }
  parts.push(
    `<text x="${offsetX + PAD.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle" font-size="11">session size</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const path = s.points.map(
      ([size, rps], j) => `${j === 0 ? 'M' : 'L'}${x(size).toFixed(1)},${y(rps).toFixed(1)}`,
    );
    parts.push(`<path d="${path.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const [size, rps] of s.points)
      parts.push(`<circle cx="${x(size).toFixed(1)}" cy="${y(rps).toFixed(1)}" r="3" fill="${color}"/>`);
  });
  return parts.join('\n');
}

/** Two panels side by side (e.g. read and write) sharing one legend. */
export function costGrowthSvg(caption: string, panels: Array<{ title: string; series: Series[] }>): string {
  const labels = panels[0]?.series.map((s) => s.label) ?? [];
  const legendY = HEIGHT + 10;
  const legend = labels.map((label, i) => {
    const lx = 20 + (i % 2) * WIDTH;
    const ly = legendY + Math.floor(i / 2) * 18;
    return `<rect x="${lx}" y="${ly}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${lx + 18}" y="${ly + 11}" font-size="12">${xmlText(label)}</text>`;
  });
  const height = legendY + Math.ceil(labels.length / 2) * 18 + 30;
  const width = WIDTH * panels.length;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
${panels.map((p, i) => panel(p.title, p.series, i * WIDTH)).join('\n')}
${legend.join('\n')}
<text x="20" y="${height - 8}" font-size="11" fill="#555">${xmlText(caption)}</text>
</svg>
`;
}

/** A benchmark row, as far as the chart reads it. */
export interface ChartRow {
  suite: string;
  shape: string;
  size: number;
  workload: string;
  system: string;
  requestsPerSecond: number;
}

/** The cost-growth chart of a run's rows: the `strings` shape, read and write. */
export function costGrowthChart(rows: readonly ChartRow[], caption: string): string {
  const panels = (['read', 'write'] as const).map((workload) => {
    const series = new Map<string, Series>();
    for (const row of rows) {
      if (row.workload !== workload || row.shape !== 'strings') continue;
      const label = `${row.system} (${row.suite})`;
      const entry = series.get(label) ?? { label, points: [] };
      entry.points.push([row.size, row.requestsPerSecond]);
      series.set(label, entry);
    }
    return { title: `${workload}: req/s by session size`, series: [...series.values()] };
  });
  return costGrowthSvg(caption, panels);
}
