// npm run build: the wasm builds (../wasm/build.sh) and the package files in dist/.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const js = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(js, 'dist');
if (!process.argv.includes('--js-only')) {
  rmSync(join(dist, 'wasm'), { recursive: true, force: true });
  execFileSync('bash', [join(js, '..', 'wasm', 'build.sh'), join(dist, 'wasm')], { stdio: 'inherit' });
}
mkdirSync(dist, { recursive: true });
for (const f of readdirSync(join(js, 'src'))) cpSync(join(js, 'src', f), join(dist, f));
// the WASI kernel and quant-type tests, served to the browser test from test/.cache/
mkdirSync(join(js, 'test', '.cache'), { recursive: true });
for (const t of ['test_kernels', 'test_quant']) {
  for (const v of ['simd128', 'relaxed']) {
    cpSync(join(js, '..', 'build-wasm', `${t}-${v}.wasm`), join(js, 'test', '.cache', `${t}-${v}.wasm`));
  }
}
console.log('built', dist);
