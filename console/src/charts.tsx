// Small SVG charts: stacked bars and a line, with their numbers in a title for each mark.

export const STATUS_COLOURS: Record<string, string> = {
  completed: "#1a7f37",
  failed: "#c62828",
  cancelled: "#6e7781",
  running: "#0b5cad",
  waiting: "#9a6700",
  pending: "#8250df",
  paused: "#57606a",
};

export interface Bucket {
  label: string;
  values: Record<string, number>;
}

const WIDTH = 600;
const HEIGHT = 220;
const LEFT = 52;
// Room on the right for the last label, centred on its point.
const RIGHT = 34;
const BOTTOM = 30;

export function StackedBars({ buckets, title }: { buckets: Bucket[]; title: string }) {
  const keys = Object.keys(STATUS_COLOURS);
  const highest = Math.max(1, ...buckets.map((b) => keys.reduce((n, k) => n + (b.values[k] ?? 0), 0)));
  const slot = (WIDTH - LEFT) / Math.max(buckets.length, 1);
  const scale = (HEIGHT - BOTTOM - 10) / highest;
  return (
    <figure>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={title} className="chart">
        <text x={LEFT - 6} y={14} textAnchor="end">{highest}</text>
        <text x={LEFT - 6} y={HEIGHT - BOTTOM} textAnchor="end">0</text>
        <line x1={LEFT} x2={WIDTH} y1={HEIGHT - BOTTOM} y2={HEIGHT - BOTTOM} className="axis" />
        {buckets.map((bucket, index) => {
          let top = HEIGHT - BOTTOM;
          return (
            <g key={bucket.label}>
              {keys.map((key) => {
                const count = bucket.values[key] ?? 0;
                if (!count) return null;
                top -= count * scale;
                return (
                  <rect
                    key={key}
                    x={LEFT + index * slot + slot * 0.15}
                    y={top}
                    width={slot * 0.7}
                    height={count * scale}
                    fill={STATUS_COLOURS[key]}
                  >
                    <title>{`${bucket.label}: ${count} ${key}`}</title>
                  </rect>
                );
              })}
              <text x={LEFT + index * slot + slot / 2} y={HEIGHT - 10} textAnchor="middle">
                {bucket.label}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul className="key">
          {keys.map((key) => (
            <li key={key}>
              <span className="swatch" style={{ background: STATUS_COLOURS[key] }} aria-hidden="true" />
              {key}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}

export function LineChart({
  points,
  title,
  unit,
  colour = "#0b5cad",
}: {
  points: { label: string; value: number | null }[];
  title: string;
  unit: (value: number) => string;
  colour?: string;
}) {
  const known = points.filter((p) => p.value !== null).map((p) => p.value!);
  const highest = Math.max(...known, 0) || 1;
  const step = (WIDTH - LEFT - 10 - RIGHT) / Math.max(points.length - 1, 1);
  const y = (value: number) => HEIGHT - BOTTOM - (value / highest) * (HEIGHT - BOTTOM - 10);
  const path = points
    .map((p, i) => (p.value === null ? null : `${LEFT + 10 + i * step},${y(p.value)}`))
    .filter(Boolean)
    .join(" ");
  return (
    <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={title} className="chart">
      <text x={LEFT - 6} y={14} textAnchor="end">{unit(highest)}</text>
      <text x={LEFT - 6} y={HEIGHT - BOTTOM} textAnchor="end">{unit(0)}</text>
      <line x1={LEFT} x2={WIDTH} y1={HEIGHT - BOTTOM} y2={HEIGHT - BOTTOM} className="axis" />
      <polyline points={path} fill="none" stroke={colour} strokeWidth={2} />
      {points.map((p, i) => (
        <g key={p.label}>
          {p.value !== null && (
            <circle cx={LEFT + 10 + i * step} cy={y(p.value)} r={4} fill={colour}>
              <title>{`${p.label}: ${unit(p.value)}`}</title>
            </circle>
          )}
          <text x={LEFT + 10 + i * step} y={HEIGHT - 10} textAnchor="middle">
            {p.label}
          </text>
        </g>
      ))}
    </svg>
  );
}
