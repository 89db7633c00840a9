// The staff console: a static single-page app served at /console/ (CloudFront in AWS, the dev web server locally).
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, assetsInlineLimit: 0, chunkSizeWarningLimit: 800 },
});
