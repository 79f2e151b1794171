// The quick replies page's texts.
import { catalogue } from "../../core/i18n";

export const en = {
  "qr.title": "Quick replies",
  "qr.intro": "Canned answers agents insert with # in the workstation, filed under groups.",
  "qr.add": "Add quick reply",
  "qr.edit": "Edit quick reply",
  "qr.import": "Bulk upload",
  "qr.importIntro": "Download the template, fill one quick reply a row (group, title, content) and upload it. A file with any bad cell imports nothing.",
  "qr.search": "Search quick replies",
  "qr.searchPlaceholder": "Title or content",
  "qr.groupFilter": "Group",
  "qr.allGroups": "All groups",
  "qr.group": "Group",
  "qr.groupHint": "An existing group, or a new name to start one.",
  "qr.titleField": "Title",
  "qr.content": "Content",
  "qr.countOne": "1 reply",
  "qr.countMany": "{count} replies",
  "qr.none": "No quick replies yet. Add one or upload a CSV.",
  "qr.noMatch": "No quick reply matches.",
  "qr.created": "Quick reply added.",
} as const;

export const zhCN: Record<keyof typeof en, string> = {
  "qr.title": "快捷回复",
  "qr.intro": "客服在工作台中用 # 插入的常用回复，按分组归档。",
  "qr.add": "添加快捷回复",
  "qr.edit": "编辑快捷回复",
  "qr.import": "批量上传",
  "qr.importIntro": "下载模板，每行填写一条快捷回复（分组、标题、内容）后上传。文件中任一单元格有误则不导入任何数据。",
  "qr.search": "搜索快捷回复",
  "qr.searchPlaceholder": "标题或内容",
  "qr.groupFilter": "分组",
  "qr.allGroups": "全部分组",
  "qr.group": "分组",
  "qr.groupHint": "选择已有分组，或输入新名称创建分组。",
  "qr.titleField": "标题",
  "qr.content": "内容",
  "qr.countOne": "1 条",
  "qr.countMany": "{count} 条",
  "qr.none": "暂无快捷回复。请添加或上传 CSV。",
  "qr.noMatch": "没有匹配的快捷回复。",
  "qr.created": "已添加快捷回复。",
};

export const t = catalogue(en, zhCN);
