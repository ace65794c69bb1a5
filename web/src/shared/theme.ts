import { createTheme } from "@mantine/core";

/** One theme for both portals; primary shade 7+ keeps white text above 4.5:1 contrast. */
export const theme = createTheme({
  primaryColor: "indigo",
  primaryShade: 7,
  defaultRadius: "sm",
  fontFamily:
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", Arial, sans-serif',
});
