// The console's shell: sign-in, navigation by role, and the page the path names.
import { useEffect, useRef, useState, type ReactNode } from "react";
import { forgetSession, storedSession, whoAmI, type Session } from "./api";
import { problem } from "./format";
import { InboxPage } from "./pages/inbox";
import { RunPage } from "./pages/run";
import { RunsPage } from "./pages/runs";
import { SignIn } from "./pages/sign_in";
import { StatsPage } from "./pages/stats";
import { WorkflowPage } from "./pages/workflow";
import { WorkflowsPage } from "./pages/workflows";
import { Link, match, navigate, useLocation } from "./router";
import { CallerContext, type Caller } from "./session";

function page(path: string): { title: string; body: ReactNode } {
  let found: Record<string, string> | null;
  if ((found = match("/workflows/:id/stats", path))) {
    return { title: "Workflow stats", body: <StatsPage workflowId={found.id} /> };
  }
  if ((found = match("/workflows/:id", path))) {
    return { title: "Workflow", body: <WorkflowPage key={found.id} workflowId={found.id} /> };
  }
  if ((found = match("/runs/:id", path))) {
    return { title: "Run", body: <RunPage key={found.id} runId={found.id} /> };
  }
  if (path === "/runs") return { title: "Runs", body: <RunsPage /> };
  if (path === "/inbox") return { title: "Inbox", body: <InboxPage /> };
  return { title: "Workflows", body: <WorkflowsPage /> };
}

const SECTIONS = [
  { to: "/workflows", label: "Workflows" },
  { to: "/runs", label: "Runs" },
  { to: "/inbox", label: "Inbox" },
];

export function App() {
  const { path } = useLocation();
  const [caller, setCaller] = useState<Caller | null>(null);
  const [checking, setChecking] = useState<boolean>(() => storedSession() !== null);
  const [failure, setFailure] = useState<string | null>(null);

  const signIn = async (session: Session) => {
    setFailure(null);
    try {
      const me = await whoAmI(session);
      setCaller({ session, role: me.role, me });
      return true;
    } catch (error) {
      setFailure(problem(error));
      return false;
    } finally {
      setChecking(false);
    }
  };

  useEffect(() => {
    const kept = storedSession();
    if (kept) void signIn(kept).then((ok) => ok || forgetSession());
  }, []);

  const { title, body } = page(path);
  useEffect(() => {
    document.title = caller ? `${title} · towpath` : "Sign in · towpath";
  }, [title, caller]);
  // After a move to another page, keyboard and screen reader users start at its content.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("main")?.focus();
  }, [path]);

  if (checking) return <p className="loading">Checking your credential…</p>;
  if (!caller) return <SignIn onSignIn={signIn} failure={failure} />;

  const signOut = () => {
    forgetSession();
    setCaller(null);
    navigate("/");
  };
  return (
    <CallerContext.Provider value={caller}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">towpath</span>
        <nav aria-label="Sections">
          {SECTIONS.map((section) => (
            <Link
              key={section.to}
              to={section.to}
              aria-current={path.startsWith(section.to) ? "page" : undefined}
            >
              {section.label}
            </Link>
          ))}
        </nav>
        <span className="who">
          <span className="identity" data-testid="identity">
            {caller.me.api_key ? caller.me.api_key.name : caller.me.subject} ·{" "}
            {caller.me.workspace.slug}
          </span>
          <span className="role" data-testid="role">
            {caller.role}
          </span>
          <button type="button" className="quiet" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {body}
      </main>
    </CallerContext.Provider>
  );
}
