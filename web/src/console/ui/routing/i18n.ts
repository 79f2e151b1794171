// The words of a routing decision ("why this agent"), shared by monitoring's offers and the
// records' timeline: the server sends the decision as data, these say it.
import { catalogue } from "../../../core/i18n";

export const en = {
  "routing.why": "Why this agent",
  "routing.rule.only_candidate": "the only agent who could take it",
  "routing.rule.last_receptionist": "served this user last (last receptionist first)",
  "routing.rule.priority": "higher priority in the group than the runner-up",
  "routing.rule.least_loaded": "fewer sessions in hand than the runner-up",
  "routing.rule.longest_idle": "free for longer than the runner-up",
  "routing.rule.lowest_id": "all else equal, the lower agent number",
  "routing.rule.direct": "named by a transfer",
  "routing.rule.excluded_fallback": "missed it before, and nobody else could take it",
  "routing.policy.fifo": "First come, first served",
  "routing.policy.agent_priority": "Agent priority",
  "routing.policy.last": "{policy}, last receptionist first",
  "routing.chosen": "Chosen because: {rule}.",
  "routing.runnerUp": "Runner-up: {name}.",
  "routing.noRunnerUp": "No runner-up.",
  "routing.considered": "Members looked at: {considered}; passed over: {offline} offline, {notFree} not free, {atLimit} at their limit, {excluded} had missed it.",
  "routing.held": "The agent held {held} sessions when it accepted.",
  "routing.policy": "Policy: {policy}.",
  "routing.refusals": "Refused first:",
  "routing.refused.not_free": "{name}: status was {status}",
  "routing.refused.at_limit": "{name}: at the limit ({load} of {limit})",
  "routing.refused.offline": "{name}: offline",
  "routing.refused.gone": "{name}: no longer in the group",
  "routing.refused.already_holds": "{name}: already held it",
} as const;

export const zhCN: Record<keyof typeof en, string> = {
  "routing.why": "为何分配给该客服",
  "routing.rule.only_candidate": "唯一能接待的客服",
  "routing.rule.last_receptionist": "上次接待过该用户（上次接待优先）",
  "routing.rule.priority": "在技能组中的优先级高于次选客服",
  "routing.rule.least_loaded": "手中会话少于次选客服",
  "routing.rule.longest_idle": "空闲时间长于次选客服",
  "routing.rule.lowest_id": "其他条件相同，客服编号较小",
  "routing.rule.direct": "转接时指定",
  "routing.rule.excluded_fallback": "之前错过该会话，但无其他客服可接待",
  "routing.policy.fifo": "先到先服务",
  "routing.policy.agent_priority": "客服优先级",
  "routing.policy.last": "{policy}，上次接待优先",
  "routing.chosen": "选择原因：{rule}。",
  "routing.runnerUp": "次选：{name}。",
  "routing.noRunnerUp": "无次选客服。",
  "routing.considered": "考察 {considered} 名成员；跳过：{offline} 名离线，{notFree} 名非空闲，{atLimit} 名已达上限，{excluded} 名曾错过该会话。",
  "routing.held": "该客服接受时手中有 {held} 个会话。",
  "routing.policy": "分配策略：{policy}。",
  "routing.refusals": "先拒绝的客服：",
  "routing.refused.not_free": "{name}：状态为{status}",
  "routing.refused.at_limit": "{name}：已达上限（{load}/{limit}）",
  "routing.refused.offline": "{name}：离线",
  "routing.refused.gone": "{name}：已不在技能组",
  "routing.refused.already_holds": "{name}：已持有该会话",
};

export const tr = catalogue(en, zhCN);
