/**
 * What a referral keeps of a person, with no I/O: invite codes (said aloud and typed from a screenshot, so no look-alike
 * symbols), names shown masked to the referrer, and device ids and IPs kept only as keyed hashes (docs/REFERRALS.md).
 */
import { createHmac, randomInt } from 'node:crypto';

/** 31 symbols: A–Z without I, L, O, and 2–9 (no 0/O, no 1/I/L). */
export const REFERRAL_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
/**
 * 8 symbols: 31^8 ≈ 8.5·10^11 codes. A code is public (it is meant to be shared), so it only has to be unique and not
 * enumerable by walking a sequence; guessing one binds the guesser to a stranger, which the fraud guards watch anyway.
 */
export const REFERRAL_CODE_LENGTH = 8;

/** A fresh code from the CSPRNG, e.g. `K7QM3WXD`; uniqueness is left to the unique `_id` it is stored under. */
export function newReferralCode(): string {
  let code = '';
  // randomInt draws without modulo bias.
  for (let i = 0; i < REFERRAL_CODE_LENGTH; i++) code += REFERRAL_ALPHABET[randomInt(REFERRAL_ALPHABET.length)];
  return code;
}

/**
 * A name as a referrer sees its invitees': its first third (one or two characters) and `***`, so "Alice" is
 * "Al***" and a two-character Chinese name "张三" is "张***" — enough to recognise a friend, not to identify a stranger.
 */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  const shown = Math.min(2, Math.max(1, Math.ceil(chars.length / 3)));
  return `${chars.slice(0, shown).join('')}***`;
}

/**
 * Keyed hashes (HMAC-SHA256) of device ids and IPs: equal inputs give equal hashes under one key, so the guards can
 * count them, but without the key a hash cannot be tested against a list of known devices or addresses.
 */
export function hasher(key: string) {
  const hash = (kind: string, value: string) => createHmac('sha256', key).update(`${kind}\u0000${value}`).digest('base64url');
  return {
    device: (id: string | undefined) => (id ? hash('device', id) : null),
    // IPv6 has several spellings of one address; lower case covers the hex digits (the schema accepts only valid forms).
    ip: (ip: string | undefined) => (ip ? hash('ip', ip.toLowerCase()) : null),
  };
}
export type Hasher = ReturnType<typeof hasher>;
