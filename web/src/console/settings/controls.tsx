// A checkbox with its label beside it, for a setting that is on or off.
export function Check(props: { checked: boolean; onChange: (on: boolean) => void; label: string }) {
  return (
    <label class="check setting-check">
      <input type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.currentTarget.checked)} />
      <span>{props.label}</span>
    </label>
  );
}
