// What the agent form offers: the roles and skill groups the caller may hand out. A role
// without the admin rights or the skill-groups module cannot read those lists (403): it then
// offers what the agents it sees already hold, which is what the server lets it give.
import { call, type Schemas } from "../../core/api";
import { ta } from "./i18n";

/** The built-in roles' ids: the server names them in English words; the console translates. */
export const ADMINISTRATOR_ROLE = 1;
export const AGENT_ROLE = 2;

/** A role's name as shown: the built-in ones in the page's language, custom ones as named. */
export function roleLabel(id: number, name: string): string {
  if (id === ADMINISTRATOR_ROLE) return ta("agents.role.administrator");
  if (id === AGENT_ROLE) return ta("agents.role.agent");
  return name;
}

export interface Choice {
  id: number;
  name: string;
}

export interface Options {
  roles: Choice[];
  groups: Choice[];
}

function distinct(items: Choice[]): Choice[] {
  const seen = new Map<number, Choice>();
  for (const c of items) if (!seen.has(c.id)) seen.set(c.id, c);
  return [...seen.values()].sort((a, b) => a.id - b.id);
}

export async function loadOptions(agents: Schemas["AgentView"][]): Promise<Options> {
  const [roles, groups] = await Promise.all([
    call<Schemas["RoleView"][]>("GET", "/roles").catch(() => null),
    call<Schemas["GroupView"][]>("GET", "/skill-groups").catch(() => null),
  ]);
  return {
    roles: roles ? roles.map((r) => ({ id: r.id, name: roleLabel(r.id, r.name) })) : distinct(agents.map((a) => ({ id: a.roleId, name: roleLabel(a.roleId, a.roleName) }))),
    groups: groups ? groups.map((g) => ({ id: g.id, name: g.name })) : distinct(agents.flatMap((a) => a.skillGroups.map((g) => ({ id: g.id, name: g.name })))),
  };
}
