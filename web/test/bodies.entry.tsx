// A page that draws message bodies with the workstation's own component, for bodies.test.mjs:
// the desk protocol has bodies (rich text, streams, v2 menus, form collection, order cards,
// bot welcomes) that no route of a running server lets a test produce on demand.
import { render } from "preact";
import type { Body } from "../src/core/frames";
import { MessageBody } from "../src/workstation/MessageBody";

declare global {
  interface Window {
    drawBodies(bodies: Body[]): void;
  }
}

window.drawBodies = (bodies) => {
  render(
    <main>
      {bodies.map((b, i) => (
        <div class="bubble" data-i={i} key={i}>
          <MessageBody body={b} />
        </div>
      ))}
    </main>,
    document.getElementById("root") ?? document.body,
  );
};
