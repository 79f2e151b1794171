// The eight console modules in the order the seed's manual lists them.
import type { Schemas } from "../../core/api";

export type Module = Schemas["Module"];

export const MODULES: readonly Module[] = ["agents", "skill_groups", "flows", "channels", "settings", "service_records", "monitoring", "data_analysis"];
