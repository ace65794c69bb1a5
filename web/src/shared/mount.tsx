/** Mount a portal with all of Mantine's styles: i18n, the theme and the React root. */
import "@mantine/core/styles.css";
import { mountApp } from "./providers";

export function mount(app: Parameters<typeof mountApp>[0]): void {
  mountApp(app);
}
