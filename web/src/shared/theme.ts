import { createTheme, type CSSVariablesResolver } from "@mantine/core";

/** Internal notes' accent: a dark amber that keeps white text above 4.5:1 (orange.9 does not). */
export const NOTE_COLOR = "#9c3d00";
/** Paused statuses (Pending, Waiting on Customer): the same amber. */
export const PAUSED_COLOR = NOTE_COLOR;

/** One theme for both portals; primary shade 7+ keeps white text above 4.5:1 contrast. */
export const theme = createTheme({
  primaryColor: "indigo",
  primaryShade: 7,
  defaultRadius: "sm",
  fontFamily:
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", Arial, sans-serif',
});

/** "Dimmed" text (hints, captions, counts) one shade darker than Mantine's: 4.5:1 on white. */
export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    "--mantine-color-dimmed": "var(--mantine-color-gray-7)",
    "--mantine-color-placeholder": "var(--mantine-color-gray-6)",
    // Links stay readable on striped and hovered table rows.
    "--mantine-color-anchor": "var(--mantine-color-indigo-9)",
  },
  dark: {},
});
