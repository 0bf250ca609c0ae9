import { createHmac } from 'node:crypto';
import type { Random } from '../../clock.ts';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { Store } from '../../store.ts';

/** Names the key passwords' MAC key in the secrets table (sealed with the server's secrets key). */
const KEY_NAME = 'app-password-fingerprint-key';
const PURPOSE = 'gatehouse app password fingerprint v1\0';

/**
 * A keyed fingerprint of a normalised key password (HMAC-SHA256), stored beside its argon2id hash
 * so that a legacy sign-in finds the one hash to verify instead of trying every app password. The
 * argon2id hash stays the verifier; the fingerprint only chooses it. The MAC key is random, made
 * once for all instances, and kept in the database sealed with the secrets key: a copy of the
 * database alone cannot test guesses against fingerprints.
 */
export type KeyFingerprint = (normalisedKey: string) => Promise<string>;

export function keyFingerprint(store: Store, secrets: SecretBox, random: Random): KeyFingerprint {
  let macKey: Promise<Buffer> | undefined;
  const loadKey = async () => {
    const candidate = secrets.seal(random.bytes(32).toString('base64'));
    const sealed = await store.secrets.getOrCreate(KEY_NAME, candidate);
    return Buffer.from(secrets.open(sealed), 'base64');
  };
  return async (normalisedKey) => {
    macKey ??= loadKey().catch((error: unknown) => {
      macKey = undefined; // a database hiccup is not cached
      throw error;
    });
    return createHmac('sha256', await macKey)
      .update(PURPOSE)
      .update(normalisedKey)
      .digest('base64url');
  };
}
