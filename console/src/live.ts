// Live streams over WebSockets (docs/events.md): a run's snapshot then its events, resumed
// with `after` = the last seq seen when the connection drops; the workspace's run events;
// and the caller's inbox.
import { useEffect, useRef, useState } from "react";
import { ApiError, openSocket, type Session } from "./api";
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
  run_id: string;
  workflow_id: string;
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

interface SocketUse {
  // The path to open, asked again on every connection (a run stream resumes with `after`).
  path: () => string;
  opened?: () => void;
  message: (found: { type: string; seq?: number }) => void;
  // A run's stream closes with 1000 after its run's last event: nothing more will come.
  endsOnClose: boolean;
}

// A socket kept open: reopened after a drop, at 250 ms doubling to 5 s between attempts,
// until a close says that cannot help or the page goes.
function useLiveSocket(
  session: Session,
  use: SocketUse,
  deps: unknown[],
): { state: StreamState; reason: string | null } {
  const [state, setState] = useState<StreamState>("connecting");
  const [reason, setReason] = useState<string | null>(null);
  const latest = useRef(use);
  latest.current = use;

  useEffect(() => {
    let socket: WebSocket | null = null;
    let retry: number | undefined;
    let stopped = false;
    let delay = 250;

    const again = () => {
      setState("reconnecting");
      retry = window.setTimeout(() => void open(), delay);
      delay = Math.min(delay * 2, 5000);
    };
    const open = async () => {
      try {
        socket = await openSocket(session, latest.current.path());
      } catch (error) {
        if (stopped) return;
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          setReason(error.message);
          setState("refused");
        } else {
          again();
        }
        return;
      }
      if (stopped) {
        quietlyClose(socket);
        return;
      }
      socket.onopen = () => {
        delay = 250;
        setState("live");
        latest.current.opened?.();
      };
      socket.onmessage = (message) => latest.current.message(JSON.parse(String(message.data)));
      socket.onclose = (closed) => {
        if (stopped) return;
        if (closed.code === ENDED && latest.current.endsOnClose) {
          setState("ended");
        } else if (FINAL.has(closed.code)) {
          setReason(closed.reason || `closed with ${closed.code}`);
          setState("refused");
        } else {
          again();
        }
      };
    };
    void open();
    return () => {
      stopped = true;
      window.clearTimeout(retry);
      if (socket) quietlyClose(socket);
    };
  }, [session, ...deps]);

  return { state, reason };
}

// Closing a socket still opening makes the browser log an error: close it once open.
function quietlyClose(socket: WebSocket): void {
  socket.onmessage = null;
  if (socket.readyState === WebSocket.CONNECTING) socket.onopen = () => socket.close();
  else socket.close();
}

export function useRunStream(
  session: Session,
  runId: string,
  handlers: { snapshot: (found: Snapshot) => void; event: (found: EventMessage) => void },
  generation: number,
): { state: StreamState; lastSeq: number; reason: string | null } {
  const [lastSeq, setLastSeq] = useState(0);
  const seen = useRef(0);
  const { state, reason } = useLiveSocket(
    session,
    {
      // The first connection asks for a snapshot; every later one resumes after what it saw.
      path: () => {
        const after = seen.current > 0 ? `?after=${seen.current}` : "";
        return `/ws/runs/${encodeURIComponent(runId)}${after}`;
      },
      message: (found) => {
        if (found.type === "snapshot") {
          seen.current = found.seq ?? 0;
          handlers.snapshot(found as Snapshot);
        } else if (found.type === "event" && (found.seq ?? 0) > seen.current) {
          seen.current = found.seq ?? seen.current;
          handlers.event(found as EventMessage);
        }
        setLastSeq(seen.current);
      },
      endsOnClose: true,
    },
    // `generation` opens the stream again (a retried run goes on after its last event).
    [runId, generation],
  );
  return { state, lastSeq, reason };
}

// Every run event of the caller's workspace as it commits (`/ws/stream`). That stream
// starts live and takes no `after`, so each connection, the first and every one after a
// drop, calls `joined`: the page reads again what it shows, missing nothing in between.
export function useWorkspaceStream(
  session: Session,
  handlers: { joined: () => void; event: (found: EventMessage) => void },
): StreamState {
  return useLiveSocket(
    session,
    {
      path: () => "/ws/stream",
      opened: handlers.joined,
      message: (found) => {
        if (found.type === "event") handlers.event(found as EventMessage);
      },
      endsOnClose: false,
    },
    [],
  ).state;
}

// Calls `changed` whenever the caller's inbox changes; reconnects when the socket drops.
export function useInboxStream(session: Session, changed: () => void): StreamState {
  return useLiveSocket(
    session,
    {
      path: () => "/ws/inbox",
      message: (found) => {
        if (found.type !== "ping") changed();
      },
      endsOnClose: false,
    },
    [],
  ).state;
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
