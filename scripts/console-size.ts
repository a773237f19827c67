/**
 * The ops console's production bundle, file by file, raw and gzipped, against the 150 KB gzip ceiling (issue 15).
 * Exits 1 over the ceiling.
 *
 *     npm run console:size
 */
import { BUNDLE_CEILING_BYTES, bundleSize, ensureConsoleBuilt } from './lib/console-build.js';

const out = (line = '') => process.stdout.write(`${line}\n`);
await ensureConsoleBuilt({ log: out });
const { files, gzip } = bundleSize();
const kb = (n: number) => (n / 1024).toFixed(1);
out('| file | bytes | gzip |');
out('|---|---:|---:|');
for (const f of files) out(`| ${f.file} | ${kb(f.bytes)} KB | ${kb(f.gzip)} KB |`);
out(`\nconsole bundle: ${kb(gzip)} KB gzip; ceiling ${kb(BUNDLE_CEILING_BYTES)} KB; ratio ${(gzip / BUNDLE_CEILING_BYTES).toFixed(3)} (${gzip <= BUNDLE_CEILING_BYTES ? 'met' : 'OVER'})`);
if (gzip > BUNDLE_CEILING_BYTES) process.exit(1);
