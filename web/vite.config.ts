// Two apps from one code base: `vite build --mode agent` → dist/agent (served at /agent/),
// `--mode portal` → dist/portal (/portal/). Shared code lives in src/shared.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));
const APPS = ["agent", "portal"] as const;
type App = (typeof APPS)[number];

export default defineConfig(({ mode }) => {
  const app: App = (APPS as readonly string[]).includes(mode) ? (mode as App) : "agent";
  return {
    root: resolve(here, "src", app),
    base: `/${app}/`,
    publicDir: false,
    plugins: [react()],
    build: {
      outDir: resolve(here, "dist", app),
      emptyOutDir: true,
      sourcemap: true,
      chunkSizeWarningLimit: 600,
    },
    server: {
      port: app === "agent" ? 5173 : 5174,
      // The API gateway of `make up`: same-origin /api as in production.
      proxy: { "/api": "http://127.0.0.1:8080" },
    },
  };
});
