// The public HTTP API, as the signed-in caller: every request carries the credential kept
// in this tab's sessionStorage, never in a URL.

const CREDENTIAL = "towpath.credential";
const WORKSPACE = "towpath.workspace";

export type Role = "viewer" | "operator" | "editor" | "admin";
const RANK: Record<Role, number> = { viewer: 0, operator: 1, editor: 2, admin: 3 };

export function may(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export interface Session {
  credential: string;
  workspace: string | null;
}

export function storedSession(): Session | null {
  const credential = sessionStorage.getItem(CREDENTIAL);
  return credential ? { credential, workspace: sessionStorage.getItem(WORKSPACE) } : null;
}

export function keepSession(session: Session): void {
  sessionStorage.setItem(CREDENTIAL, session.credential);
  if (session.workspace) sessionStorage.setItem(WORKSPACE, session.workspace);
  else sessionStorage.removeItem(WORKSPACE);
}

export function forgetSession(): void {
  sessionStorage.removeItem(CREDENTIAL);
  sessionStorage.removeItem(WORKSPACE);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }
}

export interface Page<T> {
  items: T[];
  total: number;
}

function headers(session: Session, body: boolean): HeadersInit {
  const found: Record<string, string> = { Authorization: `Bearer ${session.credential}` };
  if (session.workspace) found["X-Workspace"] = session.workspace;
  if (body) found["Content-Type"] = "application/json";
  return found;
}

async function send(
  session: Session,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers: headers(session, body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let envelope: { error_code?: string; message?: string; details?: unknown } = {};
    try {
      envelope = await response.json();
    } catch {
      // Not the API's envelope (a proxy's page): the status says enough.
    }
    throw new ApiError(
      response.status,
      envelope.error_code ?? "HTTP_ERROR",
      envelope.message ?? `${response.status} ${response.statusText}`,
      envelope.details,
    );
  }
  return response;
}

export async function get<T>(session: Session, path: string): Promise<T> {
  return (await send(session, "GET", path)).json() as Promise<T>;
}

export async function list<T>(session: Session, path: string): Promise<Page<T>> {
  const response = await send(session, "GET", path);
  const items = (await response.json()) as T[];
  return { items, total: Number(response.headers.get("X-Total-Count") ?? items.length) };
}

export async function post<T>(session: Session, path: string, body: unknown = {}): Promise<T> {
  const response = await send(session, "POST", path, body);
  return (response.status === 204 ? null : response.json()) as Promise<T>;
}

// Who the credential stands for (`GET /api/v1/me`, any role): its workspace, its role,
// and the key or JWT subject it came with.
export interface Me {
  workspace: { id: string; slug: string; name: string };
  role: Role;
  authenticated_by: "api_key" | "jwt";
  api_key: { id: string; name: string; prefix: string } | null;
  subject: string | null;
  expires_at: string | null;
}

export async function whoAmI(session: Session): Promise<Me> {
  return get<Me>(session, "/me");
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Sockets take the credential as a subprotocol pair (docs/events.md): never in the URL. A
// socket carries no X-Workspace header, so a session that names a workspace opens its
// sockets with a stream token, which keeps the workspace it was asked for in.
export async function openSocket(session: Session, path: string): Promise<WebSocket> {
  const credential = session.workspace
    ? (await post<{ token: string }>(session, "/stream-tokens")).token
    : session.credential;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return new WebSocket(`${scheme}://${location.host}${path}`, ["towpath.bearer", credential]);
}
