// The inbox: every waiting step the caller may answer, kept live by /ws/inbox.
import { useState } from "react";
import { list } from "../api";
import { AnswerStep } from "../answer";
import { when } from "../format";
import { useInboxStream } from "../live";
import { useLoad } from "../load";
import { Link } from "../router";
import { useCaller, useMay } from "../session";
import type { InboxItem } from "../types";

export function InboxPage() {
  const { session } = useCaller();
  const mayAnswer = useMay("operator");
  const [notice, setNotice] = useState<string | null>(null);
  const inbox = useLoad(() => list<InboxItem>(session, "/inbox?per_page=100"), [session]);
  const state = useInboxStream(session, () => void inbox.reload());

  return (
    <section>
      <h1>Inbox</h1>
      <p className="hint">
        Steps waiting for a person. <span data-testid="inbox-stream">{state}</span>
      </p>
      {!mayAnswer && <p className="hint">Answering needs the operator role: yours only reads.</p>}
      <div aria-live="polite">{notice && <p className="notice">{notice}</p>}</div>
      {inbox.error && (
        <p role="alert" className="error">
          {inbox.error}
        </p>
      )}
      {inbox.data && inbox.data.items.length === 0 && <p>Nothing is waiting for you.</p>}
      <ul className="inbox">
        {(inbox.data?.items ?? []).map((item) => (
          <li key={`${item.run_id}/${item.step_id}`} className="card" data-step={item.step_id}>
            <h2>
              {item.workflow_name}: {item.step_id}{" "}
              <span className="badge status-waiting">{item.type}</span>
            </h2>
            <p className="muted">
              <Link to={`/runs/${item.run_id}`}>Run {item.run_id.slice(-8)}</Link>, waiting since{" "}
              {when(item.waiting_since)}
              {item.deadline_at && <>, until {when(item.deadline_at)}</>}
            </p>
            {mayAnswer && (
              <AnswerStep
                session={session}
                runId={item.run_id}
                stepId={item.step_id}
                type={item.type}
                message={item.approval?.message}
                questions={item.clarification?.questions}
                onDone={(what) => {
                  setNotice(what);
                  void inbox.reload();
                }}
              />
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
