// A workflow's stats over a window cut into buckets: runs by status, duration percentiles
// and error rate, each bucket one call of GET /workflows/{id}/stats.
import { useState } from "react";
import { get, query } from "../api";
import { LineChart, StackedBars } from "../charts";
import { seconds } from "../format";
import { useLoad } from "../load";
import { Link } from "../router";
import { useCaller } from "../session";
import type { Workflow, WorkflowStats } from "../types";

const HOUR = 3600_000;
const RANGES: Record<string, { label: string; buckets: number; size: number }> = {
  day: { label: "Last 24 hours", buckets: 12, size: 2 * HOUR },
  week: { label: "Last 7 days", buckets: 7, size: 24 * HOUR },
  month: { label: "Last 30 days", buckets: 10, size: 72 * HOUR },
};

function bucketLabel(start: Date, size: number): string {
  return size < 24 * HOUR
    ? start.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : start.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

function errorRate(stats: WorkflowStats): number | null {
  const failed = stats.by_status.failed ?? 0;
  const finished = failed + (stats.by_status.completed ?? 0) + (stats.by_status.cancelled ?? 0);
  return finished ? failed / finished : null;
}

export function StatsPage({ workflowId }: { workflowId: string }) {
  const { session } = useCaller();
  const [range, setRange] = useState("week");
  const [versions, setVersions] = useState("one");
  const workflow = useLoad(() => get<Workflow>(session, `/workflows/${workflowId}`), [session, workflowId]);
  const stats = useLoad(async () => {
    const { buckets, size } = RANGES[range];
    // Days are calendar days here; shorter buckets end at the next whole hour.
    const midnight = new Date();
    midnight.setHours(24, 0, 0, 0);
    const end = size >= 24 * HOUR ? midnight.getTime() : Math.ceil(Date.now() / HOUR) * HOUR;
    const read = (since: number, until: number) =>
      get<WorkflowStats>(
        session,
        `/workflows/${workflowId}/stats${query({
          since: new Date(since).toISOString(),
          until: new Date(until).toISOString(),
          versions,
        })}`,
      );
    const starts = Array.from({ length: buckets }, (_, i) => end - (buckets - i) * size);
    const [whole, ...each] = await Promise.all([
      read(end - buckets * size, end),
      ...starts.map((start) => read(start, start + size)),
    ]);
    return {
      whole,
      buckets: each.map((found, i) => ({ label: bucketLabel(new Date(starts[i]), size), stats: found })),
    };
  }, [session, workflowId, range, versions]);

  const whole = stats.data?.whole;
  const durations = whole?.duration_seconds;
  return (
    <section>
      <h1>
        Stats: {workflow.data ? `${workflow.data.name} v${workflow.data.version}` : workflowId}
      </h1>
      <p>
        <Link to={`/workflows/${workflowId}`}>Back to the workflow</Link>
      </p>
      <div className="filters">
        <div className="field">
          <label htmlFor="stats-range">Window</label>
          <select id="stats-range" value={range} onChange={(e) => setRange(e.target.value)}>
            {Object.entries(RANGES).map(([key, one]) => (
              <option key={key} value={key}>
                {one.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="stats-versions">Versions</label>
          <select id="stats-versions" value={versions} onChange={(e) => setVersions(e.target.value)}>
            <option value="one">This version</option>
            <option value="all">Every version</option>
          </select>
        </div>
      </div>
      {stats.error && (
        <p role="alert" className="error">
          {stats.error}
        </p>
      )}
      {whole && durations && stats.data && (
        <>
          <dl className="figures">
            <div>
              <dt>Runs</dt>
              <dd data-testid="total-runs">{whole.total_runs}</dd>
            </div>
            <div>
              <dt>Success rate</dt>
              <dd>{whole.success_rate === null ? "—" : `${Math.round(whole.success_rate * 100)} %`}</dd>
            </div>
            <div>
              <dt>Error rate</dt>
              <dd>{errorRate(whole) === null ? "—" : `${Math.round(errorRate(whole)! * 100)} %`}</dd>
            </div>
          </dl>
          <div className="charts">
            <div>
              <h2>Runs by status</h2>
              <StackedBars
                title="Runs by status in each part of the window"
                buckets={stats.data.buckets.map((b) => ({ label: b.label, values: b.stats.by_status }))}
              />
            </div>
            <div>
              <h2>Duration</h2>
              <LineChart
                title="95th percentile of run duration in each part of the window"
                unit={seconds}
                points={stats.data.buckets.map((b) => ({
                  label: b.label,
                  value: b.stats.duration_seconds.p95,
                }))}
              />
              <table className="compact">
                <caption>Whole window, {durations.count} finished runs</caption>
                <thead>
                  <tr>
                    <th scope="col">min</th>
                    <th scope="col">average</th>
                    <th scope="col">p95</th>
                    <th scope="col">max</th>
                  </tr>
                </thead>
                <tbody>
                  <tr>
                    <td>{seconds(durations.min)}</td>
                    <td>{seconds(durations.avg)}</td>
                    <td>{seconds(durations.p95)}</td>
                    <td>{seconds(durations.max)}</td>
                  </tr>
                </tbody>
              </table>
            </div>
            <div>
              <h2>Error rate</h2>
              <LineChart
                title="Share of finished runs that failed in each part of the window"
                unit={(value) => `${Math.round(value * 100)} %`}
                colour="#c62828"
                points={stats.data.buckets.map((b) => ({ label: b.label, value: errorRate(b.stats) }))}
              />
            </div>
          </div>
        </>
      )}
    </section>
  );
}
