// The extensions page's texts.
import { catalogue } from "../../core/i18n";

export const en = {
  "ext.title": "Third-party extensions",
  "ext.intro": "Pages of other systems (a CRM, an order lookup) shown as tabs in the agents' workstation.",
  "ext.add": "Add extension",
  "ext.edit": "Edit extension",
  "ext.name": "Tab name",
  "ext.url": "Page URL",
  "ext.urlHint": "https only: the workstation shows it in a frame.",
  "ext.alwaysVisible": "Always visible",
  "ext.alwaysVisibleHint": "Otherwise shown only while a session is open.",
  "ext.enabled": "Enabled",
  "ext.shown": "Shown",
  "ext.visibility": "Visibility",
  "ext.always": "Always",
  "ext.inSession": "During a session",
  "ext.on": "On",
  "ext.off": "Off",
  "ext.none": "No extension yet.",
  "ext.created": "Extension added.",
} as const;

export const zhCN: Record<keyof typeof en, string> = {
  "ext.title": "第三方扩展",
  "ext.intro": "在客服工作台中以标签页显示的其他系统页面（CRM、订单查询等）。",
  "ext.add": "添加扩展",
  "ext.edit": "编辑扩展",
  "ext.name": "标签名称",
  "ext.url": "页面 URL",
  "ext.urlHint": "仅限 https：工作台在框架中显示该页面。",
  "ext.alwaysVisible": "始终显示",
  "ext.alwaysVisibleHint": "否则仅在有会话打开时显示。",
  "ext.enabled": "启用",
  "ext.shown": "状态",
  "ext.visibility": "显示时机",
  "ext.always": "始终",
  "ext.inSession": "会话中",
  "ext.on": "已启用",
  "ext.off": "已停用",
  "ext.none": "暂无扩展。",
  "ext.created": "已添加扩展。",
};

export const t = catalogue(en, zhCN);
