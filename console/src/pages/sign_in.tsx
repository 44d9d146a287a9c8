// Sign in with an API key or a JWT; kept in this tab's sessionStorage only.
import { useState, type FormEvent } from "react";
import { keepSession } from "../api";

export function SignIn({
  onSignIn,
  failure,
}: {
  onSignIn: (session: { credential: string; workspace: string | null }) => Promise<boolean>;
  failure: string | null;
}) {
  const [credential, setCredential] = useState("");
  const [workspace, setWorkspace] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const session = { credential: credential.trim(), workspace: workspace.trim() || null };
    if (await onSignIn(session)) keepSession(session);
    setBusy(false);
  };

  return (
    <main className="sign-in" id="main">
      <h1>towpath console</h1>
      <form onSubmit={submit} className="card">
        <h2>Sign in</h2>
        <p className="hint">
          Paste an API key (<code>tp_…</code>) or a JWT from your identity provider. It is kept
          in this browser tab only and sent as a bearer credential.
        </p>
        <label htmlFor="credential">API key or JWT</label>
        <input
          id="credential"
          name="credential"
          type="password"
          autoComplete="off"
          required
          value={credential}
          onChange={(event) => setCredential(event.target.value)}
        />
        <label htmlFor="workspace">Workspace (optional, JWT users in several)</label>
        <input
          id="workspace"
          name="workspace"
          value={workspace}
          onChange={(event) => setWorkspace(event.target.value)}
        />
        {failure && (
          <p role="alert" className="error">
            {failure}
          </p>
        )}
        <button type="submit" disabled={busy || !credential.trim()}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
