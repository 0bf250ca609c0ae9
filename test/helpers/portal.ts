import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { developmentPhone } from '../../src/channels/dev-phone.ts';
import { openEventBus } from '../../src/channels/event-bus/index.ts';
import {
  type StartedTelephony,
  startTelephony,
  type TelephonySettings,
} from '../../src/channels/telephony/index.ts';
import { type Clock, systemClock, systemRandom } from '../../src/core/clock.ts';
import { aesGcmSecretBox } from '../../src/core/crypto/secret-box.ts';
import { type Core, type CoreSettings, createCore, defaultCoreSettings } from '../../src/core/index.ts';
import type { DeviceNotifier } from '../../src/core/methods/authenticator-app/notifier.ts';
import { defaultPasskeySettings, type PasskeySettings } from '../../src/core/methods/passkey/settings.ts';
import type { CallOutcomeSink, Telephony } from '../../src/core/methods/phone/telephony.ts';
import type { SmartcardSettings } from '../../src/core/methods/smartcard/settings.ts';
import { defaultSmartcardSettings } from '../../src/core/methods/smartcard/settings.ts';
import type { CertificateTrust } from '../../src/core/methods/smartcard/trust.ts';
import { codeAt, newTotpSecret } from '../../src/core/methods/totp/totp-codes.ts';
import type { Account, AuditEventInput, SessionStage } from '../../src/core/model.ts';
import type { PasswordHasher } from '../../src/core/passwords/hasher.ts';
import { openSession } from '../../src/core/sessions/sign-in.ts';
import type { Store } from '../../src/core/store.ts';
import { buildWebApp } from '../../src/web/app.ts';
import type { SmartcardPortalOptions } from '../../src/web/routes/smartcard.ts';
import { buildCertificateEndpoint } from '../../src/web/smartcard/endpoint.ts';
import { type TestDatabase, testDatabase } from './engines.ts';

export interface TestPortal {
  app: FastifyInstance;
  core: Core;
  store: Store;
  /** Base URL when listening (http://127.0.0.1:port), for a real browser. */
  url: string;
  /** The smartcard certificate endpoint (https://127.0.0.1:port), when started. */
  certificateEndpointUrl: string;
  close(): Promise<void>;
}

/**
 * The real portal on a fresh database. `listen` serves it on a free loopback port for a browser;
 * without it, tests use app.inject. Cookies are not marked Secure so plain-HTTP clients keep them
 * (browsers would accept Secure on 127.0.0.1, but Node's fetch would not).
 */
export async function startTestPortal(
  options: {
    engine?: 'sqlite' | 'postgres';
    listen?: boolean;
    settings?: Partial<CoreSettings>;
    clock?: Clock;
    /** E.g. a hasher that counts its verifications. */
    hasher?: PasswordHasher;
    cookieSecure?: boolean;
    /** Behind a proxy (nginx): the address users reach, and the proxy addresses that are believed. */
    publicUrl?: string;
    trustProxy?: string;
    /** Share a database with another portal (two instances); the caller then drops it. */
    database?: TestDatabase;
    /**
     * The event bus: Redis pub/sub when given (channels under `prefix`); otherwise the engine's
     * default, PostgreSQL LISTEN/NOTIFY on the test's schema or in-process on SQLite.
     */
    eventBus?: { redisUrl: string; prefix: string };
    notifier?: DeviceNotifier;
    vapidPublicKey?: string;
    /** Serve the OpenID provider too (it makes an RSA key, so only tests that need it ask). */
    singleSignOn?: boolean;
    /** The development phone (/dev/phone) as the telephony provider. */
    developmentPhone?: boolean;
    telephony?: Telephony;
    /** Real providers (Twilio, SMPP) started from settings, their webhooks on the portal. */
    providers?: { settings: TelephonySettings; publicUrl: string };
    /** Smartcard sign-in: its certificate endpoint listens too (with `listen`), TLS when given. */
    smartcard?: {
      trust: CertificateTrust;
      settings?: Partial<SmartcardSettings>;
      tls?: { key: string; cert: string };
      trustedProxies?: string[];
      certificateHeader?: string;
      /** Where browsers reach the endpoint, and the portal from it, when a proxy is in front. */
      publicUrl?: string;
      portalUrl?: string;
    };
  } = {},
): Promise<TestPortal> {
  const ownDatabase = !options.database;
  const database = options.database ?? testDatabase(options.engine ?? 'sqlite');
  const store = await database.open();
  let recordOutcome: CallOutcomeSink = async () => {};
  let audit = async (_event: AuditEventInput) => {};
  const devPhone = options.developmentPhone
    ? developmentPhone((id, outcome) => recordOutcome(id, outcome))
    : undefined;
  const logger = pino({ level: process.env.GATEHOUSE_TEST_LOG ?? 'silent' });
  const providers: StartedTelephony | undefined = options.providers
    ? await startTelephony(options.providers.settings, {
        onOutcome: (id, outcome) => recordOutcome(id, outcome),
        audit: (event) => audit(event),
        logger,
        publicUrl: options.providers.publicUrl,
      })
    : undefined;
  const telephony = options.telephony ?? devPhone?.telephony ?? providers?.telephony;
  const location = database.location;
  const events = await openEventBus(
    {
      url: options.eventBus?.redisUrl,
      prefix: options.eventBus?.prefix ?? 'gatehouse:',
      postgres: location.engine === 'postgres' ? { url: location.url, schema: location.schema } : undefined,
    },
    logger,
  );
  const core = createCore({
    store,
    events,
    settings: { ...defaultCoreSettings, ...options.settings },
    clock: options.clock ?? systemClock,
    secrets: TEST_SECRETS,
    ...(options.hasher ? { hasher: options.hasher } : {}),
    ...(options.notifier ? { notifier: options.notifier } : {}),
    ...(telephony ? { telephony } : {}),
    ...(options.smartcard
      ? {
          smartcard: {
            trust: options.smartcard.trust,
            settings: { ...defaultSmartcardSettings, ...options.smartcard.settings },
          },
        }
      : {}),
  });
  // The endpoint's address is known only once it listens, after the portal: filled in below.
  const smartcardOptions: SmartcardPortalOptions | undefined = options.smartcard && {
    endpointUrl: undefined,
    port: 0,
    ticketSeconds: options.smartcard.settings?.ticketSeconds ?? defaultSmartcardSettings.ticketSeconds,
    cookieSecure: options.cookieSecure ?? false,
  };
  recordOutcome = core.phone.recordOutcome;
  audit = (event) => core.audit.record(event);
  const app = await buildWebApp({
    core,
    logger,
    organisation: { name: 'Gatehouse Test Trust' },
    cookieSecure: options.cookieSecure ?? false,
    cookieSecret: 'test-cookie-secret-0123456789abcdef',
    publicUrl: options.publicUrl,
    trustProxy: options.trustProxy,
    vapidPublicKey: options.vapidPublicKey,
    extraRoutes: [...(devPhone ? [devPhone.routes] : []), ...(providers?.routes ?? [])],
    smartcard: smartcardOptions,
    singleSignOn: options.singleSignOn
      ? {
          cookieKeys: ['test-oidc-cookie-key-0123456789'],
          signingKeys: () => core.signingKeys.load(),
          keyRefreshMs: 200,
        }
      : undefined,
  });
  let url = '';
  let certificateEndpoint: FastifyInstance | undefined;
  let certificateEndpointUrl = '';
  if (options.listen) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    if (options.smartcard && smartcardOptions) {
      certificateEndpoint = await buildCertificateEndpoint({
        core,
        logger,
        organisation: { name: 'Gatehouse Test Trust' },
        portalUrl: options.smartcard.portalUrl ?? options.publicUrl ?? url,
        tls: options.smartcard.tls,
        trustedProxies: options.smartcard.trustedProxies ?? [],
        certificateHeader: options.smartcard.certificateHeader ?? 'X-SSL-Client-Cert',
      });
      await certificateEndpoint.listen({ port: 0, host: '127.0.0.1' });
      const port = (certificateEndpoint.server.address() as AddressInfo).port;
      certificateEndpointUrl = `${options.smartcard.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
      smartcardOptions.endpointUrl = options.smartcard.publicUrl ?? certificateEndpointUrl;
    }
  } else {
    await app.ready();
  }
  return {
    app,
    core,
    store,
    url,
    certificateEndpointUrl,
    async close() {
      await certificateEndpoint?.close();
      await app.close();
      await providers?.close();
      await events.close();
      await store.close();
      if (ownDatabase) await database.drop();
    },
  };
}

export const TEST_PASSWORD = 'Blue-Harbour-42';
/** A fixed key, so tests can open what the portal sealed. */
export const TEST_SECRETS = aesGcmSecretBox(Buffer.alloc(32, 7));

export async function addUser(
  core: Core,
  email: string,
  extra: { sharedMailbox?: boolean; groups?: string[]; password?: string; displayName?: string } = {},
) {
  return core.accounts.add(
    {
      email,
      displayName: extra.displayName ?? email.split('@')[0]!,
      password: extra.password ?? TEST_PASSWORD,
      sharedMailbox: extra.sharedMailbox ?? false,
      groups: extra.groups ?? [],
    },
    'test',
  );
}

/** A portal session of the account, signed in with its password through the core's flow. */
export async function signedInSession(core: Core, email: string, password = TEST_PASSWORD) {
  const { token } = await core.flow.signIn({ email, password, clientAddress: '192.0.2.1' });
  const active = await core.flow.resume(token, '192.0.2.1');
  if (!active) throw new Error('the new session did not resume');
  return { token, active };
}

/**
 * Registers a verification-code app the way the wizard does (MFA on, a session at the
 * registration step, the first code), and returns its key.
 */
export async function registerCodeApp(core: Core, email: string, now: () => Date) {
  const account = await core.accounts.find(email);
  if (!account) throw new Error(`no account ${email}`);
  if (!account.mfaEnabled) await core.enrolment.enable(account, '192.0.2.1');
  const { active } = await signedInSession(core, email);
  const setup = await core.flow.startEnrolment(active, 'totp', { issuer: 'Gatehouse Test' }, '192.0.2.1');
  const outcome = await core.flow.finishEnrolment(
    active,
    'totp',
    { issuer: 'Gatehouse Test', code: codeAt(setup.secret, now()) },
    '192.0.2.1',
  );
  if (outcome.status !== 'proved') throw new Error('the code app did not register');
  return { ...setup, token: outcome.token };
}

/**
 * An active verification-code app written straight into the store, as data an older Gatehouse
 * (which let methods be registered before MFA was on) may have left. Returns its key.
 */
export async function insertCodeApp(store: Store, accountId: string) {
  const secret = newTotpSecret(systemRandom);
  const methodId = crypto.randomUUID();
  await store.methods.insert({
    id: methodId,
    accountId,
    kind: 'totp',
    label: 'Authenticator app (verification codes)',
    status: 'active',
    isDefault: false,
    createdAt: new Date(),
    lastUsedAt: null,
    data: { totpSecret: TEST_SECRETS.seal(secret) },
  });
  return { methodId, secret };
}

/**
 * A session at `stage`, opened directly in the store as the sign-in flow opens them, for tests of
 * what a session at that stage can do (the password step itself is tested elsewhere).
 */
export async function openTestSession(store: Store, account: Account, stage: SessionStage) {
  return openSession(
    { store, clock: systemClock, random: systemRandom, lifetime: { idleMinutes: 30, absoluteHours: 12 } },
    account,
    stage,
    ['pwd'],
  );
}

/** Passkey settings with operators' phishing-resistant requirement (otherwise the defaults). */
export function passkeysRequiring(groups: string[], console = false): PasskeySettings {
  return { ...defaultPasskeySettings, requirePhishingResistant: { groups, console } };
}
