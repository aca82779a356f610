// Builds pastefile/web/static/e2e/ from src/ (npm ci && npm run build, or `make
// e2e-bundle`). Deterministic: pinned esbuild, no timestamps, no source maps, and the
// licences of the bundled packages kept in one comment at the end of each file.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

// age-encryption's post-quantum and p256 tag recipients, unused by pastefile: see
// src/unsupported.js.
const leaveOut = {
  name: "leave-out",
  setup(b) {
    b.onResolve({ filter: /^@noble\/(post-quantum\/hybrid|curves\/nist)\.js$/ }, () => ({
      path: fileURLToPath(new URL("src/unsupported.js", import.meta.url)),
    }));
  },
};

const root = fileURLToPath(new URL(".", import.meta.url));
// `node build.mjs DIR` writes elsewhere: `make e2e-bundle-check` compares the two.
const out = process.argv[2] || fileURLToPath(new URL("../pastefile/web/static/e2e/", import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: { encrypt: "src/encrypt.js", decrypt: "src/decrypt.js", sw: "src/sw.js" },
  outdir: out,
  bundle: true,
  format: "iife",
  target: ["chrome111", "firefox111", "safari16.4"],
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  sourcemap: false,
  logLevel: "warning",
  plugins: [leaveOut],
});
