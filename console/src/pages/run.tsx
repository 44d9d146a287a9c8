// One run, live: its graph coloured by step status over the run's WebSocket, a timeline
// of its steps, each step's details, its waiting steps' forms and the run's actions.
import { useCallback, useEffect, useRef, useState } from "react";
import { get, list, type Session } from "../api";
import { AnswerStep } from "../answer";
import { between, seconds, when } from "../format";
import { Gantt } from "../gantt";
import { WorkflowGraph } from "../graph";
import { RUN_STATUS, STEP_STATUS, useRunStream, type EventMessage, type Snapshot } from "../live";
import { useLoad } from "../load";
import { Link } from "../router";
import { useCaller, useMay } from "../session";
import type { Run, RunLog, StepRun, Workflow } from "../types";
import { RunActions } from "./run_actions";
import { StepDetails } from "./step_details";

// Step details are read again after events, at most this often.
const REFRESH_MS = 300;

function useThrottled(action: () => void): () => void {
  const timer = useRef<number | undefined>(undefined);
  const saved = useRef(action);
  saved.current = action;
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      saved.current();
    }, REFRESH_MS);
  }, []);
}

export function RunPage({ runId }: { runId: string }) {
  const { session } = useCaller();
  const mayAct = useMay("operator");
  const [run, setRun] = useState<Run | null>(null);
  const [statuses, setStatuses] = useState<Record<string, string>>({});
  const [selected, setSelected] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const steps = useLoad(() => get<StepRun[]>(session, `/runs/${runId}/steps`), [session, runId]);
  const logs = useLoad(
    () => list<RunLog>(session, `/runs/${runId}/logs?limit=500`).then((page) => page.items),
    [session, runId],
  );
  const refresh = useThrottled(() => {
    void steps.reload();
    void logs.reload();
    void get<Run>(session, `/runs/${runId}`).then(setRun, () => undefined);
  });

  const stream = useRunStream(
    session,
    runId,
    {
      snapshot: (found: Snapshot) => {
        setRun(found.run);
        setStatuses(found.step_statuses);
        refresh();
      },
      event: (found: EventMessage) => {
        const stepStatus = STEP_STATUS[found.event_type];
        if (stepStatus && found.step_id) {
          setStatuses((before) => ({ ...before, [found.step_id!]: stepStatus }));
        }
        const runStatus = RUN_STATUS[found.event_type];
        if (runStatus) setRun((before) => (before ? { ...before, status: runStatus } : before));
        refresh();
      },
    },
    generation,
  );

  const workflow = useLoad(
    () => (run ? get<Workflow>(session, `/workflows/${run.workflow_id}`) : Promise.resolve(null)),
    [session, run?.workflow_id],
  );

  if (!run) {
    return stream.reason ? (
      <p role="alert" className="error">
        {stream.reason}
      </p>
    ) : (
      <p>Loading…</p>
    );
  }
  const waiting = (steps.data ?? []).filter((step) => step.status === "waiting" && step.request);
  const chosen = (steps.data ?? []).filter((step) => step.step_id === selected);
  const stepIds = (workflow.data?.definition.nodes ?? []).map((node) => node.id);

  return (
    <section>
      <h1>
        Run <span className="mono">{run.id.slice(-8)}</span>{" "}
        <span className={`badge status-${run.status}`} data-testid="run-status">
          {run.status}
        </span>
      </h1>
      <p className="muted">
        {workflow.data ? (
          <Link to={`/workflows/${run.workflow_id}`}>
            {workflow.data.name} v{workflow.data.version}
          </Link>
        ) : (
          run.workflow_id
        )}{" "}
        · created {when(run.created_at)} · took {seconds(between(run.started_at, run.completed_at))}{" "}
        · stream <span data-testid="stream-state">{stream.state}</span>, seq{" "}
        <span data-testid="last-seq">{stream.lastSeq}</span>
      </p>
      {run.error && (
        <p className="error" role="status">
          {run.error}
        </p>
      )}
      <div aria-live="polite">{notice && <p className="notice">{notice}</p>}</div>
      {mayAct && (
        <RunActions
          session={session}
          run={run}
          stepIds={stepIds}
          onDone={(what) => {
            setNotice(what);
            // A run that ended closed its stream; one retried goes on after the last event.
            setGeneration((before) => before + 1);
            refresh();
          }}
        />
      )}
      {mayAct && waiting.length > 0 && (
        <WaitingSteps session={session} runId={run.id} waiting={waiting} onDone={setNotice} />
      )}
      <div className="split">
        <div>
          <h2>Graph</h2>
          {workflow.data && (
            <WorkflowGraph
              definition={workflow.data.definition}
              statuses={statuses}
              selected={selected}
              onSelect={setSelected}
              label="Run graph; choose a step to see its details"
            />
          )}
          <ul className="legend" aria-label="Step statuses">
            {Object.entries(statuses).map(([stepId, status]) => (
              <li key={stepId}>
                <button
                  type="button"
                  className={`chip status-${status}`}
                  aria-pressed={selected === stepId}
                  onClick={() => setSelected(stepId)}
                  data-step={stepId}
                  data-status={status}
                >
                  {stepId}: {status}
                </button>
              </li>
            ))}
          </ul>
          <h2>Timeline</h2>
          <Gantt steps={steps.data ?? []} onSelect={setSelected} />
        </div>
        <aside>
          <h2>Step</h2>
          {chosen.length === 0 && <p className="hint">Choose a step in the graph or the list.</p>}
          {chosen.map((step) => (
            <StepDetails
              key={step.id}
              step={step}
              logs={(logs.data ?? []).filter((log) => log.step_id === step.step_id)}
            />
          ))}
          <h2>Input</h2>
          <pre tabIndex={0}>{JSON.stringify(run.input, null, 2)}</pre>
        </aside>
      </div>
    </section>
  );
}

function WaitingSteps({
  session,
  runId,
  waiting,
  onDone,
}: {
  session: Session;
  runId: string;
  waiting: StepRun[];
  onDone: (what: string) => void;
}) {
  return (
    <div className="card">
      <h2>Waiting for you</h2>
      {waiting.map((step) => (
        <div key={step.id}>
          <h3>
            {step.step_id} <span className="muted">({step.step_type})</span>
          </h3>
          <AnswerStep
            session={session}
            runId={runId}
            stepId={step.step_id}
            type={step.step_type}
            message={step.request?.message as string | undefined}
            questions={step.request?.questions as never}
            onDone={onDone}
          />
        </div>
      ))}
    </div>
  );
}
