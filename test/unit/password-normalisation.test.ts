import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Algorithm, hash as rawArgon2Hash, verify as rawArgon2Verify } from '@node-rs/argon2';
import { isGatehouseError } from '../../src/core/errors.ts';
import { argon2idHasher } from '../../src/core/passwords/hasher.ts';
import { checkNewPassword, MAX_PASSWORD_LENGTH } from '../../src/core/passwords/password-policy.ts';

// One password, two encodings: "è", "û" and "é" as single code points, or as letter + accent.
const NFC = 'Crème-Brûlée-42'.normalize('NFC');
const NFD = NFC.normalize('NFD');
/** Small argon2id parameters: these tests are about the input, not the cost. */
const PARAMETERS = { memoryKiB: 1024, iterations: 1, parallelism: 1 };

/** A hash as Gatehouse stored it before passwords were normalised: argon2id over the raw input. */
const hashedBeforeNormalisation = (password: string) =>
  rawArgon2Hash(password, { algorithm: 2 as Algorithm, memoryCost: 1024, timeCost: 1, parallelism: 1 });

const refusedWith = (code: string) => (error: unknown) => isGatehouseError(error) && error.code === code;

describe('passwords are one password whatever their Unicode form', () => {
  test('the two forms differ as strings, so the tests below mean something', () => {
    assert.notEqual(NFC, NFD);
    assert.equal([...NFC].length, 15);
    assert.equal([...NFD].length, 18);
  });

  test('a hash made from the NFC form verifies the NFD form, and one made from NFD the NFC form', async () => {
    const hasher = argon2idHasher(PARAMETERS);
    const fromNfc = await hasher.hash(NFC);
    const fromNfd = await hasher.hash(NFD);
    for (const stored of [fromNfc, fromNfd]) {
      assert.equal(await hasher.verify(stored, NFC), true);
      assert.equal(await hasher.verify(stored, NFD), true);
      assert.equal(await hasher.verify(stored, 'Creme-Brulee-42'), false, 'accents still count');
    }
  });

  test('what is stored is the hash of the NFC form, whichever form was given', async () => {
    const stored = await argon2idHasher(PARAMETERS).hash(NFD);
    assert.equal(await rawArgon2Verify(stored, NFC), true);
    assert.equal(await rawArgon2Verify(stored, NFD), false);
  });

  test('hashes stored before normalisation, from NFD or NFC input, still verify either form', async () => {
    const hasher = argon2idHasher(PARAMETERS);
    for (const stored of [await hashedBeforeNormalisation(NFD), await hashedBeforeNormalisation(NFC)]) {
      assert.equal(await hasher.verify(stored, NFC), true);
      assert.equal(await hasher.verify(stored, NFD), true);
      assert.equal(await hasher.verify(stored, 'Creme-Brulee-42'), false);
    }
  });

  test('the policy counts characters after normalisation', () => {
    // 7 characters in NFC ("Ö", "ä" one each), 9 code points in NFD: too short either way it is typed.
    const seven = 'Öl-Bär7'.normalize('NFC');
    assert.equal([...seven.normalize('NFD')].length, 9);
    for (const form of [seven, seven.normalize('NFD')])
      assert.throws(() => checkNewPassword(form, 'alice@example.org'), refusedWith('password_too_short'));
    // The longest allowed password in NFC is twice that many code points in NFD: still allowed.
    const longest = 'é'.repeat(MAX_PASSWORD_LENGTH).normalize('NFC');
    assert.equal([...longest.normalize('NFD')].length, 2 * MAX_PASSWORD_LENGTH);
    assert.doesNotThrow(() => checkNewPassword(longest.normalize('NFD'), 'alice@example.org'));
    assert.throws(
      () => checkNewPassword(`${longest}é`.normalize('NFD'), 'alice@example.org'),
      refusedWith('password_too_long'),
    );
  });
});
