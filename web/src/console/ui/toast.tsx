// Short confirmations ("Saved"), read out by screen readers and gone after a few seconds.
import { signal } from "@preact/signals";

interface Toast {
  id: number;
  text: string;
  kind: "ok" | "error";
}

const toasts = signal<Toast[]>([]);
let next = 1;

/** Shows `text` for 4 s. */
export function toast(text: string, kind: Toast["kind"] = "ok"): void {
  const id = next++;
  // The last three: a burst of saves must not stack a column of toasts over the page.
  toasts.value = [...toasts.value.slice(-2), { id, text, kind }];
  setTimeout(() => {
    toasts.value = toasts.value.filter((x) => x.id !== id);
  }, 4000);
}

export function Toasts() {
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.value.map((x) => (
        <div key={x.id} class={`toast ${x.kind === "error" ? "toast-error" : ""}`}>{x.text}</div>
      ))}
    </div>
  );
}
