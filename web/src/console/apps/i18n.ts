// The apps page's texts.
import { catalogue } from "../../core/i18n";

export const en = {
  "apps.title": "Apps",
  "apps.intro": "Each app is a desk of its own: its agents, channels and settings. Its first administrator signs in with the password shown once here.",
  "apps.add": "Create app",
  "apps.id": "App id",
  "apps.name": "Name",
  "apps.adminEmail": "First administrator's email",
  "apps.createdTitle": "App created",
  "apps.password": "First password of {email}",
  "apps.createdNote": "{name} (app {id}) is ready. Its administrator signs in as {email} with this password and chooses a new one.",
  "apps.none": "No app yet.",
  "apps.this": "This app",
} as const;

export const zhCN: Record<keyof typeof en, string> = {
  "apps.title": "应用",
  "apps.intro": "每个应用都是独立的客服台：有自己的客服、渠道和设置。其首个管理员使用此处仅显示一次的密码登录。",
  "apps.add": "创建应用",
  "apps.id": "应用 ID",
  "apps.name": "名称",
  "apps.adminEmail": "首个管理员邮箱",
  "apps.createdTitle": "已创建应用",
  "apps.password": "{email} 的初始密码",
  "apps.createdNote": "{name}（应用 {id}）已就绪。其管理员以 {email} 和此密码登录，并设置新密码。",
  "apps.none": "暂无应用。",
  "apps.this": "当前应用",
};

export const t = catalogue(en, zhCN);
