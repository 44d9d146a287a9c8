// One step of a run: its input, output, attempts, logs, timing and error.
import { between, json, seconds, when } from "../format";
import type { RunLog, StepRun } from "../types";

export function StepDetails({ step, logs }: { step: StepRun; logs: RunLog[] }) {
  const name = step.item_index === null ? step.step_id : `${step.step_id}[${step.item_index}]`;
  return (
    <article className="step-details" aria-label={`Step ${name}`}>
      <h3>
        {name} <span className={`badge status-${step.status}`}>{step.status}</span>
      </h3>
      <dl>
        <dt>Type</dt>
        <dd>{step.step_type}</dd>
        <dt>Started</dt>
        <dd>{when(step.started_at)}</dd>
        <dt>Finished</dt>
        <dd>{when(step.completed_at)}</dd>
        <dt>Took</dt>
        <dd>{seconds(between(step.started_at, step.completed_at))}</dd>
        <dt>Attempt</dt>
        <dd>{step.attempt}</dd>
      </dl>
      {step.error && (
        <>
          <h4>Error</h4>
          <pre tabIndex={0} className="error">{step.error}</pre>
        </>
      )}
      <h4>Input</h4>
      <pre tabIndex={0}>{json(step.input)}</pre>
      <h4>Output</h4>
      <pre tabIndex={0}>{json(step.output)}</pre>
      <h4>Attempts ({step.attempts.length})</h4>
      <pre tabIndex={0}>{json(step.attempts)}</pre>
      <h4>Logs ({logs.length})</h4>
      {logs.length === 0 ? (
        <p className="hint">No log lines.</p>
      ) : (
        <ol className="logs">
          {logs.map((log) => (
            <li key={log.id}>
              <span className="muted">{when(log.timestamp)}</span> <strong>{log.level}</strong>{" "}
              {log.message}
            </li>
          ))}
        </ol>
      )}
    </article>
  );
}
