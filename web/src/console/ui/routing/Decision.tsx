// A routing decision in words: the rule that chose the agent, the runner-up, who was passed
// over and why, and who refused first. Names come from the page (it knows the agents).
import type { Schemas } from "../../../core/api";
import { t, type Key } from "../../../core/i18n";
import { tr } from "./i18n";

export type DecisionView = Schemas["DecisionView"];

/** An agent's name for a page that knows them (its number when it does not). */
export type Names = (id: number) => string;

/** A status as the workstation names it (free, busy...), in the page's language. */
export function statusText(status: string): string {
  const key = `status.${status}`;
  return ["offline", "free", "busy", "rest", "arrange", "not_ready"].includes(status) ? t(key as Key) : status;
}

export function policyText(p: Schemas["RoutingPolicy"]): string {
  const basic = tr(`routing.policy.${p.basic}`);
  return p.lastReceptionistFirst ? tr("routing.policy.last", { policy: basic }) : basic;
}

function refusal(r: Schemas["RefusalView"], name: Names): string {
  const who = name(r.agentId);
  switch (r.reason) {
    case "not_free":
      return tr("routing.refused.not_free", { name: who, status: statusText(r.status ?? "") });
    case "at_limit":
      return tr("routing.refused.at_limit", { name: who, load: r.load ?? 0, limit: r.limit ?? 0 });
    default:
      return tr(`routing.refused.${r.reason}`, { name: who });
  }
}

/** The refusals of a session, as a list (empty: nothing). */
export function Refusals(props: { refused: Schemas["RefusalView"][]; name: Names }) {
  if (props.refused.length === 0) return null;
  return (
    <div class="decision-refusals">
      <span>{tr("routing.refusals")}</span>
      <ul>
        {props.refused.map((r, i) => <li key={i}>{refusal(r, props.name)}</li>)}
      </ul>
    </div>
  );
}

export function Decision(props: { decision: DecisionView; name: Names }) {
  const d = props.decision;
  return (
    <div class="decision">
      <p>{tr("routing.chosen", { rule: tr(`routing.rule.${d.rule}`) })}</p>
      <p class="muted">
        {d.runnerUpId != null ? tr("routing.runnerUp", { name: props.name(d.runnerUpId) }) : tr("routing.noRunnerUp")}{" "}
        {tr("routing.considered", { considered: d.considered, offline: d.skipped.offline, notFree: d.skipped.notFree, atLimit: d.skipped.atLimit, excluded: d.skipped.excluded })}{" "}
        {tr("routing.held", { held: d.held })} {tr("routing.policy", { policy: policyText(d.policy) })}
      </p>
      <Refusals refused={d.refused} name={props.name} />
    </div>
  );
}
