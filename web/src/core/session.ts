// The sign-in of this tab. The token lives in sessionStorage, not localStorage: it is per
// tab and dies with it, so a shared or kiosk machine does not keep a live sign-in once the
// tab closes, and two tabs never fight over one account's single login place.
import type { Schemas } from "./api";

const KEY = "helpline.signin";

export interface SignIn {
  token: string;
  expiresAtMs: number;
  agentId: number;
  roleId: number;
}

function read(): SignIn | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as SignIn) : null;
  } catch {
    return null;
  }
}

export const session = {
  current: read,
  token: (): string | null => read()?.token ?? null,
  save(login: Schemas["LoginResponse"]): void {
    const value: SignIn = {
      token: login.token,
      expiresAtMs: login.expiresAtMs,
      agentId: login.agentId,
      roleId: login.roleId,
    };
    sessionStorage.setItem(KEY, JSON.stringify(value));
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
  },
};

/** Why the last sign-in ended, shown on the sign-in page after the redirect. */
export const signOutReason = {
  set: (cause: string) => sessionStorage.setItem("helpline.signout", cause),
  take(): string | null {
    const v = sessionStorage.getItem("helpline.signout");
    sessionStorage.removeItem("helpline.signout");
    return v;
  },
};
