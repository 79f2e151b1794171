// Transfer: to a skill group (with how many of its agents are free now) or to an agent
// (searched by name or staff number, with their status).
import { useEffect, useState } from "preact/hooks";
import { api, type Schemas } from "../core/api";
import { t, type Key } from "../core/i18n";
import { Dialog } from "../core/Dialog";
import { command, notify } from "./store";

export function TransferDialog(props: { sessionId: number; onClose: () => void }) {
  const [targets, setTargets] = useState<Schemas["TransferTargets"] | null>(null);
  const [q, setQ] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.transferTargets().then(setTargets, (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  const go = async (cmd: Record<string, unknown>) => {
    try {
      await command({ ...cmd, sessionId: props.sessionId });
      notify(t("transfer.done"));
      props.onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const needle = q.trim().toLowerCase();
  const agents = (targets?.agents ?? []).filter((a) => !needle || `${a.nickname} ${a.staffNo}`.toLowerCase().includes(needle));
  const status = (s: string) => (s === "notReady" ? "not_ready" : s);
  return (
    <Dialog title={t("transfer.title")} onClose={props.onClose} wide>
      {error && <p class="alert" role="alert">{error}</p>}
      <div class="transfer">
        <section aria-labelledby="tg">
          <h3 id="tg">{t("transfer.groups")}</h3>
          <ul class="targets">
            {(targets?.groups ?? []).map((g) => (
              <li key={g.id}>
                <span class="name">{g.name}</span>
                <span class={`free ${g.freeAgents > 0 ? "yes" : ""}`}>{t("transfer.free", { free: g.freeAgents, members: g.members })}</span>
                <button type="button" class="btn btn-sm" data-group={g.id} onClick={() => void go({ type: "transfer_to_group", groupId: g.id })}>
                  {t("transfer.to")}
                </button>
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="ta">
          <h3 id="ta">{t("transfer.agents")}</h3>
          <input class="input" type="search" placeholder={t("transfer.search")} aria-label={t("transfer.search")} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
          <ul class="targets">
            {agents.length === 0 && <li class="empty">{t("transfer.none")}</li>}
            {agents.map((a) => (
              <li key={a.id}>
                <span class={`dot dot-${status(a.status)}`} aria-hidden="true" />
                <span class="name">{a.nickname} <span class="meta">{a.staffNo}</span></span>
                <span class="meta">{t(`status.${status(a.status)}` as Key)}{a.restReason ? ` · ${a.restReason}` : ""}</span>
                <button type="button" class="btn btn-sm" data-agent={a.id} onClick={() => void go({ type: "transfer_to_agent", agentId: a.id })}>
                  {t("transfer.to")}
                </button>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </Dialog>
  );
}
