import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Built into the Python package, served by `towpath serve` under /ui/.
export default defineConfig({
  base: "/ui/",
  plugins: [react()],
  build: {
    outDir: "../src/towpath/console",
    emptyOutDir: true,
    assetsDir: "assets",
    // One file per kind, named by content hash: a rebuild of the same source is byte-identical.
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
});
