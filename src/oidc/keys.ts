import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { SecretBox } from '../core/crypto/secret-box.ts';
import type { Store } from '../core/store.ts';

/** Keys kept after a rotation, so tokens signed with the previous ones still verify. */
const KEYS_KEPT = 3;

export type PrivateJwk = Record<string, string>;

function newSigningKey(): PrivateJwk & { kid: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    ...(privateKey.export({ format: 'jwk' }) as PrivateJwk),
    kid: randomUUID(),
    alg: 'RS256',
    use: 'sig',
  };
}

/** Adds a new signing key (it signs from now on) and drops all but the newest few. */
export async function rotateSigningKeys(store: Store, secrets: SecretBox, clock: Clock): Promise<string> {
  const key = newSigningKey();
  await store.signingKeys.insert({
    kid: key.kid,
    privateJwkSealed: secrets.seal(JSON.stringify(key)),
    createdAt: clock.now(),
  });
  const all = await store.signingKeys.list();
  for (const old of all.slice(KEYS_KEPT)) await store.signingKeys.remove(old.kid);
  return key.kid;
}

/** The private JWKs, newest first, creating the first one on a new database. */
export async function loadSigningKeys(store: Store, secrets: SecretBox, clock: Clock): Promise<PrivateJwk[]> {
  if ((await store.signingKeys.list()).length === 0) await rotateSigningKeys(store, secrets, clock);
  return (await store.signingKeys.list()).map(
    (k) => JSON.parse(secrets.open(k.privateJwkSealed)) as PrivateJwk,
  );
}
