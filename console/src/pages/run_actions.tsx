// A run's actions for operators: cancel, pause and unpause, retry, and retry from a step
// after a dry-run preview of what would run again.
import { useState } from "react";
import { post, type Session } from "../api";
import { problem } from "../format";
import type { RetryPlan, Run } from "../types";

const FINAL = new Set(["completed", "failed", "cancelled"]);

export function RunActions({
  session,
  run,
  stepIds,
  onDone,
}: {
  session: Session;
  run: Run;
  stepIds: string[];
  onDone: (what: string) => void;
}) {
  const [failure, setFailure] = useState<string | null>(null);
  const [fromStep, setFromStep] = useState("");
  const [plan, setPlan] = useState<RetryPlan | null>(null);
  const ended = FINAL.has(run.status);

  const act = async (what: string, path: string, body: unknown = {}) => {
    setFailure(null);
    try {
      await post(session, `/runs/${run.id}/${path}`, body);
      setPlan(null);
      onDone(what);
    } catch (error) {
      setFailure(problem(error));
    }
  };
  const preview = async () => {
    setFailure(null);
    try {
      setPlan(
        await post<RetryPlan>(session, `/runs/${run.id}/retry?dry_run=true`, {
          from_step: fromStep,
        }),
      );
    } catch (error) {
      setFailure(problem(error));
    }
  };

  return (
    <div className="card run-actions">
      <h2>Actions</h2>
      <div className="actions">
        {!ended && run.status !== "paused" && (
          <button type="button" className="secondary" onClick={() => act("Paused.", "pause")}>
            Pause
          </button>
        )}
        {run.status === "paused" && (
          <button type="button" className="secondary" onClick={() => act("Unpaused.", "unpause")}>
            Unpause
          </button>
        )}
        {!ended && (
          <button type="button" className="danger" onClick={() => act("Cancelled.", "cancel")}>
            Cancel run
          </button>
        )}
        {run.status !== "completed" && ended && (
          <button type="button" onClick={() => act("Retried.", "retry")}>
            Retry
          </button>
        )}
      </div>
      {ended && (
        <div className="retry-from">
          <div className="field">
            <label htmlFor="retry-step">Retry from step</label>
            <select
              id="retry-step"
              value={fromStep}
              onChange={(event) => {
                setFromStep(event.target.value);
                setPlan(null);
              }}
            >
              <option value="">Choose a step…</option>
              {stepIds.map((stepId) => (
                <option key={stepId}>{stepId}</option>
              ))}
            </select>
          </div>
          <button type="button" className="secondary" disabled={!fromStep} onClick={preview}>
            Preview
          </button>
        </div>
      )}
      {plan && (
        <div className="plan" data-testid="retry-plan">
          <p>
            Retrying from <strong>{plan.from_step}</strong> runs again:{" "}
            {plan.run_again.join(", ") || "nothing"}; keeps: {plan.keep.join(", ") || "nothing"}
            {plan.dropped.length > 0 && <>; drops: {plan.dropped.join(", ")}</>}.
          </p>
          <button
            type="button"
            onClick={() => act(`Retried from ${fromStep}.`, "retry", { from_step: fromStep })}
          >
            Retry from {plan.from_step}
          </button>
        </div>
      )}
      {failure && (
        <p role="alert" className="error">
          {failure}
        </p>
      )}
    </div>
  );
}
