// The palette of modules: drag one onto the canvas (it lands where it is dropped), or press
// Enter or click it to add it at the centre of the view.
import { signal } from "@preact/signals";
import { tf } from "./i18n";
import { PALETTE, type ModuleType } from "./model";
import { moduleName } from "./names";

const ghost = signal<{ type: ModuleType; x: number; y: number } | null>(null);

/** How far the pointer goes before a press becomes a drag, in pixels. */
const DRAG_PX = 4;

/** Whether the press now ending moved far enough to be a drag (kept across the re-renders the ghost causes). */
let dragged = false;

export function Palette(props: { onAdd: (type: ModuleType, at: { clientX: number; clientY: number } | null) => void; disabled: boolean }) {
  const down = (e: PointerEvent, type: ModuleType) => {
    if (e.button !== 0 || props.disabled) return;
    const sx = e.clientX;
    const sy = e.clientY;
    dragged = false;
    const move = (m: PointerEvent) => {
      if (!dragged && Math.hypot(m.clientX - sx, m.clientY - sy) < DRAG_PX) return;
      dragged = true;
      ghost.value = { type, x: m.clientX, y: m.clientY };
    };
    const up = (u: PointerEvent) => {
      removeEventListener("pointermove", move);
      removeEventListener("pointerup", up);
      ghost.value = null;
      if (dragged) props.onAdd(type, { clientX: u.clientX, clientY: u.clientY });
    };
    addEventListener("pointermove", move);
    addEventListener("pointerup", up);
  };
  const gh = ghost.value;
  return (
    <nav class="flow-palette" aria-label={tf("flows.palette")}>
      <h2>{tf("flows.palette")}</h2>
      <ul>
        {PALETTE.map((type) => (
          <li key={type}>
            <button
              type="button"
              class={`palette-item palette-${type}`}
              disabled={props.disabled}
              data-module={type}
              aria-description={tf("flows.palette.how")}
              onPointerDown={(e) => down(e, type)}
              onClick={() => {
                // The click that ends a drag has been handled by the drop.
                if (dragged) dragged = false;
                else props.onAdd(type, null);
              }}
            >
              <span class="palette-dot" aria-hidden="true" />
              {moduleName(type)}
            </button>
          </li>
        ))}
      </ul>
      <p class="muted small">{tf("flows.palette.how")}</p>
      {gh && (
        <div class={`palette-ghost palette-${gh.type}`} style={{ left: `${gh.x}px`, top: `${gh.y}px` }} aria-hidden="true">
          {moduleName(gh.type)}
        </div>
      )}
    </nav>
  );
}
