// A timeline of a run's steps: one bar per step from its start to its end (or now).
import type { StepRun } from "./types";
import { seconds } from "./format";

export function Gantt({
  steps,
  onSelect,
}: {
  steps: StepRun[];
  onSelect: (stepId: string) => void;
}) {
  const timed = steps.filter((step) => step.started_at);
  if (timed.length === 0) return <p className="hint">No step has started yet.</p>;
  const now = Date.now();
  const start = Math.min(...timed.map((step) => Date.parse(step.started_at!)));
  const end = Math.max(
    ...timed.map((step) => (step.completed_at ? Date.parse(step.completed_at) : now)),
    start + 1,
  );
  const span = end - start;
  const rowHeight = 26;
  const labelWidth = 130;
  const width = 640;
  const plot = width - labelWidth - 10;
  return (
    <svg
      className="gantt"
      viewBox={`0 0 ${width} ${timed.length * rowHeight + 24}`}
      role="img"
      aria-label={`Timeline of ${timed.length} steps over ${seconds(span / 1000)}`}
    >
      {timed.map((step, row) => {
        const from = Date.parse(step.started_at!) - start;
        const to = (step.completed_at ? Date.parse(step.completed_at) : now) - start;
        const x = labelWidth + (from / span) * plot;
        const barWidth = Math.max(((to - from) / span) * plot, 3);
        const y = row * rowHeight + 4;
        const name = step.item_index === null ? step.step_id : `${step.step_id}[${step.item_index}]`;
        return (
          <g key={step.id} className={`bar status-${step.status}`} onClick={() => onSelect(step.step_id)}>
            <title>{`${name}: ${step.status}, ${seconds((to - from) / 1000)}`}</title>
            <text x={labelWidth - 6} y={y + 15} textAnchor="end">
              {name.length > 16 ? `${name.slice(0, 15)}…` : name}
            </text>
            <rect x={x} y={y} width={barWidth} height={rowHeight - 8} rx={3} />
          </g>
        );
      })}
      <text x={labelWidth} y={timed.length * rowHeight + 18}>0 s</text>
      <text x={width - 10} y={timed.length * rowHeight + 18} textAnchor="end">
        {seconds(span / 1000)}
      </text>
    </svg>
  );
}
