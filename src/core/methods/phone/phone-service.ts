import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Clock, Random } from '../../clock.ts';
import { GatehouseError } from '../../errors.ts';
import type { Account, MfaMethod, PhoneChallenge, PhoneChannel, Session } from '../../model.ts';
import type { Store } from '../../store.ts';
import type { Throttle } from '../../throttle/throttle.ts';
import { checkPhoneNumber } from './phone-number.ts';
import type { PhoneSettings } from './settings.ts';
import type { CallOutcome, Telephony } from './telephony.ts';

export interface PhoneContext {
  store: Store;
  clock: Clock;
  random: Random;
  audit: AuditLog;
  settings: PhoneSettings;
  telephony: Telephony;
  /** Per account, per number, per country per day; a report locks the account's key. */
  limits: { account: Throttle; number: Throttle; country: Throttle };
  codeAttempts: Throttle;
}

/** What a phone method stores, parsed wherever it is read back. */
const phoneData = z.object({ number: z.string(), country: z.string(), office: z.boolean() });
type PhoneData = z.infer<typeof phoneData>;

const dataOf = (method: MfaMethod): PhoneData => phoneData.parse(method.data);

const hashCode = (challengeId: string, code: string) =>
  createHash('sha256').update(`${challengeId}:${code}`).digest('hex');

/** The Phone method of the guide (002): a call where the user presses #, or a text with a code. */
export function phoneMethod(ctx: PhoneContext) {
  const message = () =>
    `This is ${ctx.settings.organisationName} sign-in verification. To verify, press the hash key. ` +
    'If you did not try to sign in, press zero, then the hash key.';

  async function send(
    account: Account,
    method: MfaMethod,
    session: Session,
    purpose: PhoneChallenge['purpose'],
    channel: PhoneChannel,
    clientAddress: string,
  ) {
    const data = dataOf(method);
    if (channel === 'sms' && (!ctx.settings.allowTexts || data.office))
      throw new GatehouseError('phone_unavailable');
    if (channel === 'call' && !ctx.settings.allowCalls) throw new GatehouseError('phone_unavailable');
    await checkStillAllowed(account, data, clientAddress);
    const keys = {
      account: `phone:account:${account.id}`,
      number: `phone:number:${data.number}`,
      country: `phone:country:${data.country}`,
    };
    // Every call or text counts against all three limits, whatever its outcome, and is counted
    // before it is allowed: concurrent requests cannot all slip under a limit checked first.
    for (const [limit, key] of [
      [ctx.limits.account, keys.account],
      [ctx.limits.number, keys.number],
      [ctx.limits.country, keys.country],
    ] as const) {
      const until = await limit.consume(key);
      if (until) {
        await ctx.audit.record({
          type: 'phone.refused',
          email: account.email,
          clientAddress,
          detail: { reason: 'limit', key: key.split(':')[1], until },
        });
        throw new GatehouseError('phone_blocked', undefined, { until });
      }
    }

    const now = await strictlyAfterPrevious(session.idHash, purpose);
    const code = channel === 'sms' ? String(100000 + (ctx.random.bytes(4).readUInt32BE(0) % 900000)) : null;
    const challenge: PhoneChallenge = {
      id: randomUUID(),
      accountId: account.id,
      methodId: method.id,
      purpose,
      channel,
      codeHash: null,
      status: 'pending',
      sessionHash: session.idHash,
      createdAt: now,
      expiresAt: new Date(
        now.getTime() + (channel === 'sms' ? ctx.settings.textSeconds : ctx.settings.callSeconds) * 1000,
      ),
      settledAt: null,
    };
    if (code) challenge.codeHash = hashCode(challenge.id, code);
    await ctx.store.phoneChallenges.insert(challenge);
    try {
      if (code) {
        await ctx.telephony.sendText({
          challengeId: challenge.id,
          to: data.number,
          text: `${code} is your ${ctx.settings.organisationName} verification code. Do not share it with anyone.`,
        });
      } else {
        await ctx.telephony.placeCall({ challengeId: challenge.id, to: data.number, message: message() });
      }
    } catch (error) {
      await ctx.store.phoneChallenges.settle(challenge.id, 'failed', ctx.clock.now());
      // The provider's stable code (smpp_timeout, twilio_rejected...) tells the operator why.
      const cause = String((error as { code?: unknown }).code ?? 'error').slice(0, 64);
      await ctx.audit.record({
        type: 'phone.failed',
        email: account.email,
        clientAddress,
        detail: { challenge: challenge.id, channel, reason: 'provider', cause },
      });
      throw new GatehouseError('phone_unavailable', undefined, { cause });
    }
    await ctx.audit.record({
      type: code ? 'phone.text_sent' : 'phone.call_placed',
      email: account.email,
      clientAddress,
      detail: { challenge: challenge.id, purpose, to: `${data.number.slice(0, 5)}…${data.number.slice(-3)}` },
    });
    return challenge;
  }

  /**
   * The operator's rules as they are now, not as they were when the number was registered: a
   * country removed from the allow-list (or office phones turned off) stops calls and texts to
   * numbers already registered, before anything is counted or dialled.
   */
  async function checkStillAllowed(account: Account, data: PhoneData, clientAddress: string) {
    try {
      checkPhoneNumber(data.country, data.number, {
        allowedCountries: ctx.settings.allowedCountries,
        office: data.office && ctx.settings.allowOfficePhone,
      });
    } catch (error) {
      await ctx.audit.record({
        type: 'phone.refused',
        email: account.email,
        clientAddress,
        detail: { reason: (error as GatehouseError).code, at: 'dial', country: data.country },
      });
      throw error;
    }
  }

  /** "Latest" is by creation time, so a retry in the same millisecond is placed 1 ms later. */
  async function strictlyAfterPrevious(sessionHash: string, purpose: PhoneChallenge['purpose']) {
    const now = ctx.clock.now();
    const previous = await ctx.store.phoneChallenges.latestForSession(sessionHash, purpose);
    return previous && previous.createdAt >= now ? new Date(previous.createdAt.getTime() + 1) : now;
  }

  async function defaultPhone(accountId: string) {
    const phones = (await ctx.store.methods.listForAccount(accountId)).filter(
      (m) => m.kind === 'phone' && m.status === 'active',
    );
    return phones.find((m) => m.isDefault) ?? phones.at(-1);
  }

  const expiredIfLate = (c: PhoneChallenge | undefined): PhoneChallenge | undefined =>
    c?.status === 'pending' && c.expiresAt <= ctx.clock.now() ? { ...c, status: 'expired' } : c;

  return {
    settings: ctx.settings,
    defaultPhone,

    /** Registration: checks the number, stores it as a pending method, and calls or texts it. */
    async register(
      account: Account,
      session: Session,
      input: { country: string; number: string; channel: PhoneChannel; office: boolean },
      clientAddress: string,
    ) {
      if (input.office && !ctx.settings.allowOfficePhone) throw new GatehouseError('phone_unavailable');
      let checked: ReturnType<typeof checkPhoneNumber>;
      try {
        checked = checkPhoneNumber(input.country, input.number, {
          allowedCountries: ctx.settings.allowedCountries,
          office: input.office,
        });
      } catch (error) {
        await ctx.audit.record({
          type: 'phone.refused',
          email: account.email,
          clientAddress,
          detail: { reason: (error as GatehouseError).code },
        });
        throw error;
      }
      const method: MfaMethod = {
        id: randomUUID(),
        accountId: account.id,
        kind: 'phone',
        label: checked.international,
        status: 'pending',
        isDefault: false,
        createdAt: ctx.clock.now(),
        lastUsedAt: null,
        data: { number: checked.e164, country: checked.country, office: input.office } satisfies PhoneData,
      };
      await ctx.store.methods.insert(method);
      return send(account, method, session, 'registration', input.channel, clientAddress);
    },

    /** A new call or text to the same number, after no answer, a wrong key or an expired code. */
    async retry(
      account: Account,
      session: Session,
      purpose: PhoneChallenge['purpose'],
      channel: PhoneChannel,
      clientAddress: string,
    ) {
      const last = await ctx.store.phoneChallenges.latestForSession(session.idHash, purpose);
      const method = last ? await ctx.store.methods.find(last.methodId) : await defaultPhone(account.id);
      if (!method || method.accountId !== account.id) throw new GatehouseError('method_not_found');
      return send(account, method, session, purpose, channel, clientAddress);
    },

    /** At sign-in: the session's pending call or text, or a new one to the default phone. */
    async signIn(account: Account, session: Session, clientAddress: string) {
      const pending = expiredIfLate(
        await ctx.store.phoneChallenges.latestForSession(session.idHash, 'sign_in'),
      );
      if (pending?.status === 'pending') return pending;
      const method = await defaultPhone(account.id);
      if (!method) throw new GatehouseError('method_not_found');
      const office = dataOf(method).office;
      const channel = ctx.settings.allowCalls || office ? 'call' : 'sms';
      return send(account, method, session, 'sign_in', channel, clientAddress);
    },

    /** The number a challenge calls (as shown: international format) and whether it is an office phone. */
    async numberOf(challenge: PhoneChallenge): Promise<{ label: string; office: boolean }> {
      const method = await ctx.store.methods.find(challenge.methodId);
      const data = method && phoneData.safeParse(method.data).data;
      return { label: method?.label ?? '', office: data?.office === true };
    },

    state: async (session: Session, purpose: PhoneChallenge['purpose']) =>
      expiredIfLate(await ctx.store.phoneChallenges.latestForSession(session.idHash, purpose)),

    /** What the telephony provider heard; the first outcome of a challenge is the one that counts. */
    async recordOutcome(challengeId: string, outcome: CallOutcome) {
      const challenge = await ctx.store.phoneChallenges.find(challengeId);
      if (challenge?.channel !== 'call') return;
      const now = ctx.clock.now();
      const status = challenge.expiresAt <= now ? 'expired' : outcome;
      if (!(await ctx.store.phoneChallenges.settle(challenge.id, status, now))) return;
      await settled(challenge, status);
    },

    /** The code from a text message. */
    async verifyText(
      account: Account,
      session: Session,
      purpose: PhoneChallenge['purpose'],
      typed: string,
      clientAddress: string,
    ) {
      // Counted before the code is compared, so a burst of guesses sent at once is not all checked.
      const attempt = await ctx.codeAttempts.reserve(`phone:code:${account.id}`);
      if (!attempt.granted) throw new GatehouseError('too_many_attempts');
      const challenge = expiredIfLate(
        await ctx.store.phoneChallenges.latestForSession(session.idHash, purpose),
      );
      if (challenge?.channel !== 'sms' || challenge.status !== 'pending' || !challenge.codeHash) {
        // No code to compare with: nothing was guessed.
        await attempt.released();
        throw new GatehouseError('invalid_code');
      }
      const code = typed.replace(/\s/g, '');
      const matches =
        /^\d{6}$/.test(code) &&
        timingSafeEqual(Buffer.from(hashCode(challenge.id, code)), Buffer.from(challenge.codeHash));
      if (!matches) {
        await ctx.audit.record({
          type: 'phone.failed',
          email: account.email,
          clientAddress,
          detail: { challenge: challenge.id, reason: 'wrong_code' },
        });
        if (await attempt.failed()) throw new GatehouseError('too_many_attempts');
        throw new GatehouseError('invalid_code');
      }
      if (!(await ctx.store.phoneChallenges.settle(challenge.id, 'confirmed', ctx.clock.now()))) {
        // The right code, settled by a concurrent request first: not a guess.
        await attempt.released();
        throw new GatehouseError('invalid_code');
      }
      await attempt.passed();
      await settled(challenge, 'confirmed');
    },
  };

  async function settled(challenge: PhoneChallenge, status: PhoneChallenge['status']) {
    const account = await ctx.store.accounts.findById(challenge.accountId);
    const email = account?.email ?? null;
    const detail = { challenge: challenge.id, purpose: challenge.purpose, channel: challenge.channel };
    if (status === 'confirmed') {
      if (challenge.purpose === 'registration' && (await ctx.store.methods.activate(challenge.methodId))) {
        await ctx.audit.record({ type: 'phone.registered', email, detail });
      }
      await ctx.store.methods.touch(challenge.methodId, ctx.clock.now());
      await ctx.audit.record({ type: 'phone.verified', email, detail });
      return;
    }
    if (status === 'reported') {
      const until = new Date(ctx.clock.now().getTime() + ctx.settings.reportBlockMinutes * 60_000);
      await ctx.limits.account.block(`phone:account:${challenge.accountId}`, until);
      await ctx.audit.record({ type: 'phone.reported', email, detail: { ...detail, blockedUntil: until } });
      return;
    }
    await ctx.audit.record({ type: 'phone.failed', email, detail: { ...detail, status } });
  }
}

export type PhoneMethod = ReturnType<typeof phoneMethod>;
