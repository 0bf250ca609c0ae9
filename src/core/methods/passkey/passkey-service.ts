import { createHash, randomUUID } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { GatehouseError, isGatehouseError } from '../../errors.ts';
import type { Account, MfaMethod, PasskeyChallenge, PasskeyCredential } from '../../model.ts';
import { type Reservation, type ThrottleRule, throttle } from '../../throttle/throttle.ts';
import { type ChallengeContext, claimChallenge, issueChallenge, refused } from './challenges.ts';
import type { PasskeyAttachment } from './factors.ts';
import { checkSite, readClientData, rpIdOf } from './response-checks.ts';
import type { PasskeySettings } from './settings.ts';

export interface PasskeyContext extends ChallengeContext {
  settings: PasskeySettings;
}

/** What a passkey method keeps in its `data` (nothing secret: the public key is in its own table). */
export interface PasskeyData {
  credentialId: string;
  attachment: PasskeyAttachment;
  aaguid: string;
  backedUp: boolean;
}

export interface PasskeyUse {
  account: Account;
  method: MfaMethod;
  attachment: PasskeyAttachment;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
/** The binding of a challenge asked for before there is a session: the browser's state cookie. */
export const stateBinding = (state: string) => `state:${sha256(state)}`;
const userHandleOf = (account: Account) => isoBase64URL.fromUTF8String(account.id);

const activeCredentials = async (ctx: PasskeyContext, account: Account) => {
  const methods = await ctx.store.methods.listForAccount(account.id);
  const active = new Set(
    methods.filter((m) => m.kind === 'passkey' && m.status === 'active').map((m) => m.id),
  );
  return (await ctx.store.passkeys.listCredentials(account.id)).filter((c) => active.has(c.methodId));
};

const transportsOf = (c: PasskeyCredential) => c.transports as AuthenticatorTransport[];

/**
 * Refused passkey answers, counted before each answer is checked (its challenge claimed, its
 * signature verified): per account (the signed-in one at the second factor, or the owner of the
 * credential an answer names before sign-in), and before sign-in per client address too. Beyond
 * the limit, answers are refused unchecked (`passkey_attempts_throttled`) until the lock ends.
 */
export const PASSKEY_ATTEMPT_LIMITS: { account: ThrottleRule; client: ThrottleRule } = {
  account: { maxFailures: 5, windowMinutes: 15, lockMinutes: 15 },
  client: { maxFailures: 20, windowMinutes: 15, lockMinutes: 15 },
};

type Granted = Extract<Reservation, { granted: true }>;

export function passkeyService(ctx: PasskeyContext) {
  const { store, clock, audit, settings } = ctx;
  const accountAttempts = throttle(store, clock, PASSKEY_ATTEMPT_LIMITS.account);
  const clientAttempts = throttle(store, clock, PASSKEY_ATTEMPT_LIMITS.client);

  /** Step 1 of adding a passkey: options for navigator.credentials.create(), its challenge bound to the session. */
  async function beginRegistration(
    account: Account,
    bindingHash: string,
    origin: string,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const challenge = await issueChallenge(
      ctx,
      'registration',
      bindingHash,
      account.id,
      settings.challengeSeconds,
    );
    return generateRegistrationOptions({
      rpName: settings.rpName,
      rpID: rpIdOf(origin),
      userName: account.email,
      userDisplayName: account.email,
      userID: isoBase64URL.toBuffer(userHandleOf(account)),
      challenge: isoBase64URL.toBuffer(challenge),
      timeout: settings.challengeSeconds * 1000,
      attestationType: settings.allowedAaguids.length > 0 ? 'direct' : 'none',
      excludeCredentials: (await activeCredentials(ctx, account)).map((c) => ({
        id: c.id,
        transports: transportsOf(c),
      })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      supportedAlgorithmIDs: [-7, -257],
    });
  }

  /** Step 2: the browser's answer checked, the passkey stored under the name the user gave. */
  async function finishRegistration(
    account: Account,
    bindingHash: string,
    origin: string,
    response: RegistrationResponseJSON,
    name: string,
    clientAddress: string,
  ): Promise<MfaMethod> {
    const purpose = 'registration';
    try {
      const data = readClientData(response.response.clientDataJSON);
      const challenge = await claimChallenge(ctx, data.challenge, bindingHash, purpose);
      if (challenge.accountId !== account.id) throw new GatehouseError('passkey_challenge_other_session');
      checkSite(data.origin, origin);
      const verification = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: origin,
        expectedRPID: rpIdOf(origin),
        requireUserVerification: true,
      }).catch((error: unknown) => {
        throw new GatehouseError(
          /RP ID/.test(String(error)) ? 'passkey_wrong_site' : 'passkey_rejected',
          String(error),
        );
      });
      const info = verification.registrationInfo;
      if (!verification.verified || !info) throw new GatehouseError('passkey_rejected');
      if (settings.allowedAaguids.length > 0 && !settings.allowedAaguids.includes(info.aaguid))
        throw new GatehouseError('passkey_model_not_allowed');
      if (await store.passkeys.findCredential(info.credential.id))
        throw new GatehouseError('passkey_already_registered');
      const transports = info.credential.transports ?? response.response.transports ?? [];
      const attachment: PasskeyAttachment =
        response.authenticatorAttachment ?? (transports.includes('internal') ? 'platform' : 'cross-platform');
      const now = clock.now();
      const method: MfaMethod = {
        id: randomUUID(),
        accountId: account.id,
        kind: 'passkey',
        label: name,
        status: 'active',
        isDefault: false,
        createdAt: now,
        lastUsedAt: null,
        data: {
          credentialId: info.credential.id,
          attachment,
          aaguid: info.aaguid,
          backedUp: info.credentialBackedUp,
        } satisfies PasskeyData,
      };
      await store.transaction(async (tx) => {
        await tx.methods.insert(method);
        await tx.passkeys.insertCredential({
          id: info.credential.id,
          methodId: method.id,
          accountId: account.id,
          publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
          counter: info.credential.counter,
          transports,
          createdAt: now,
        });
        await audit.record(
          {
            type: 'passkey.registered',
            email: account.email,
            actor: account.email,
            clientAddress,
            detail: { method: method.id, credential: info.credential.id, attachment, aaguid: info.aaguid },
          },
          tx,
        );
      });
      return method;
    } catch (error) {
      return refused(ctx, error, { email: account.email, clientAddress, purpose });
    }
  }

  /**
   * Options for navigator.credentials.get(): for a signed-in account, its passkeys; before sign-in
   * (no account), any discoverable passkey of this site.
   */
  async function beginAuthentication(
    account: Account | null,
    bindingHash: string,
    origin: string,
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const purpose = account ? 'sign_in' : 'passwordless';
    // For an account, only its own active passkeys are allowed: with none, nothing is asked for
    // (an empty list would let the browser offer any discoverable passkey of this site).
    const allowed = account ? await activeCredentials(ctx, account) : [];
    if (account && allowed.length === 0) throw new GatehouseError('passkey_not_registered');
    const challenge = await issueChallenge(
      ctx,
      purpose,
      bindingHash,
      account?.id ?? null,
      settings.challengeSeconds,
    );
    return generateAuthenticationOptions({
      rpID: rpIdOf(origin),
      challenge: isoBase64URL.toBuffer(challenge),
      timeout: settings.challengeSeconds * 1000,
      userVerification: 'required',
      allowCredentials: allowed.map((c) => ({ id: c.id, transports: transportsOf(c) })),
    });
  }

  /**
   * Counts an answer against the limits before anything of it is checked: the account's (when it
   * is known) and, before sign-in, the client address's. Beyond a limit the answer is refused
   * unchecked (`passkey_attempts_throttled`, audited as `passkey.throttled`).
   */
  async function reserveAttempt(
    accountId: string | null,
    perClient: boolean,
    facts: { email: string | null; clientAddress: string; purpose: string; credential?: string },
  ): Promise<{ account?: Granted; client?: Granted }> {
    const held: { account?: Granted; client?: Granted } = {};
    const limits = [
      ...(perClient ? [['client', clientAttempts, `passkey:client:${facts.clientAddress}`] as const] : []),
      ...(accountId ? [['account', accountAttempts, `passkey:account:${accountId}`] as const] : []),
    ];
    for (const [scope, limit, key] of limits) {
      const reservation = await limit.reserve(key);
      if (reservation.granted) {
        held[scope] = reservation;
        continue;
      }
      // Not checked, so not a failure of the limit already reserved.
      await held.client?.released();
      await audit.record({
        type: 'passkey.throttled',
        email: facts.email,
        clientAddress: facts.clientAddress,
        detail: {
          scope,
          purpose: facts.purpose,
          until: reservation.until,
          ...(facts.credential ? { credential: facts.credential } : {}),
        },
      });
      throw new GatehouseError('passkey_attempts_throttled', undefined, { until: reservation.until });
    }
    return held;
  }

  /**
   * A passkey whose counter went backwards may have been copied: it is suspended (it no longer
   * signs in, and is not offered), audited, and its owner is sent a notice (with the audit event).
   */
  async function suspendCloned(
    owner: Account,
    method: MfaMethod,
    credential: PasskeyCredential,
    clientAddress: string,
    counters: { stored: number; presented: number },
  ) {
    await store.transaction(async (tx) => {
      // Of parallel answers by clones, the first suspends it; the others find it suspended.
      if (!(await tx.methods.suspend(method.id))) return;
      await audit.record(
        {
          type: 'passkey.suspended',
          email: owner.email,
          clientAddress,
          detail: {
            method: method.id,
            credential: credential.id,
            label: method.label,
            reason: 'passkey_cloned',
            ...counters,
          },
        },
        tx,
      );
    });
  }

  /**
   * The browser's assertion, counted first against the attempt limits (see reserveAttempt), then
   * checked in this order: its challenge claimed once for this session, the origin and RP ID, the
   * credential (known, active, of this account), the signature with user verification, and the
   * signature counter moved forwards (one conditional update; a counter that went backwards
   * suspends the passkey). Every refusal is audited and counted as a failure.
   */
  async function finishAuthentication(
    account: Account | null,
    bindingHash: string,
    origin: string,
    response: AuthenticationResponseJSON,
    clientAddress: string,
  ): Promise<PasskeyUse> {
    const purpose: PasskeyChallenge['purpose'] = account ? 'sign_in' : 'passwordless';
    const credentialId = typeof response?.id === 'string' ? response.id : undefined;
    // Before sign-in nobody is named: the answer counts (and a refusal is audited) against the
    // owner of the credential it names, looked up, not checked, before anything is evaluated.
    const named = !account && credentialId ? await store.passkeys.findCredential(credentialId) : undefined;
    const namedOwner = named ? await store.accounts.findById(named.accountId) : undefined;
    let email = account?.email ?? namedOwner?.email ?? null;
    const facts = { clientAddress, purpose, ...(credentialId ? { credential: credentialId } : {}) };
    const attempt = await reserveAttempt(account?.id ?? named?.accountId ?? null, !account, {
      ...facts,
      email,
    });
    try {
      const data = readClientData(response.response.clientDataJSON);
      await claimChallenge(ctx, data.challenge, bindingHash, purpose);
      checkSite(data.origin, origin, response.response.authenticatorData);
      const credential = credentialId ? await store.passkeys.findCredential(credentialId) : undefined;
      const method = credential && (await store.methods.find(credential.methodId));
      if (!credential || !method || method.status !== 'active')
        throw new GatehouseError('passkey_not_recognised');
      const owner = account ?? (await store.accounts.findById(credential.accountId));
      if (!owner || owner.disabledAt) throw new GatehouseError('passkey_not_recognised');
      email = owner.email;
      const handle = response.response.userHandle;
      if (credential.accountId !== owner.id || (handle && handle !== userHandleOf(owner)))
        throw new GatehouseError('passkey_other_account');
      const verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge: data.challenge,
        expectedOrigin: origin,
        expectedRPID: rpIdOf(origin),
        requireUserVerification: true,
        // The counter is checked below, in one conditional update (so two parallel uses of a
        // cloned key cannot both pass), and refused there with its own code.
        credential: {
          id: credential.id,
          publicKey: isoBase64URL.toBuffer(credential.publicKey),
          counter: 0,
          transports: transportsOf(credential),
        },
      }).catch((error: unknown) => {
        throw new GatehouseError('passkey_rejected', String(error));
      });
      if (!verification.verified) throw new GatehouseError('passkey_rejected');
      const presented = verification.authenticationInfo.newCounter;
      if (!(await store.passkeys.advanceCounter(credential.id, presented))) {
        const stored = (await store.passkeys.findCredential(credential.id))?.counter ?? credential.counter;
        await suspendCloned(owner, method, credential, clientAddress, { stored, presented });
        throw new GatehouseError('passkey_cloned', undefined, { stored, presented });
      }
      await store.methods.touch(method.id, clock.now());
      const attachment = (method.data as Partial<PasskeyData>).attachment ?? 'cross-platform';
      await audit.record({
        type: 'passkey.accepted',
        email: owner.email,
        clientAddress,
        detail: { method: method.id, credential: credential.id, purpose, attachment },
      });
      // The account's count starts again; the address's counts failures only (as at the password).
      await attempt.account?.passed();
      await attempt.client?.released();
      return { account: owner, method, attachment };
    } catch (error) {
      if (isGatehouseError(error) && error.code.startsWith('passkey_')) {
        await attempt.client?.failed();
        await attempt.account?.failed();
      } else {
        await attempt.client?.released();
        await attempt.account?.released();
      }
      return refused(ctx, error, { ...facts, email });
    }
  }

  return {
    beginRegistration,
    finishRegistration,
    beginAuthentication,
    finishAuthentication,
    newState: () => ctx.random.bytes(32).toString('base64url'),
  };
}

export type PasskeyService = ReturnType<typeof passkeyService>;
