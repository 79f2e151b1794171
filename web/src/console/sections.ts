// The console's sections: where each lives, which role module opens it, and its code, loaded
// when first opened (an administrator who only watches monitoring never downloads the flow
// canvas). The menu shows a section only to roles that open it: the server refuses the rest
// anyway (403 naming the module), the menu just does not offer what would be refused.
import type { FunctionComponent } from "preact";
import type { Schemas } from "../core/api";

export type Module = Schemas["Module"];

/** What a section's page gets: the path segments after its own (`#/agents/12` → ["12"]). */
export interface PageProps {
  path: string[];
}

export type Page = FunctionComponent<PageProps>;

/** Who may open a section: a role module, any administrator, or the instance's owners. */
export type Gate = { module: Module } | { admin: true } | { owner: true };

/** The menu's headings, in order. */
export const menuGroups = ["live", "people", "service", "history", "system"] as const;

/** Every section's first path segment, and its menu text's key (`nav.<path>`). */
export type SectionPath =
  | "monitoring" | "agents" | "roles" | "skill-groups" | "flows" | "channels" | "satisfaction"
  | "quick-replies" | "settings" | "extensions" | "records" | "analysis" | "access" | "apps";

export interface Section {
  path: SectionPath;
  group: (typeof menuGroups)[number];
  gate: Gate;
  load: () => Promise<{ default: Page }>;
}

export const sections: Section[] = [
  { path: "monitoring", group: "live", gate: { module: "monitoring" }, load: () => import("./monitoring/Page") },
  { path: "agents", group: "people", gate: { module: "agents" }, load: () => import("./agents/Page") },
  { path: "roles", group: "people", gate: { admin: true }, load: () => import("./roles/Page") },
  { path: "skill-groups", group: "people", gate: { module: "skill_groups" }, load: () => import("./groups/Page") },
  { path: "flows", group: "service", gate: { module: "flows" }, load: () => import("./flows/Page") },
  { path: "channels", group: "service", gate: { module: "channels" }, load: () => import("./channels/Page") },
  { path: "satisfaction", group: "service", gate: { module: "channels" }, load: () => import("./satisfaction/Page") },
  { path: "quick-replies", group: "service", gate: { module: "settings" }, load: () => import("./quick-replies/Page") },
  { path: "settings", group: "service", gate: { module: "settings" }, load: () => import("./settings/Page") },
  { path: "extensions", group: "system", gate: { module: "settings" }, load: () => import("./extensions/Page") },
  { path: "records", group: "history", gate: { module: "service_records" }, load: () => import("./records/Page") },
  { path: "analysis", group: "history", gate: { module: "data_analysis" }, load: () => import("./analysis/Page") },
  { path: "access", group: "system", gate: { admin: true }, load: () => import("./access/Page") },
  { path: "apps", group: "system", gate: { owner: true }, load: () => import("./apps/Page") },
];

const ADMINISTRATOR = 1;

/** Whether the signed-in account may open `section`. */
export function opens(me: Schemas["Me"], section: Section): boolean {
  const g = section.gate;
  if ("module" in g) return me.modules.includes(g.module);
  if ("admin" in g) return me.roleId === ADMINISTRATOR;
  return me.roleId === ADMINISTRATOR && me.appId === 1 && me.agentId != null;
}
