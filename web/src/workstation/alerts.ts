// How an offer reaches an agent who is not looking: a bell made with Web Audio (no file, no
// network), repeating until the offer is accepted or lapses; a desktop notification when
// the tab is hidden (permission asked once, on a gesture); the count in the title.
import { effect } from "@preact/signals";
import { t } from "../core/i18n";
import { offers } from "./store";

let audio: AudioContext | null = null;
let rings = 0;

function unlock(): void {
  if (!audio) {
    try {
      audio = new AudioContext();
    } catch {
      audio = null;
    }
  }
  if (audio?.state === "suspended") void audio.resume();
  if ("Notification" in window && Notification.permission === "default" && !localStorage.getItem("helpline.notifyAsked")) {
    localStorage.setItem("helpline.notifyAsked", "1");
    void Notification.requestPermission();
  }
}

function chime(): void {
  rings += 1;
  document.documentElement.dataset["bellRings"] = String(rings);
  if (!audio || audio.state !== "running") return;
  const start = audio.currentTime;
  for (const [i, freq] of [880, 660].entries()) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    const at = start + i * 0.22;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.4);
  }
}

let ringing: ReturnType<typeof setInterval> | null = null;

export function startAlerts(): void {
  window.addEventListener("pointerdown", unlock, { capture: true });
  window.addEventListener("keydown", unlock, { capture: true });
  effect(() => {
    const count = offers.value.length;
    const base = t("app.name");
    document.title = count > 0 ? t("offers.title.count", { count, title: base }) : base;
    if (count > 0 && !ringing) {
      chime();
      ringing = setInterval(chime, 3000);
    } else if (count === 0 && ringing) {
      clearInterval(ringing);
      ringing = null;
    }
  });
}

/** A desktop notification for an offer, when the tab is hidden. */
export function notifyOffer(user: string, focus: () => void): void {
  if (document.visibilityState !== "hidden" || !("Notification" in window) || Notification.permission !== "granted") return;
  const n = new Notification(t("offers.notify", { user }), { tag: `offer-${user}` });
  n.onclick = () => {
    window.focus();
    focus();
    n.close();
  };
}
