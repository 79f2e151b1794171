// A section not built yet: says so (the menu entry exists so roles and routes are complete).
import { tr } from "../i18n";
import { PageHeader } from "../ui/kit";
import type { PageProps } from "../sections";

export default function Page(_props: PageProps) {
  return (
    <>
      <PageHeader title={tr("console.title")} />
      <p class="muted">{tr("page.soon")}</p>
    </>
  );
}
