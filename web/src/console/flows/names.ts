// The words the canvas shows for modules and ports, from the catalogue.
import { tf } from "./i18n";
import type { Module, ModuleType } from "./model";

export function moduleName(type: ModuleType): string {
  return tf(`flows.module.${type}`);
}

/** A port as a person reads it: a menu option's text, a branch's name, "in hours". */
export function portLabel(m: Module, port: string): string {
  if (m.type === "branch") {
    const o = m.options.find((x) => x.port === port);
    return o?.content || port;
  }
  if (m.type === "condition") return port === "default" ? tf("flows.port.default") : port;
  if (port === "next" || port === "in_hours" || port === "out_of_hours" || port === "handover") return tf(`flows.port.${port}`);
  return port;
}
