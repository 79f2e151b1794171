// A website channel's launcher, as its embed script draws it on host pages: the corner and
// the colour, with a preview. The server checks both (`launcherPosition`, `themeColor`) and
// its refusal shows at the field.
import type { Schemas } from "../../core/api";
import { Field, type Form } from "../ui/form";
import { t } from "./i18n";

/** The corner a launcher sits in. */
export type Position = Schemas["LauncherPosition"];
/** The launcher's colour until one is set (the server's default too). */
export const DEFAULT_COLOR = "#2457c5";
const POSITIONS: Position[] = ["bottom_right", "bottom_left"];

/** The icon's colour on the launcher, as the embed script picks it: dark on a light colour. */
function inkOn(hex: string): string {
  const lin = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * lin(1) + 0.7152 * lin(3) + 0.0722 * lin(5) > 0.4 ? "#111" : "#fff";
}

export function LauncherFields(props: { form: Form; position: Position; color: string; onPosition: (p: Position) => void; onColor: (c: string) => void }) {
  return (
    <section class="card-box stack" aria-labelledby="ch-launcher">
      <h2 id="ch-launcher">{t("ch.launcher")}</h2>
      <p class="muted ch-intro">{t("ch.launcherIntro")}</p>
      <div class="ch-grid">
        <Field form={props.form} name="launcherPosition" label={t("ch.position")}>
          {(c) => (
            <select {...c} class="input" value={props.position} onChange={(e) => props.onPosition(e.currentTarget.value as Position)}>
              {POSITIONS.map((p) => <option key={p} value={p}>{t(`ch.position.${p}`)}</option>)}
            </select>
          )}
        </Field>
        <Field form={props.form} name="themeColor" label={t("ch.color")}>
          {(c) => (
            <div class="ch-color">
              <input {...c} type="color" value={props.color} onInput={(e) => props.onColor(e.currentTarget.value)} />
              <span class="mono" aria-hidden="true">{props.color}</span>
            </div>
          )}
        </Field>
      </div>
      <div class={`ch-preview ${props.position === "bottom_left" ? "left" : ""}`} aria-hidden="true">
        <span class="ch-preview-button" style={{ background: props.color }}>
          <svg viewBox="0 0 24 24" width="22" height="22"><path d="M4 5h16a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1h-8l-5 4v-4H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z" fill={inkOn(props.color)} /></svg>
        </span>
      </div>
    </section>
  );
}
