// Runs: filtered by workflow, status and time, kept current by the workspace's live stream.
import { useEffect, useRef, useState } from "react";
import { list, query } from "../api";
import { between, seconds, when } from "../format";
import { useWorkspaceStream } from "../live";
import { useLoad } from "../load";
import { Link, useLocation } from "../router";
import { useCaller } from "../session";
import type { RunSummary, Workflow } from "../types";

const STATUSES = ["pending", "running", "waiting", "completed", "failed", "cancelled", "paused"];

// A datetime-local field's value, in local time, as the API's ISO 8601 with an offset.
function moment(local: string): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}

export function RunsPage() {
  const { session } = useCaller();
  const { search } = useLocation();
  const [workflowId, setWorkflowId] = useState(search.get("workflow") ?? "");
  const [status, setStatus] = useState(search.get("status") ?? "");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const workflows = useLoad(
    () => list<Workflow>(session, "/workflows?per_page=100&sort=name"),
    [session],
  );
  const runs = useLoad(
    () =>
      list<RunSummary>(
        session,
        `/runs${query({
          workflow_id: workflowId,
          status,
          since: moment(since),
          until: moment(until),
          per_page: 50,
        })}`,
      ),
    [session, workflowId, status, since, until],
  );
  // A burst of events (a run's steps finishing together) costs one read, not one each.
  const pending = useRef<number | undefined>(undefined);
  const reloadSoon = () => {
    if (pending.current !== undefined) return;
    pending.current = window.setTimeout(() => {
      pending.current = undefined;
      void runs.reload();
    }, 150);
  };
  useEffect(() => () => window.clearTimeout(pending.current), []);
  const stream = useWorkspaceStream(session, {
    joined: () => void runs.reload(),
    // Only a run's own events change what a row shows (its status, start and end).
    event: (found) => {
      if (found.event_type.startsWith("run.")) reloadSoon();
    },
  });
  const names = new Map((workflows.data?.items ?? []).map((w) => [w.id, `${w.name} v${w.version}`]));

  return (
    <section>
      <h1>Runs</h1>
      <div className="filters" role="search">
        <div className="field">
          <label htmlFor="runs-workflow">Workflow</label>
          <select id="runs-workflow" value={workflowId} onChange={(e) => setWorkflowId(e.target.value)}>
            <option value="">Any</option>
            {(workflows.data?.items ?? []).map((workflow) => (
              <option key={workflow.id} value={workflow.id}>
                {workflow.name} v{workflow.version}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="runs-status">Status</label>
          <select id="runs-status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">Any</option>
            {STATUSES.map((one) => (
              <option key={one}>{one}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="runs-since">Created from</label>
          <input
            id="runs-since"
            type="datetime-local"
            value={since}
            onChange={(e) => setSince(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="runs-until">Created before</label>
          <input
            id="runs-until"
            type="datetime-local"
            value={until}
            onChange={(e) => setUntil(e.target.value)}
          />
        </div>
      </div>
      {runs.error && (
        <p role="alert" className="error">
          {runs.error}
        </p>
      )}
      <p className="hint">
        {runs.data && `${runs.data.total} runs; `}updates:{" "}
        <span data-testid="stream-state">{stream}</span>
      </p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Workflow</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {(runs.data?.items ?? []).map((run) => (
              <tr key={run.id}>
                <td>
                  <Link to={`/runs/${run.id}`}>{run.id.slice(-8)}</Link>
                </td>
                <td>{names.get(run.workflow_id) ?? run.workflow_id.slice(-8)}</td>
                <td>
                  <span className={`badge status-${run.status}`}>{run.status}</span>
                </td>
                <td>{when(run.created_at)}</td>
                <td>{seconds(between(run.started_at, run.completed_at))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
