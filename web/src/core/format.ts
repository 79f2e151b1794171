// Times and durations through Intl, in the page's language; users' names as agents read them.
import { lang, t } from "./i18n";

const cache = new Map<string, Intl.DateTimeFormat>();

function dtf(key: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const k = `${lang.value}|${key}`;
  let f = cache.get(k);
  if (!f) {
    f = new Intl.DateTimeFormat(lang.value, options);
    cache.set(k, f);
  }
  return f;
}

/** A clock time (14:05), with the date when it is not today. */
export function time(ms: number): string {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? dtf("t", { hour: "numeric", minute: "2-digit" }).format(d)
    : dtf("dt", { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" }).format(d);
}

/** A date and time in full. */
export function dateTime(ms: number): string {
  return dtf("full", { dateStyle: "medium", timeStyle: "short" }).format(new Date(ms));
}

/** A duration, as 45 s, 3 min 5 s, 2 h 4 min (Intl unit names of the language). */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const unit = (value: number, u: "second" | "minute" | "hour") =>
    new Intl.NumberFormat(lang.value, { style: "unit", unit: u, unitDisplay: "narrow" }).format(value);
  if (s < 60) return unit(s, "second");
  const m = Math.floor(s / 60);
  if (m < 60) return `${unit(m, "minute")} ${unit(s % 60, "second")}`;
  return `${unit(Math.floor(m / 60), "hour")} ${unit(m % 60, "minute")}`;
}

/** yyyy-mm-dd of a local date, for date inputs. */
export function isoDay(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The desk's website visitors are `visitor-<channelId>.<random>`: agents see them as
 *  "Visitor" and a short tag of the random part (enough to tell two apart in one list; the
 *  whole id is in the element's title). An app's own user ids are shown as they are. */
export function userLabel(id: string): string {
  const m = /^visitor-\d+\.(.+)$/.exec(id);
  return m?.[1] ? t("user.visitor", { tag: m[1].slice(0, 6) }) : id;
}
