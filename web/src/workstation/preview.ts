// One line of a message body, for the chat list and announcements.
import type { Body } from "../core/frames";
import { t } from "../core/i18n";

export interface Desk {
  src: string;
  [key: string]: unknown;
}

/** The desk message in a custom body, if it is one (`customerServicePlugin: 0`). */
export function deskOf(body: Body): Desk | null {
  if (body.type !== "custom") return null;
  try {
    const data: unknown = JSON.parse(body.data);
    if (typeof data === "object" && data !== null && "src" in data && (data as { customerServicePlugin?: unknown }).customerServicePlugin === 0) {
      return data as Desk;
    }
  } catch {
    return null;
  }
  return null;
}

export function preview(body: Body): string {
  if (body.type === "text") return body.text;
  if (body.type === "file") return t("body.file", { name: body.name });
  const desk = deskOf(body);
  if (!desk) return body.description ?? t("body.unknown", { src: "custom" });
  switch (desk.src) {
    case "9": return t("body.rating");
    case "15": case "32": return t("body.menu");
    case "21": case "33": return t("body.form");
    case "22": return t("body.card");
    case "28": return t("body.order");
    case "19": return t("body.sessionEnded");
    case "20": return t("body.sessionTimeout");
    case "30": return typeof desk["content"] === "string" ? desk["content"].slice(0, 80) : "";
    case "31": return Array.isArray(desk["chunks"]) ? desk["chunks"].join("").slice(0, 80) : "";
    default: return body.description ?? t("body.unknown", { src: desk.src });
  }
}
