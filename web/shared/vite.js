// The Vite build of both apps: static files in dist/ with relative paths, so any prefix (/console/, /portal/) works.
import { defineConfig } from "vite";

export function appConfig({ chunkSizeWarningLimit }) {
  return defineConfig({
    base: "./",
    build: { outDir: "dist", emptyOutDir: true, assetsInlineLimit: 0, chunkSizeWarningLimit },
  });
}
