// The chat page's texts, English and Simplified Chinese. The language comes from the page's
// `lang` parameter (the embed script passes the host page's), then the host's `language`
// message, else the browser's; it is not remembered: the host page decides.
import { signal } from "@preact/signals";

export type Lang = "en" | "zh-CN";

export const en = {
  "title": "Chat with us",
  "close": "Close the chat",
  "loading": "Starting the chat…",
  "unknownSite": "This chat is not available: the link names no website channel of this desk.",
  "failed": "The chat could not start: {message}",
  "retry": "Try again",
  "offline": "You are offline. Your messages will be sent when the connection is back.",
  "waiting": "Waiting for an agent",
  "queue": "You are number {n} in the queue",
  "connected": "Connected to {name}",
  "anAgent": "an agent",
  "typing": "{name} is typing…",
  "thinking": "Thinking…",
  "ended": "The chat has ended",
  "timedOut": "The chat ended: no reply for a while",
  "endChat": "End chat",
  "endConfirm": "End this chat with the agent?",
  "endYes": "End chat",
  "cancel": "Cancel",
  "rateChat": "Rate this chat",
  "message": "Message",
  "placeholder": "Type a message…",
  "send": "Send",
  "attach": "Attach a file",
  "uploading": "Sending {name}: {percent}%",
  "sending": "Sending…",
  "notSent": "Not sent: {message}",
  "resend": "Send again",
  "you": "You",
  "desk": "Support",
  "selected": "You chose: {value}",
  "answer": "Your answer",
  "submit": "Submit",
  "submitted": "Submitted",
  "rateHead": "How was this chat?",
  "rated": "You rated: {value}",
  "validUntil": "You can rate until {time}",
  "expired": "Rating is closed",
  "stars": "{n} of {max}",
  "required": "required",
  "download": "Download {name} ({size})",
  "image": "Image {name}",
  "card": "Product",
  "order": "Order",
  "remindEnd": "The chat will end at {time} without a reply",
  "refusedFile": "{name} was not sent: {message}",
  "downloadWord": "Download",
} as const;

type Key = keyof typeof en;

export const zhCN: Record<Key, string> = {
  "title": "在线客服",
  "close": "关闭会话窗口",
  "loading": "正在连接客服…",
  "unknownSite": "此会话不可用：链接中没有本客服系统的网站渠道。",
  "failed": "会话无法开始：{message}",
  "retry": "重试",
  "offline": "网络已断开。连接恢复后将自动发送您的消息。",
  "waiting": "正在等待客服",
  "queue": "您前面还有 {n} 位",
  "connected": "已接入 {name}",
  "anAgent": "客服",
  "typing": "{name}正在输入…",
  "thinking": "正在思考…",
  "ended": "会话已结束",
  "timedOut": "会话已结束：长时间未回复",
  "endChat": "结束会话",
  "endConfirm": "确定结束与客服的会话吗？",
  "endYes": "结束会话",
  "cancel": "取消",
  "rateChat": "评价本次服务",
  "message": "消息",
  "placeholder": "请输入消息…",
  "send": "发送",
  "attach": "发送文件",
  "uploading": "正在发送 {name}：{percent}%",
  "sending": "发送中…",
  "notSent": "未发送：{message}",
  "resend": "重新发送",
  "you": "我",
  "desk": "客服",
  "selected": "您选择了：{value}",
  "answer": "您的回答",
  "submit": "提交",
  "submitted": "已提交",
  "rateHead": "请对本次服务进行评价",
  "rated": "您的评价：{value}",
  "validUntil": "评价有效期至 {time}",
  "expired": "评价已过期",
  "stars": "{n} / {max}",
  "required": "必填",
  "download": "下载 {name}（{size}）",
  "image": "图片 {name}",
  "card": "商品",
  "order": "订单",
  "remindEnd": "如未回复，会话将于 {time} 结束",
  "refusedFile": "{name} 未发送：{message}",
  "downloadWord": "下载",
};

export function toLang(value: string | null | undefined): Lang | null {
  if (!value) return null;
  const lower = value.toLowerCase();
  if (lower.startsWith("zh")) return "zh-CN";
  if (lower.startsWith("en")) return "en";
  return null;
}

function browserLang(): Lang {
  for (const l of navigator.languages ?? [navigator.language]) {
    const found = toLang(l);
    if (found) return found;
  }
  return "en";
}

export const lang = signal<Lang>(browserLang());

export function setLang(next: Lang): void {
  lang.value = next;
  document.documentElement.lang = next;
}

export function t(key: Key, vars?: Record<string, string | number>): string {
  const text: string = (lang.value === "zh-CN" ? zhCN : en)[key];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

export function time(ms: number): string {
  return new Date(ms).toLocaleTimeString(lang.value, { hour: "2-digit", minute: "2-digit" });
}

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
