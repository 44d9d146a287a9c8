// Live streams over WebSockets (docs/events.md): a run's snapshot then its events, resumed
// with `after` = the last seq seen when the connection drops; and the caller's inbox.
import { useEffect, useRef, useState } from "react";
import { openSocket, type Session } from "./api";
import type { Run } from "./types";

export interface Snapshot {
  type: "snapshot";
  run: Run;
  step_statuses: Record<string, string>;
  waiting: Record<string, unknown>;
  seq: number;
}

export interface EventMessage {
  type: "event";
  seq: number;
  event_type: string;
  step_id: string | null;
  timestamp: string;
  data: Record<string, unknown>;
}

export type StreamState = "connecting" | "live" | "reconnecting" | "ended" | "refused";

// Close codes after which reconnecting cannot help (the request itself was refused).
const FINAL = new Set([4400, 4401, 4403, 4404]);
const ENDED = 1000;

export function useRunStream(
  session: Session,
  runId: string,
  handlers: { snapshot: (found: Snapshot) => void; event: (found: EventMessage) => void },
  generation: number,
): { state: StreamState; lastSeq: number; reason: string | null } {
  const [state, setState] = useState<StreamState>("connecting");
  const [reason, setReason] = useState<string | null>(null);
  const [lastSeq, setLastSeq] = useState(0);
  const seen = useRef(0);
  const latest = useRef(handlers);
  latest.current = handlers;

  useEffect(() => {
    let socket: WebSocket | null = null;
    let retry: number | undefined;
    let stopped = false;
    let delay = 250;

    const open = () => {
      // The first connection asks for a snapshot; every later one resumes after what it saw.
      const after = seen.current > 0 ? `?after=${seen.current}` : "";
      socket = openSocket(session, `/ws/runs/${encodeURIComponent(runId)}${after}`);
      socket.onopen = () => {
        delay = 250;
        setState("live");
      };
      socket.onmessage = (message) => {
        const found = JSON.parse(String(message.data)) as { type: string; seq?: number };
        if (found.type === "snapshot") {
          seen.current = found.seq ?? 0;
          latest.current.snapshot(found as Snapshot);
        } else if (found.type === "event" && (found.seq ?? 0) > seen.current) {
          seen.current = found.seq ?? seen.current;
          latest.current.event(found as EventMessage);
        }
        setLastSeq(seen.current);
      };
      socket.onclose = (closed) => {
        if (stopped) return;
        if (closed.code === ENDED) {
          setState("ended");
        } else if (FINAL.has(closed.code)) {
          setReason(closed.reason || `closed with ${closed.code}`);
          setState("refused");
        } else {
          setState("reconnecting");
          retry = window.setTimeout(open, delay);
          delay = Math.min(delay * 2, 5000);
        }
      };
    };
    open();
    return () => {
      stopped = true;
      window.clearTimeout(retry);
      if (socket) quietlyClose(socket);
    };
    // `generation` opens the stream again (a retried run goes on after its last event).
  }, [session, runId, generation]);

  return { state, lastSeq, reason };
}

// Closing a socket still opening makes the browser log an error: close it once open.
function quietlyClose(socket: WebSocket): void {
  socket.onmessage = null;
  if (socket.readyState === WebSocket.CONNECTING) socket.onopen = () => socket.close();
  else socket.close();
}

// Calls `changed` whenever the caller's inbox changes; reconnects when the socket drops.
export function useInboxStream(session: Session, changed: () => void): StreamState {
  const [state, setState] = useState<StreamState>("connecting");
  const latest = useRef(changed);
  latest.current = changed;
  useEffect(() => {
    let socket: WebSocket | null = null;
    let retry: number | undefined;
    let stopped = false;
    const open = () => {
      socket = openSocket(session, "/ws/inbox");
      socket.onopen = () => setState("live");
      socket.onmessage = (message) => {
        const found = JSON.parse(String(message.data)) as { type: string };
        if (found.type !== "ping") latest.current();
      };
      socket.onclose = (closed) => {
        if (stopped) return;
        if (FINAL.has(closed.code)) {
          setState("refused");
          return;
        }
        setState("reconnecting");
        retry = window.setTimeout(open, 1000);
      };
    };
    open();
    return () => {
      stopped = true;
      window.clearTimeout(retry);
      if (socket) quietlyClose(socket);
    };
  }, [session]);
  return state;
}

// A step's status as its events tell it.
export const STEP_STATUS: Record<string, string> = {
  "step.queued": "queued",
  "step.pending": "pending",
  "step.started": "running",
  "step.resumed": "running",
  "step.completed": "completed",
  "step.failed": "failed",
  "step.retrying": "retrying",
  "step.skipped": "skipped",
  "step.waiting": "waiting",
  "step.delayed": "waiting",
  "step.cancelled": "cancelled",
};

export const RUN_STATUS: Record<string, string> = {
  "run.started": "running",
  "run.waiting": "waiting",
  "run.resumed": "running",
  "run.completed": "completed",
  "run.failed": "failed",
  "run.cancelled": "cancelled",
  "run.retried": "running",
};
