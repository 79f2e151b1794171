// The launcher's DOM: a host element with a closed shadow root holding the button, its
// unread badge and (from the first open) the panel with the chat page's frame. Every style
// lives inside the shadow root and the host is reset with `all: initial`, so the host page's
// CSS reaches none of it and none of it reaches the page.

/** The languages the chat page speaks. */
export type Language = "en" | "zh-CN";
/** The corner the launcher sits in (the channel's `launcherPosition`). */
export type Position = "bottom_right" | "bottom_left";

const TEXTS = {
  en: { launcher: "Chat with us", title: "Chat", unread: (n: number) => `${n} unread message${n === 1 ? "" : "s"}` },
  "zh-CN": { launcher: "在线客服", title: "在线客服", unread: (n: number) => `${n} 条未读消息` },
};

/** Above every page's own layers. */
const Z = 2147483000;
/** Narrower than this, the open panel takes the whole viewport. */
const FULL_SCREEN_BELOW_PX = 480;

const BUBBLE = "M4 5h16a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1h-8l-5 4v-4H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z";
const CROSS = "M6 6l12 12M18 6L6 18";
const SVG = "http://www.w3.org/2000/svg";

/** An icon made node by node: a page enforcing Trusted Types refuses `innerHTML`. */
function icon(className: string, d: string, stroke: boolean): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", className);
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  if (stroke) {
    path.setAttribute("fill", "none");
    path.setAttribute("stroke-width", "2.4");
    path.setAttribute("stroke-linecap", "round");
  }
  svg.appendChild(path);
  return svg;
}

/** The styles into the root: a constructed sheet where the browser has them (a page's
 * `style-src` does not apply to it), else a style element. */
function style(root: ShadowRoot, text: string): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(text);
    root.adoptedStyleSheets = [sheet];
  } catch {
    const element = document.createElement("style");
    element.textContent = text;
    root.appendChild(element);
  }
}

/** Dark text on a light theme colour, white on a dark one (WCAG relative luminance). */
function inkOn(hex: string): string {
  const lin = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  const l = 0.2126 * lin(1) + 0.7152 * lin(3) + 0.0722 * lin(5);
  return l > 0.4 ? "#111" : "#fff";
}

function css(color: string, side: "left" | "right"): string {
  const ink = inkOn(color);
  return `
:host{all:initial!important}
*{box-sizing:border-box}
.launcher{position:fixed;${side}:20px;bottom:20px;z-index:${Z + 1};width:56px;height:56px;margin:0;padding:0;border:0;border-radius:50%;
background:${color};color:${ink};fill:currentColor;stroke:currentColor;cursor:pointer;display:grid;place-items:center;
box-shadow:0 4px 14px rgba(0,0,0,.28);transition:transform .15s ease,box-shadow .15s ease;-webkit-tap-highlight-color:transparent}
.launcher:hover{transform:scale(1.06);box-shadow:0 6px 18px rgba(0,0,0,.32)}
.launcher:focus{outline:none}
.launcher:focus-visible{outline:3px solid #111;outline-offset:3px;box-shadow:0 0 0 3px #fff,0 4px 14px rgba(0,0,0,.28)}
.launcher svg{width:28px;height:28px;display:block;stroke-width:0}
.launcher .x{display:none}
.open .launcher .b{display:none}
.open .launcher .x{display:block}
.badge{position:fixed;${side}:${side === "right" ? 14 : 58}px;bottom:60px;z-index:${Z + 2};min-width:22px;height:22px;padding:0 6px;border-radius:11px;
background:#c5221f;color:#fff;border:2px solid #fff;font:700 12px/18px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;text-align:center;pointer-events:none}
.badge[hidden]{display:none}
.panel{position:fixed;${side}:20px;bottom:88px;z-index:${Z};width:380px;height:600px;max-width:calc(100vw - 40px);max-height:calc(100vh - 108px);
border-radius:12px;overflow:hidden;background:#fff;box-shadow:0 10px 40px rgba(0,0,0,.3);transition:opacity .18s ease,transform .18s ease}
.panel[hidden]{display:block;visibility:hidden;opacity:0;transform:translateY(12px);pointer-events:none}
iframe{display:block;width:100%;height:100%;border:0;background:#fff;color-scheme:normal}
@media (max-width:${FULL_SCREEN_BELOW_PX - 0.02}px){
.panel{inset:0;width:100%;height:100%;max-width:none;max-height:none;border-radius:0}
.open .launcher{top:10px;bottom:auto;${side === "right" ? "right" : "left"}:10px;width:40px;height:40px}
.open .launcher svg{width:22px;height:22px}
.open .badge{display:none}}
@media (prefers-reduced-motion:reduce){.launcher,.panel{transition:none}.launcher:hover{transform:none}}
`;
}

/** The launcher as the loader drives it. */
export interface Launcher {
  button: HTMLButtonElement;
  /** The chat page's frame, made on the first open. */
  frame: HTMLIFrameElement | null;
  /** Shows or hides the panel (making the frame at `src` the first time). */
  show(open: boolean, src: () => string): void;
  isOpen(): boolean;
  /** Whether the focus is on the launcher or in its frame. */
  hasFocus(): boolean;
  setUnread(count: number): void;
  setLanguage(language: Language): void;
  /** Whether `node` (an event's target in the page) is the launcher's host. */
  owns(node: EventTarget | null): boolean;
}

/** Adds the launcher to the page. */
export function mount(opts: { color: string; position: Position; language: Language; channelName: string; onToggle: () => void }): Launcher {
  const host = document.createElement("helpline-chat");
  // Inline and important: nothing in the page's style sheets outranks it.
  host.style.cssText = "all:initial!important;display:block!important;position:static!important";
  const root = host.attachShadow({ mode: "closed" });
  const side = opts.position === "bottom_left" ? "left" : "right";
  const wrap = document.createElement("div");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "launcher";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-describedby", "hl-badge");
  button.append(icon("b", BUBBLE, false), icon("x", CROSS, true));
  button.addEventListener("click", opts.onToggle);
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.id = "hl-badge";
  badge.setAttribute("role", "status");
  badge.hidden = true;
  const panel = document.createElement("div");
  panel.className = "panel";
  panel.id = "hl-panel";
  panel.setAttribute("role", "region");
  panel.setAttribute("aria-label", opts.channelName);
  panel.hidden = true;
  button.setAttribute("aria-controls", panel.id);
  wrap.append(panel, button, badge);
  style(root, css(opts.color, side));
  root.appendChild(wrap);
  (document.body || document.documentElement).appendChild(host);

  let language = opts.language;
  let unread = 0;
  const label = () => {
    const text = TEXTS[language];
    button.setAttribute("aria-label", text.launcher);
    button.title = text.launcher;
    badge.setAttribute("aria-label", text.unread(unread));
    if (launcher.frame) launcher.frame.title = text.title;
  };
  const launcher: Launcher = {
    button,
    frame: null,
    show(open, src) {
      if (open && !launcher.frame) {
        const frame = document.createElement("iframe");
        frame.title = TEXTS[language].title;
        frame.allow = "clipboard-write";
        frame.src = src();
        panel.appendChild(frame);
        launcher.frame = frame;
      }
      panel.hidden = !open;
      wrap.className = open ? "open" : "";
      button.setAttribute("aria-expanded", String(open));
    },
    isOpen: () => !panel.hidden,
    hasFocus: () => root.activeElement !== null,
    setUnread(count) {
      unread = count;
      badge.textContent = count > 99 ? "99+" : String(count);
      badge.hidden = count <= 0;
      label();
    },
    setLanguage(next) {
      language = next;
      label();
    },
    owns: (node) => node === host,
  };
  label();
  return launcher;
}
