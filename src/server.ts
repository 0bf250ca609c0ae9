import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { developmentPhone } from './channels/dev-phone.ts';
import { describeEventBus, type EventBusSettings, openEventBus } from './channels/event-bus/index.ts';
import { startNoticeSender } from './channels/mail/notice-sender.ts';
import { type StartedTelephony, startTelephony } from './channels/telephony/index.ts';
import { newVapidKeys, type VapidKeys, webPushNotifier } from './channels/web-push.ts';
import { type Config, coreSettings, storeLocation } from './config/config.ts';
import { secretBoxFor } from './config/secrets-key.ts';
import { systemClock, systemRandom } from './core/clock.ts';
import type { SecretBox } from './core/crypto/secret-box.ts';
import { sweepExpired } from './core/housekeeping.ts';
import { createCore } from './core/index.ts';
import type { CallOutcomeSink } from './core/methods/phone/telephony.ts';
import type { AuditEventInput } from './core/model.ts';
import type { Store } from './core/store.ts';
import { startLdapGateway } from './gateways/ldap/server.ts';
import { startRadiusGateway } from './gateways/radius/server.ts';
import { describeLocation, openStore } from './store/open-store.ts';
import { buildWebApp } from './web/app.ts';
import { startMetricsListener } from './web/metrics.ts';
import { isLoopbackName, PLAIN_HTTP_PUBLIC_URL } from './web/transport.ts';

const SWEEP_INTERVAL_MS = 10 * 60_000;

/** Opens the database, builds the portal and listens. Returns the app so callers can close it. */
export async function startServer(config: Config): Promise<FastifyInstance> {
  const logger = pino({
    level: config.logLevel,
    redact: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'],
  });
  const location = storeLocation(config);
  const store = await openStore(location, {
    onConnectionError: (error) =>
      logger.warn({ err: error }, 'a database connection failed; a new one is opened when needed'),
  });
  const secrets = secretBoxFor(config);
  const vapid = await vapidKeys(store, secrets);
  const notifier = webPushNotifier(
    vapid,
    config.webPushSubject ?? `mailto:it@${new URL(config.publicUrl ?? 'http://localhost').hostname}`,
    logger,
  );
  // Providers report call outcomes and forged webhooks to the core, which is made after them: bound late.
  let recordOutcome: CallOutcomeSink = async () => {};
  let audit = async (_event: AuditEventInput) => {};
  const devPhone = config.developmentPhone
    ? developmentPhone((id, outcome) => recordOutcome(id, outcome))
    : undefined;
  if (devPhone)
    logger.warn(
      'the development phone is on: /dev/phone answers for every number; never use it in production',
    );
  if (devPhone && config.telephony)
    logger.warn('telephony providers are not started: the development phone is on');
  const providers: StartedTelephony | undefined =
    config.telephony && !devPhone
      ? await startTelephony(config.telephony, {
          onOutcome: (id, outcome) => recordOutcome(id, outcome),
          audit: (event) => audit(event),
          logger,
          publicUrl: config.publicUrl,
        })
      : undefined;
  // The certificate code (X.509, ASN.1, OCSP) is loaded only when smartcards are configured.
  const smartcardParts = config.smartcard ? await import('./smartcard/start.ts') : undefined;
  const smartcard =
    config.smartcard && smartcardParts
      ? await smartcardParts.loadCertificateTrust(config.smartcard, logger)
      : undefined;
  const busSettings: EventBusSettings = {
    url: config.eventBusUrl,
    prefix: config.eventBusPrefix,
    postgres: location.engine === 'postgres' ? { url: location.url, schema: location.schema } : undefined,
  };
  const events = await openEventBus(busSettings, logger);
  // prom-client is loaded only when metrics are asked for (memory of a portal without them).
  const metricsWanted = config.metricsToken !== undefined || config.metricsPort !== undefined;
  const metrics = metricsWanted
    ? (await import('./channels/metrics/prometheus.ts')).prometheusMetrics()
    : undefined;
  const core = createCore({
    store,
    events,
    settings: coreSettings(config),
    secrets,
    notifier,
    telephony: devPhone?.telephony ?? providers?.telephony,
    ...(smartcard ? { smartcard: { trust: smartcard.trust, settings: smartcard.settings } } : {}),
    ...(metrics ? { observer: metrics.observer } : {}),
  });
  metrics?.readFrom(core.monitoring);
  recordOutcome = core.phone.recordOutcome;
  audit = (event) => core.audit.record(event);
  const cookieSecret = await store.secrets.getOrCreate(
    'cookie-signing-key',
    systemRandom.bytes(32).toString('base64url'),
  );
  const app = await buildWebApp({
    core,
    logger,
    organisation: { name: config.organisationName, logoUrl: config.organisationLogoUrl },
    cookieSecure: config.cookieSecure,
    cookieSecret,
    trustProxy: config.trustProxy,
    publicUrl: config.publicUrl,
    androidAppUrl: config.authenticatorAndroidUrl,
    iphoneAppUrl: config.authenticatorIphoneUrl,
    vapidPublicKey: vapid.publicKey,
    extraRoutes: devPhone ? [devPhone.routes] : (providers?.routes ?? []),
    ...(metrics
      ? {
          metrics: {
            pushDelivered: metrics.pushDelivered,
            ...(config.metricsToken ? { route: { source: metrics, token: config.metricsToken } } : {}),
          },
        }
      : {}),
    smartcard: config.smartcard && {
      endpointUrl: config.smartcard.publicUrl,
      port: config.smartcard.port,
      ticketSeconds: config.smartcard.ticketSeconds,
      cookieSecure: config.cookieSecure,
    },
    singleSignOn: {
      cookieKeys: [
        await store.secrets.getOrCreate('oidc-cookie-key', systemRandom.bytes(32).toString('base64url')),
      ],
      signingKeys: () => core.signingKeys.load(),
    },
  });
  // Security notices wait in the database until the mail server takes them (see notice-sender.ts).
  const noticeSender = config.smtp
    ? startNoticeSender({
        notices: core.notices,
        audit: core.audit,
        settings: config.smtp,
        organisation: config.organisationName,
        logger,
      })
    : undefined;
  const sweep = sweepExpired(store, systemClock);
  const sweeper = setInterval(() => {
    Promise.all([sweep(), core.passes.sweep()]).then(
      ([removed, temporaryPasses]) =>
        logger.debug({ ...removed, temporaryPasses }, 'expired records removed'),
      (error: unknown) => logger.warn({ err: error }, 'sweeping expired records failed'),
    );
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();
  const radius = config.radius ? await startRadiusGateway(core, config.radius, logger) : undefined;
  if (radius) logger.info({ port: radius.port }, 'RADIUS gateway listening');
  const ldap = config.ldap ? await startLdap(core, config.ldap, logger) : undefined;
  const metricsListener =
    metrics && config.metricsPort !== undefined
      ? await startMetricsListener(metrics, {
          port: config.metricsPort,
          host: config.metricsHost,
          token: config.metricsToken,
        })
      : undefined;
  if (metricsListener) logger.info({ port: metricsListener.port }, 'metrics listening on /metrics');
  let certificateEndpoint: FastifyInstance | undefined;
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    await noticeSender?.close();
    await metricsListener?.close();
    await certificateEndpoint?.close();
    await radius?.close();
    await ldap?.close();
    await providers?.close();
    await events.close();
    await store.close();
  });
  if (config.cookieSecure && config.publicUrl) {
    const { protocol, hostname } = new URL(config.publicUrl);
    if (protocol === 'http:' && !isLoopbackName(hostname)) logger.warn(PLAIN_HTTP_PUBLIC_URL);
  }
  const address = await app.listen({ port: config.port, host: config.host });
  if (config.smartcard && smartcard && smartcardParts) {
    certificateEndpoint = await smartcardParts.startCertificateEndpoint(core, config.smartcard, {
      logger,
      organisation: { name: config.organisationName, logoUrl: config.organisationLogoUrl },
      portalUrl: (config.publicUrl ?? address).replace(/\/+$/, ''),
      host: config.host,
      refresh: smartcard.refresh,
    });
    logger.info({ port: config.smartcard.port }, 'smartcard certificate endpoint listening');
  }
  logger.info(
    { database: describeLocation(location), events: describeEventBus(busSettings) },
    'Gatehouse portal started',
  );
  return app;
}

/** One VAPID key pair for all instances, kept in the database and sealed with the secrets key. */
async function vapidKeys(store: Store, secrets: SecretBox): Promise<VapidKeys> {
  const sealed = await store.secrets.getOrCreate('vapid-keys', secrets.seal(JSON.stringify(newVapidKeys())));
  return JSON.parse(secrets.open(sealed)) as VapidKeys;
}

async function startLdap(
  core: ReturnType<typeof createCore>,
  config: NonNullable<Config['ldap']>,
  logger: pino.Logger,
) {
  const { tlsCertFile, tlsKeyFile, ...rest } = config;
  const tls =
    tlsCertFile && tlsKeyFile
      ? { cert: readFileSync(tlsCertFile, 'utf8'), key: readFileSync(tlsKeyFile, 'utf8') }
      : undefined;
  const gateway = await startLdapGateway(core, { ...rest, ...(tls ? { tls } : {}) }, logger);
  logger.info({ port: gateway.port, tlsPort: gateway.tlsPort }, 'LDAP gateway listening');
  return gateway;
}
