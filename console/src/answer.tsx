// Answering a waiting step: approve or reject an approval, fill in a clarification's form.
import { useState } from "react";
import { post, type Session } from "./api";
import { GeneratedForm, questionFields } from "./form";
import { problem } from "./format";
import type { Question } from "./types";

export function AnswerStep({
  session,
  runId,
  stepId,
  type,
  message,
  questions,
  onDone,
}: {
  session: Session;
  runId: string;
  stepId: string;
  type: string;
  message?: string;
  questions?: Question[];
  onDone: (what: string) => void;
}) {
  const [comment, setComment] = useState("");
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `answer-${runId}-${stepId}`;

  if (type === "clarification") {
    return (
      <GeneratedForm
        id={id}
        fields={questionFields(questions ?? [])}
        submitLabel={`Answer ${stepId}`}
        onSubmit={async (answers) => {
          await post(session, `/runs/${runId}/clarify`, { step_id: stepId, answers });
          onDone(`Answered ${stepId}.`);
        }}
      />
    );
  }

  const decide = async (approved: boolean) => {
    setBusy(true);
    setFailure(null);
    try {
      await post(session, `/runs/${runId}/approve`, {
        step_id: stepId,
        approved,
        comment: comment.trim() || null,
      });
      onDone(`${approved ? "Approved" : "Rejected"} ${stepId}.`);
    } catch (error) {
      setFailure(problem(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="answer">
      {message && <p className="request">{message}</p>}
      <label htmlFor={`${id}-comment`}>Comment (optional)</label>
      <textarea id={`${id}-comment`} value={comment} onChange={(e) => setComment(e.target.value)} />
      {failure && (
        <p role="alert" className="error">
          {failure}
        </p>
      )}
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => decide(true)}>
          Approve
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => decide(false)}>
          Reject
        </button>
      </div>
    </div>
  );
}
