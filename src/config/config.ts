import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { SMTP_PASSWORD_VARIABLE, smtpConfigSchema } from '../channels/mail/settings.ts';
import { telephonySchema } from '../channels/telephony/index.ts';
import { GatehouseError } from '../core/errors.ts';
import type { CoreSettings } from '../core/index.ts';
import { defaultPushEndpointPolicy } from '../core/methods/authenticator-app/notifier.ts';
import { defaultPhoneSettings } from '../core/methods/phone/settings.ts';
import { ldapConfigSchema } from '../gateways/ldap/server.ts';
import { radiusConfigSchema } from '../gateways/radius/server.ts';
import { smartcardConfigSchema } from '../smartcard/settings.ts';
import type { StoreLocation } from '../store/open-store.ts';
import { LDAP_SERVICE_PASSWORD, withLdapServicePassword } from './ldap-secrets.ts';
import { TELEPHONY_SECRET_VARIABLES, withTelephonySecrets } from './telephony-secrets.ts';

const positiveInt = z.coerce.number().int().positive();
const throttleRule = z
  .object({ maxFailures: positiveInt, windowMinutes: positiveInt, lockMinutes: positiveInt })
  .strict();

/** Every setting, with its default. A configuration file may hold any subset; unknown keys are errors. */
export const configSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    host: z.string().min(1).default('localhost'),
    databaseUrl: z
      .string()
      .regex(
        /^postgres(ql)?:\/\//,
        'must start with postgres:// (leave it unset for the embedded SQLite database)',
      )
      .optional(),
    dataDir: z.string().min(1).default('./data'),
    /**
     * Where instances tell each other that a sign-in request changed: redis://... (Redis pub/sub).
     * Unset: PostgreSQL LISTEN/NOTIFY with databaseUrl, otherwise within the one process.
     */
    eventBusUrl: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss:// (leave it unset for the default)')
      .optional(),
    /** Put before every Redis channel name, so deployments sharing a Redis stay apart. */
    eventBusPrefix: z.string().min(1).max(100).default('gatehouse:'),
    organisationName: z.string().min(1).max(100).default('Gatehouse'),
    organisationLogoUrl: z.string().max(2000).optional(),
    /** Send cookies only over HTTPS. Browsers also accept them on http://localhost. */
    cookieSecure: z.stringbool().or(z.boolean()).default(true),
    /** Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated). */
    trustProxy: z.string().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /**
     * Prometheus metrics: `GET /metrics` on the portal with `Authorization: Bearer <metricsToken>`,
     * and/or on a port of their own (metricsPort, on metricsHost). Neither set: no metrics.
     */
    metricsToken: z
      .string()
      .regex(/^\S{24,512}$/, 'must be 24 to 512 characters without spaces (openssl rand -base64 32)')
      .optional(),
    metricsPort: z.coerce.number().int().min(0).max(65535).optional(),
    metricsHost: z.string().min(1).default('127.0.0.1'),
    sessionIdleMinutes: positiveInt.default(30),
    sessionAbsoluteHours: positiveInt.default(12),
    sessionFreshMinutes: positiveInt.default(15),
    accountLockout: throttleRule.default({ maxFailures: 5, windowMinutes: 15, lockMinutes: 15 }),
    clientLockout: throttleRule.default({ maxFailures: 50, windowMinutes: 15, lockMinutes: 15 }),
    /** 32 bytes, base64: encrypts TOTP keys at rest. Required with PostgreSQL (all instances share it). */
    secretsKey: z
      .string()
      .refine(
        (v) => Buffer.from(v, 'base64').length === 32,
        'must be 32 random bytes in base64 (openssl rand -base64 32)',
      )
      .optional(),
    /** The address people reach the portal at, used in QR codes (default: taken from each request). */
    publicUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Where the Download Now QR codes lead (store pages); default: the portal's own web app. */
    authenticatorAndroidUrl: z.url({ protocol: /^https?$/ }).optional(),
    authenticatorIphoneUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Push services a Web Push subscription may point at (hosts, or suffixes starting with "."). */
    webPushHosts: z.array(z.string().min(1).max(253)).default(defaultPushEndpointPolicy.allowedHosts),
    /** Contact for push services (RFC 8292), e.g. mailto:it-servicedesk@example.org. */
    webPushSubject: z
      .string()
      .regex(/^(mailto:|https:)/)
      .optional(),
    pushRequestSeconds: positiveInt.default(120),
    pushMaxPending: positiveInt.default(3),
    pushFailures: throttleRule.default({ maxFailures: 3, windowMinutes: 15, lockMinutes: 15 }),
    pushReportBlockMinutes: positiveInt.default(60),
    activationMinutes: positiveInt.default(10),
    codeAttempts: throttleRule.default({ maxFailures: 5, windowMinutes: 15, lockMinutes: 15 }),
    /** Seconds a successful LDAP/RADIUS app-password bind is remembered (0: off; at most 60). */
    legacyBindCacheSeconds: z.coerce.number().int().min(0).max(60).default(0),
    /** The Phone method's rules (countries, texts, office phones, toll-fraud limits). */
    phone: z
      .object({
        allowedCountries: z
          .array(z.string().regex(/^[A-Z]{2}$/, 'a two-letter country code such as GB'))
          .min(1)
          .default(['GB']),
        allowTexts: z.boolean().default(true),
        allowOfficePhone: z.boolean().default(false),
        callSeconds: positiveInt.default(90),
        textSeconds: positiveInt.default(300),
        perAccount: throttleRule.default(defaultPhoneSettings.perAccount),
        perNumber: throttleRule.default(defaultPhoneSettings.perNumber),
        perCountryPerDay: positiveInt.default(defaultPhoneSettings.perCountryPerDay),
        reportBlockMinutes: positiveInt.default(60),
      })
      .strict()
      .default({
        allowedCountries: ['GB'],
        allowTexts: true,
        allowOfficePhone: false,
        callSeconds: 90,
        textSeconds: 300,
        perAccount: defaultPhoneSettings.perAccount,
        perNumber: defaultPhoneSettings.perNumber,
        perCountryPerDay: defaultPhoneSettings.perCountryPerDay,
        reportBlockMinutes: 60,
      }),
    /**
     * A phone in the portal itself (/dev/phone) that rings and has a keypad, for trying the
     * Phone method on a laptop. Never turn it on in production: it answers for every number.
     */
    developmentPhone: z.stringbool().or(z.boolean()).default(false),
    /** The telephone network: Twilio for calls; Twilio or an SMS centre (SMPP) for texts. */
    telephony: telephonySchema.optional(),
    /** Smartcard sign-in (`Log in with my Care identity`); off unless configured. */
    smartcard: smartcardConfigSchema.optional(),
    /** The RADIUS gateway for VPNs and other legacy clients; off unless configured. */
    radius: radiusConfigSchema.optional(),
    /** The LDAP gateway for mail servers and desktop applications; off unless configured. */
    ldap: ldapConfigSchema
      .omit({ tls: true })
      .extend({ tlsCertFile: z.string().optional(), tlsKeyFile: z.string().optional() })
      .strict()
      .optional(),
    /** The mail server security notices go through (password: GATEHOUSE_SMTP_PASSWORD); off unless configured. */
    smtp: smtpConfigSchema.optional(),
    /** After sign-in, users whose only method is the phone are asked to set up the authenticator app. */
    nudge: z
      .object({
        /** Groups whose members are asked; "*" for everyone. Empty: nobody. */
        groups: z.array(z.string().min(1).max(200)).default([]),
        snoozeDays: positiveInt.default(1),
        maxSnoozes: z.coerce.number().int().min(0).max(20).default(3),
      })
      .strict()
      .default({ groups: [], snoozeDays: 1, maxSnoozes: 3 }),
    /** Passkeys (WebAuthn): the RP ID and origin are publicUrl's (or the address a request came to). */
    passkeys: z
      .object({
        /** The name browsers show when a passkey is created (default: organisationName). */
        rpName: z.string().min(1).max(100).optional(),
        /** Authenticator models (AAGUIDs) allowed; empty: any (attestation 'none'). */
        allowedAaguids: z.array(z.uuid()).default([]),
        challengeSeconds: z.coerce.number().int().min(30).max(900).default(300),
        /** Groups whose members must use a passkey or a smartcard; the console, if `console`. */
        requirePhishingResistant: z
          .object({
            groups: z.array(z.string().min(1).max(200)).default([]),
            console: z.boolean().default(false),
          })
          .strict()
          .default({ groups: [], console: false }),
      })
      .strict()
      .default({
        allowedAaguids: [],
        challengeSeconds: 300,
        requirePhishingResistant: { groups: [], console: false },
      }),
  })
  .strict()
  .superRefine((config, ctx) => {
    const voice = config.telephony?.voice;
    if (voice?.provider === 'twilio' && !voice.webhookBaseUrl && !config.publicUrl) {
      ctx.addIssue({
        code: 'custom',
        path: ['telephony', 'voice', 'webhookBaseUrl'],
        message: 'Twilio must reach the portal: set publicUrl (or telephony.voice.webhookBaseUrl)',
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** Environment variables and the setting each one sets. */
const environmentKeys: Record<string, keyof Config> = {
  PORT: 'port',
  HOST: 'host',
  GATEHOUSE_PORT: 'port',
  GATEHOUSE_HOST: 'host',
  GATEHOUSE_DATABASE_URL: 'databaseUrl',
  GATEHOUSE_DATA_DIR: 'dataDir',
  GATEHOUSE_EVENT_BUS_URL: 'eventBusUrl',
  GATEHOUSE_EVENT_BUS_PREFIX: 'eventBusPrefix',
  GATEHOUSE_ORGANISATION_NAME: 'organisationName',
  GATEHOUSE_ORGANISATION_LOGO_URL: 'organisationLogoUrl',
  GATEHOUSE_COOKIE_SECURE: 'cookieSecure',
  GATEHOUSE_TRUST_PROXY: 'trustProxy',
  GATEHOUSE_LOG_LEVEL: 'logLevel',
  GATEHOUSE_METRICS_TOKEN: 'metricsToken',
  GATEHOUSE_METRICS_PORT: 'metricsPort',
  GATEHOUSE_METRICS_HOST: 'metricsHost',
  GATEHOUSE_SESSION_IDLE_MINUTES: 'sessionIdleMinutes',
  GATEHOUSE_SESSION_ABSOLUTE_HOURS: 'sessionAbsoluteHours',
  GATEHOUSE_SESSION_FRESH_MINUTES: 'sessionFreshMinutes',
  GATEHOUSE_SECRETS_KEY: 'secretsKey',
  GATEHOUSE_PUBLIC_URL: 'publicUrl',
  GATEHOUSE_PUSH_REQUEST_SECONDS: 'pushRequestSeconds',
  GATEHOUSE_LEGACY_BIND_CACHE_SECONDS: 'legacyBindCacheSeconds',
  GATEHOUSE_PUSH_REPORT_BLOCK_MINUTES: 'pushReportBlockMinutes',
  GATEHOUSE_DEVELOPMENT_PHONE: 'developmentPhone',
};
/** Read by loadConfig itself rather than mapped to a setting. */
const GATEHOUSE_CONFIG = 'GATEHOUSE_CONFIG';

/**
 * Reads the optional JSON file (GATEHOUSE_CONFIG, or ./gatehouse.config.json when present), then
 * the environment on top. Any problem, including a misspelt key, is a GatehouseError
 * `config_invalid` whose message lists every problem in words.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const fromFile = readConfigFile(env, cwd, problems);
  const fromEnv: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    const key = environmentKeys[name];
    if (key) fromEnv[key] = value;
    else if (
      name.startsWith('GATEHOUSE_') &&
      name !== GATEHOUSE_CONFIG &&
      name !== SMTP_PASSWORD_VARIABLE &&
      name !== LDAP_SERVICE_PASSWORD &&
      !(TELEPHONY_SECRET_VARIABLES as readonly string[]).includes(name)
    ) {
      problems.push(`${name} is not a Gatehouse setting (see the README for the list)`);
    }
  }
  const settings: Record<string, unknown> = { ...fromFile, ...fromEnv };
  settings.telephony = withTelephonySecrets(settings.telephony, env, problems);
  const smtpPassword = env[SMTP_PASSWORD_VARIABLE];
  if (smtpPassword && typeof settings.smtp === 'object' && settings.smtp !== null)
    settings.smtp = { ...settings.smtp, password: smtpPassword };
  if (settings.ldap !== undefined || env[LDAP_SERVICE_PASSWORD])
    settings.ldap = withLdapServicePassword(settings.ldap, env, problems);
  const parsed = configSchema.safeParse(settings);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const where = issue.path.join('.') || '(file)';
      problems.push(
        issue.code === 'unrecognized_keys'
          ? `unknown setting ${issue.keys.map((k) => `"${k}"`).join(', ')}`
          : `${where}: ${issue.message}`,
      );
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new GatehouseError('config_invalid', `Gatehouse cannot start:\n  - ${problems.join('\n  - ')}`);
  }
  // Relative paths are relative to where Gatehouse was started, fixed once here.
  return { ...parsed.data, dataDir: resolve(cwd, parsed.data.dataDir) };
}

function readConfigFile(env: NodeJS.ProcessEnv, cwd: string, problems: string[]): Record<string, unknown> {
  const explicit = env[GATEHOUSE_CONFIG];
  const path = resolve(cwd, explicit ?? 'gatehouse.config.json');
  if (!explicit && !existsSync(path)) return {};
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${path} must hold one JSON object`);
      return {};
    }
    return value as Record<string, unknown>;
  } catch (error) {
    problems.push(`cannot read configuration file ${path}: ${(error as Error).message}`);
    return {};
  }
}

export function storeLocation(config: Config): StoreLocation {
  return config.databaseUrl
    ? { engine: 'postgres', url: config.databaseUrl }
    : { engine: 'sqlite', file: join(config.dataDir, 'gatehouse.sqlite') };
}

export function coreSettings(config: Config): CoreSettings {
  return {
    session: {
      idleMinutes: config.sessionIdleMinutes,
      absoluteHours: config.sessionAbsoluteHours,
      freshMinutes: config.sessionFreshMinutes,
    },
    accountLockout: config.accountLockout,
    clientLockout: config.clientLockout,
    push: {
      requestSeconds: config.pushRequestSeconds,
      maxPending: config.pushMaxPending,
      failures: config.pushFailures,
      reportBlockMinutes: config.pushReportBlockMinutes,
      activationMinutes: config.activationMinutes,
      endpoints: { allowedHosts: config.webPushHosts },
    },
    codeAttempts: config.codeAttempts,
    legacyBindCacheSeconds: config.legacyBindCacheSeconds,
    nudge: config.nudge,
    passkeys: {
      ...config.passkeys,
      rpName: config.passkeys.rpName ?? config.organisationName,
    },
    phone: {
      ...config.phone,
      // "Call me" and "Text me a code" are offered only when something can call or text.
      allowTexts:
        config.phone.allowTexts && (config.developmentPhone || !config.telephony || !!config.telephony.text),
      allowCalls: config.developmentPhone || !config.telephony || !!config.telephony.voice,
      organisationName: config.organisationName,
    },
  };
}
