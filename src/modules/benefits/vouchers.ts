/**
 * Voucher codes (PRODUCT.md §8, issue 12 item 4): read aloud at a till and typed from a screen, so the alphabet leaves out
 * the look-alikes 0/O and 1/I/L; drawn from the CSPRNG so nobody can guess a code from the ones they hold.
 */
import { randomInt } from 'node:crypto';

/** 31 symbols: A–Z without I, L, O, and 2–9. */
export const VOUCHER_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
/**
 * 16 symbols: 16 · log2(31) ≈ 79 bits. Twelve would give only 59.4 bits over this alphabet, under the 60 we want for
 * codes that are checked by lookup alone, so the code has four groups of four rather than three.
 */
export const VOUCHER_LENGTH = 16;
const GROUP = 4;

/** A fresh voucher code, e.g. `K7QM-3WXD-HN2P-RT9A`; uniqueness is left to the unique index it is stored under. */
export function newVoucherCode(): string {
  let code = '';
  for (let i = 0; i < VOUCHER_LENGTH; i++) {
    if (i > 0 && i % GROUP === 0) code += '-';
    // randomInt draws without modulo bias.
    code += VOUCHER_ALPHABET[randomInt(VOUCHER_ALPHABET.length)];
  }
  return code;
}
