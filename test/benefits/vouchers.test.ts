import { describe, expect, it } from 'vitest';
import { newVoucherCode, VOUCHER_ALPHABET, VOUCHER_LENGTH } from '../../src/modules/benefits/index.js';

describe('voucher codes', () => {
  it('when the alphabet is read, then it has no look-alikes and no repeats', () => {
    for (const c of '0O1IL') expect(VOUCHER_ALPHABET).not.toContain(c);
    expect(new Set(VOUCHER_ALPHABET).size).toBe(VOUCHER_ALPHABET.length);
    expect(VOUCHER_ALPHABET).toMatch(/^[A-Z2-9]+$/);
  });

  it('when the code length is set, then a code carries at least 60 bits', () => {
    expect(VOUCHER_LENGTH * Math.log2(VOUCHER_ALPHABET.length)).toBeGreaterThanOrEqual(60);
  });

  it('when 10,000 codes are drawn, then each is four groups of four from the alphabet, none repeats and every symbol is used', () => {
    const codes = Array.from({ length: 10_000 }, () => newVoucherCode());
    const symbol = `[${VOUCHER_ALPHABET}]`;
    const shape = new RegExp(`^${symbol}{4}(-${symbol}{4}){${VOUCHER_LENGTH / 4 - 1}}$`);
    for (const code of codes) expect(code).toMatch(shape);
    expect(new Set(codes).size).toBe(codes.length);
    const used = new Set(codes.join('').replaceAll('-', ''));
    expect(used.size).toBe(VOUCHER_ALPHABET.length);
  });
});
