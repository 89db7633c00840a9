// The citizen portal's build: static files in dist/, served under /portal/ (relative paths, so any prefix works).
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, assetsInlineLimit: 0, chunkSizeWarningLimit: 400 },
});
