import { describe, expect, it } from 'vitest';
import { BUNDLE_CEILING_BYTES, bundleSize } from '../../scripts/lib/console-build.js';

describe('the console bundle', () => {
  it('when the console is built (by the tests’ setup), then what a browser downloads is under 150 KB gzipped, scripts and styles included', () => {
    const { files, gzip } = bundleSize();
    expect(files.some((f) => f.file.endsWith('.js'))).toBe(true);
    expect(files.some((f) => f.file.endsWith('.css'))).toBe(true);
    expect(gzip).toBeLessThanOrEqual(BUNDLE_CEILING_BYTES);
  });
});
