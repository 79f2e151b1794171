// A modal dialog: focus moves in and is kept inside, Escape closes, focus returns after.
import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { t } from "./i18n";

export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  // Where the focus was before the dialog: taken while rendering, since by the time effects
  // run the browser may have moved it to a field marked autofocus inside.
  const [before] = useState(() => document.activeElement as HTMLElement | null);
  // A layout effect, not a passive one: a passive effect waits for the next frame, and a key
  // pressed before it (Escape on a field the browser autofocused) would close the dialog
  // before the focus-return was registered, leaving the focus on the body.
  useLayoutEffect(() => {
    const first = box.current?.querySelector<HTMLElement>("[autofocus], input, select, button:not(.x), textarea");
    first?.focus();
    return () => before?.focus();
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      props.onClose();
      return;
    }
    if (e.key !== "Tab" || !box.current) return;
    const items = [...box.current.querySelectorAll<HTMLElement>("button, input, select, textarea, a[href], [tabindex='0']")].filter((x) => !x.hasAttribute("disabled"));
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };
  return (
    <div class="scrim" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class={`dialog ${props.wide ? "wide" : ""}`} role="dialog" aria-modal="true" aria-labelledby="dialog-title" ref={box} onKeyDown={onKeyDown}>
        <header>
          <h2 id="dialog-title">{props.title}</h2>
          <button type="button" class="btn btn-ghost btn-sm x" onClick={props.onClose} aria-label={t("common.close")}>✕</button>
        </header>
        <div class="dialog-body">{props.children}</div>
      </div>
    </div>
  );
}
