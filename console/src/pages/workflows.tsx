// Workflows: every version in the workspace, searched by name and filtered by status.
import { useState } from "react";
import { list, query } from "../api";
import { when } from "../format";
import { useLoad } from "../load";
import { Link } from "../router";
import { useCaller } from "../session";
import type { Workflow } from "../types";

export function WorkflowsPage() {
  const { session } = useCaller();
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState("");
  const { data, error } = useLoad(
    () => list<Workflow>(session, `/workflows${query({ status, per_page: 100, sort: "name" })}`),
    [session, status],
  );
  const needle = search.trim().toLowerCase();
  const shown = (data?.items ?? []).filter(
    (workflow) =>
      !needle ||
      workflow.name.toLowerCase().includes(needle) ||
      workflow.description.toLowerCase().includes(needle),
  );

  return (
    <section>
      <h1>Workflows</h1>
      <div className="filters" role="search">
        <div className="field">
          <label htmlFor="workflow-search">Search by name</label>
          <input
            id="workflow-search"
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="workflow-status">Status</label>
          <select
            id="workflow-status"
            value={status}
            onChange={(event) => setStatus(event.target.value)}
          >
            <option value="">Any</option>
            <option value="draft">Draft</option>
            <option value="published">Published</option>
          </select>
        </div>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {data && (
        <p className="hint" aria-live="polite">
          {shown.length} of {data.total} versions
        </p>
      )}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((workflow) => (
              <tr key={workflow.id}>
                <td>
                  <Link to={`/workflows/${workflow.id}`}>{workflow.name}</Link>
                  {workflow.paused && <span className="badge">paused</span>}
                </td>
                <td>v{workflow.version}</td>
                <td>
                  <span className={`badge status-${workflow.status}`}>{workflow.status}</span>
                </td>
                <td>{when(workflow.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
