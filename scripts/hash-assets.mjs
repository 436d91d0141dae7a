// Gives the site's built files content-hashed names, so the server can let browsers keep them for a year
// (a reloaded wall then transfers almost nothing), and compresses each once at the highest settings (the
// server sends `.br` / `.gz` as the browser asks instead of compressing every response on the fly).
// Usage: node scripts/hash-assets.mjs target/site   → writes target/site/assets.json, read by the server.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';

const site = process.argv[2];
if (!site) throw new Error('usage: hash-assets.mjs SITE_DIR');

const hash = (...files) => {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(join(site, f)));
  return h.digest('hex').slice(0, 12);
};
const compress = (rel) => {
  const b = readFileSync(join(site, rel));
  writeFileSync(join(site, rel + '.br'), zlib.brotliCompressSync(b, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_LGWIN]: 24, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length },
  }));
  writeFileSync(join(site, rel + '.gz'), zlib.gzipSync(b, { level: 9 }));
};
const move = (from, to) => { renameSync(join(site, from), join(site, to)); compress(to); return to; };

// The glue and the module share one name: Leptos asks for `{output_name}.js` and `{output_name}.wasm`.
const app = `cockpit.${hash('pkg/cockpit.js', 'pkg/cockpit.wasm')}`;
move('pkg/cockpit.js', `pkg/${app}.js`);
move('pkg/cockpit.wasm', `pkg/${app}.wasm`);
// The wall's own bundle, when the build made one.
let wall;
try {
  wall = `wall.${hash('pkg/wall.js', 'pkg/wall.wasm')}`;
  move('pkg/wall.js', `pkg/${wall}.js`);
  move('pkg/wall.wasm', `pkg/${wall}.wasm`);
} catch (e) {
  if (e.code !== 'ENOENT') throw e;
  wall = undefined;
}
const css = move('pkg/cockpit.css', `pkg/cockpit.${hash('pkg/cockpit.css')}.css`);
const echarts = move('assets/echarts.js', `assets/echarts.${hash('assets/echarts.js')}.js`);

const manifest = { app, css: `/${css}`, echarts: `/${echarts}`, ...(wall ? { wall } : {}) };
writeFileSync(join(site, 'assets.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(JSON.stringify(manifest));
