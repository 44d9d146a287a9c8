// One workflow version: its graph with validation problems pinned to their nodes, its
// versions, publish, duplicate, pause, and a run started from its input schema.
import { useState } from "react";
import { get, list, post } from "../api";
import { GeneratedForm, schemaFields } from "../form";
import { problem, when } from "../format";
import { WorkflowGraph } from "../graph";
import { useLoad } from "../load";
import { Link, navigate } from "../router";
import { useCaller, useMay } from "../session";
import type { Validation, Workflow, WorkflowVersion } from "../types";

export function WorkflowPage({ workflowId }: { workflowId: string }) {
  const { session } = useCaller();
  const mayEdit = useMay("editor");
  const mayRun = useMay("operator");
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const workflow = useLoad(
    () => get<Workflow>(session, `/workflows/${workflowId}`),
    [session, workflowId],
  );
  const versions = useLoad(
    () => list<WorkflowVersion>(session, `/workflows/${workflowId}/versions?per_page=100`),
    [session, workflowId],
  );
  const validation = useLoad(
    () => post<Validation>(session, `/workflows/${workflowId}/validate`),
    [session, workflowId],
  );

  const act = async (what: string, path: string, then?: (found: Workflow) => void) => {
    setFailure(null);
    setNotice(null);
    try {
      const found = await post<Workflow>(session, path);
      setNotice(what);
      if (then) then(found);
      else await Promise.all([workflow.reload(), versions.reload(), validation.reload()]);
    } catch (error) {
      setFailure(problem(error));
    }
  };

  const shown = workflow.data;
  if (!shown) {
    return workflow.error ? <p role="alert" className="error">{workflow.error}</p> : <p>Loading…</p>;
  }
  const issues = validation.data?.issues ?? [];
  const pinned: Record<string, string[]> = {};
  for (const issue of issues) {
    if (issue.node_id) (pinned[issue.node_id] ??= []).push(issue.message);
  }
  const published = shown.status === "published";

  return (
    <section>
      <h1>
        {shown.name} <span className="muted">v{shown.version}</span>{" "}
        <span className={`badge status-${shown.status}`}>{shown.status}</span>
        {shown.paused && <span className="badge">paused</span>}
      </h1>
      {shown.description && <p>{shown.description}</p>}
      <div className="actions">
        {mayEdit && !published && (
          <button type="button" onClick={() => act("Published.", `/workflows/${workflowId}/publish`)}>
            Publish
          </button>
        )}
        {mayEdit && (
          <button
            type="button"
            className="secondary"
            onClick={() =>
              act("Duplicated.", `/workflows/${workflowId}/duplicate`, (copy) =>
                navigate(`/workflows/${copy.id}`),
              )
            }
          >
            Duplicate
          </button>
        )}
        {mayEdit && published && (
          <button
            type="button"
            className="secondary"
            onClick={() =>
              act(
                shown.paused ? "Unpaused." : "Paused.",
                `/workflows/${workflowId}/${shown.paused ? "unpause" : "pause"}`,
              )
            }
          >
            {shown.paused ? "Unpause workflow" : "Pause workflow"}
          </button>
        )}
        <Link className="button secondary" to={`/runs?workflow=${workflowId}`}>
          Runs
        </Link>
        <Link className="button secondary" to={`/workflows/${workflowId}/stats`}>
          Stats
        </Link>
      </div>
      <div aria-live="polite">
        {notice && <p className="notice">{notice}</p>}
        {failure && (
          <p role="alert" className="error">
            {failure}
          </p>
        )}
      </div>
      <div className="split">
        <div>
          <h2>Graph</h2>
          <WorkflowGraph
            definition={shown.definition}
            problems={pinned}
            label={`Graph of ${shown.name}`}
          />
          <h2>Validation</h2>
          {validation.data && issues.length === 0 && <p className="ok">No problems found.</p>}
          {issues.length > 0 && (
            <ul className="problems" data-testid="problems">
              {issues.map((issue, index) => (
                <li key={index}>
                  {issue.node_id && <strong>{issue.node_id}: </strong>}
                  {issue.message} <span className="muted">({issue.code})</span>
                </li>
              ))}
            </ul>
          )}
        </div>
        <aside>
          {mayRun && published && (
            <div className="card">
              <h2>Start a run</h2>
              <GeneratedForm
                id="run-input"
                fields={schemaFields(shown.input_schema)}
                submitLabel="Start run"
                onSubmit={async (input) => {
                  const started = await post<{ id: string }>(session, `/workflows/${workflowId}/run`, {
                    input,
                  });
                  navigate(`/runs/${started.id}`);
                }}
              />
            </div>
          )}
          <h2>Versions</h2>
          <ul className="versions">
            {(versions.data?.items ?? []).map((version) => (
              <li key={version.id}>
                <Link
                  to={`/workflows/${version.id}`}
                  aria-current={version.id === workflowId ? "page" : undefined}
                >
                  v{version.version}
                </Link>{" "}
                <span className={`badge status-${version.status}`}>{version.status}</span>{" "}
                <span className="muted">{when(version.published_at ?? version.created_at)}</span>
              </li>
            ))}
          </ul>
        </aside>
      </div>
    </section>
  );
}
