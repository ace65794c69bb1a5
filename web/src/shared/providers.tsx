/** Mount a portal without choosing its CSS: i18n, the Mantine theme and the React root. The
 * agent portal takes all of Mantine's styles (``mount.tsx``); the customer portal imports only
 * the styles of the components it uses, to keep its first screen small. */
import { MantineProvider } from "@mantine/core";
import { StrictMode, type ReactNode } from "react";
import { createRoot } from "react-dom/client";
import { I18nextProvider } from "react-i18next";
import { setupI18n } from "./i18n/i18n";
import { cssVariablesResolver, theme } from "./theme";

export function mountApp(app: ReactNode): void {
  const i18n = setupI18n();
  const root = document.getElementById("root");
  if (!root) throw new Error("#root is missing from index.html");
  createRoot(root).render(
    <StrictMode>
      <I18nextProvider i18n={i18n}>
        <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver}>
          {app}
        </MantineProvider>
      </I18nextProvider>
    </StrictMode>,
  );
}
