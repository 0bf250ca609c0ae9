import type { Random } from '../../clock.ts';

/** Lower case only, no 0/o, 1/l/i: typed on a phone or read aloud without mistakes. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const LENGTH = 16;

/** 16 characters of a 31-letter alphabet, about 79 bits, from unbiased random bytes. */
export function newKeyPassword(random: Random): string {
  let key = '';
  while (key.length < LENGTH) {
    for (const byte of random.bytes(32)) {
      if (byte < 248 && key.length < LENGTH) key += ALPHABET[byte % 31];
    }
  }
  return key;
}

/** As shown once to the user: four groups of four. */
export function formatKeyPassword(key: string): string {
  return key.match(/.{1,4}/g)?.join('-') ?? key;
}

/** What a legacy client sent, with the grouping people may have copied removed. */
export function normaliseKeyPassword(typed: string): string {
  const compact = typed.replace(/[\s-]/g, '').toLowerCase();
  return compact.length === LENGTH && [...compact].every((c) => ALPHABET.includes(c)) ? compact : typed;
}
