// Who is signed in, with which role: shared by every page through a context.
import { createContext, useContext } from "react";
import { may, type Me, type Role, type Session } from "./api";

export interface Caller {
  session: Session;
  role: Role;
  me: Me;
}

export const CallerContext = createContext<Caller | null>(null);

export function useCaller(): Caller {
  const caller = useContext(CallerContext);
  if (caller === null) throw new Error("useCaller outside a signed-in page");
  return caller;
}

export function useMay(needed: Role): boolean {
  return may(useCaller().role, needed);
}
