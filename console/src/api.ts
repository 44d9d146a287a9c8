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

// The API names no endpoint for "who am I". A stream token (any role may ask for one)
// carries its caller's claims, signed but readable: `tps_<base64url JSON>.<signature>`,
// the role among them. A token whose claims cannot be read falls back to an admin-only
// read: 200 to an admin, and to any other role a 403 whose details name the role held.
export async function callerRole(session: Session): Promise<Role> {
  const { token } = await post<{ token: string }>(session, "/stream-tokens");
  const claimed = roleClaimed(token);
  if (claimed) return claimed;
  try {
    await send(session, "GET", "/api-keys?per_page=1");
    return "admin";
  } catch (error) {
    const held = error instanceof ApiError && (error.details as { role?: string } | null)?.role;
    if (held && held in RANK) return held as Role;
    throw error;
  }
}

function roleClaimed(token: string): Role | null {
  const body = token.startsWith("tps_") ? token.slice(4).split(".")[0] : "";
  try {
    const claims = JSON.parse(atob(body.replace(/-/g, "+").replace(/_/g, "/"))) as {
      role?: string;
    };
    return claims.role && claims.role in RANK ? (claims.role as Role) : null;
  } catch {
    return null;
  }
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Sockets take the credential as a subprotocol pair (docs/events.md): never in the URL.
export function openSocket(session: Session, path: string): WebSocket {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return new WebSocket(`${scheme}://${location.host}${path}`, ["towpath.bearer", session.credential]);
}
