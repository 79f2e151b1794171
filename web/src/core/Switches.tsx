// Language and theme pickers, shared by every page.
import { lang, setLang, t, type Lang } from "./i18n";
import { setTheme, theme, type Theme } from "./theme";

export function Switches() {
  return (
    <div class="switches">
      <select aria-label={t("lang.label")} value={lang.value} onChange={(e) => setLang((e.currentTarget.value as Lang))}>
        <option value="en">{t("lang.en")}</option>
        <option value="zh-CN">{t("lang.zh-CN")}</option>
      </select>
      <select aria-label={t("theme.label")} value={theme.value} onChange={(e) => setTheme(e.currentTarget.value as Theme)}>
        <option value="system">{t("theme.system")}</option>
        <option value="light">{t("theme.light")}</option>
        <option value="dark">{t("theme.dark")}</option>
      </select>
    </div>
  );
}
