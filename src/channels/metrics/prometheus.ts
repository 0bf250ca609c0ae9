import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Monitoring } from '../../core/monitoring/monitoring.ts';
import type { CoreObserver } from '../../core/monitoring/observer.ts';
import { signInStepOf, telephonyOutcomeOf } from '../../core/monitoring/sign-in-outcomes.ts';

/**
 * Gatehouse's metrics in Prometheus's text format, in a registry of their own (never prom-client's
 * global one, so two portals in one process, as in the tests, keep their numbers apart). Counters
 * are per instance, as Prometheus expects (it adds instances up); active sessions are read from
 * the shared database, so every instance reports the same number.
 */
export interface PrometheusMetrics {
  /** Given to the core: counts sign-ins, lockouts, calls and texts from the audit events. */
  readonly observer: CoreObserver;
  /** A push request reached its device (`seconds` after it was raised). */
  pushDelivered(seconds: number): void;
  /** Reads what is read at scrape time from the core (sessions, pool). */
  readFrom(monitoring: Monitoring): void;
  render(): Promise<string>;
  readonly contentType: string;
}

/** Pushes should arrive in milliseconds; a slow one (Web Push waking a closed app) in seconds. */
const PUSH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** argon2id at OWASP's parameters takes some 10 to 30 ms a core; queueing shows above that. */
const HASH_BUCKETS = [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5];

export function prometheusMetrics(): PrometheusMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const signIns = new Counter({
    name: 'gatehouse_sign_in_steps_total',
    help: 'Sign-in steps by method (password, push, code, phone_call, text, smartcard, passkey, app_password...) and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers,
  });
  const lockouts = new Counter({
    name: 'gatehouse_lockouts_total',
    help: 'Accounts locked after too many wrong passwords',
    registers,
  });
  const telephony = new Counter({
    name: 'gatehouse_phone_messages_total',
    help: 'Verification calls and texts by outcome: sent, failed (the provider), refused (limits)',
    labelNames: ['channel', 'outcome'] as const,
    registers,
  });
  const pushDelivery = new Histogram({
    name: 'gatehouse_push_delivery_seconds',
    help: "Time from a push sign-in request being raised to its reaching the device's app",
    buckets: PUSH_BUCKETS,
    registers,
  });
  const passwordHash = new Histogram({
    name: 'gatehouse_password_hash_seconds',
    help: 'Time to verify one password or app password hash (argon2id), queueing included',
    buckets: HASH_BUCKETS,
    registers,
  });
  let source: Monitoring | undefined;
  new Gauge({
    name: 'gatehouse_active_sessions',
    help: 'Portal sessions not yet expired, by stage (all instances: read from the database)',
    labelNames: ['stage'] as const,
    registers,
    async collect() {
      if (!source) return;
      this.reset();
      // With the database away the scrape still answers (the process metrics say why), without it.
      const counts = await source.activeSessions().catch(() => ({}));
      for (const [stage, count] of Object.entries(counts)) this.set({ stage }, count);
    },
  });
  new Gauge({
    name: 'gatehouse_database_connections',
    help: "This instance's database pool: open, idle, waiting (requests queued for one) and max",
    labelNames: ['state'] as const,
    registers,
    collect() {
      const use = source?.connections();
      if (!use) return;
      for (const [state, value] of Object.entries(use)) this.set({ state }, value);
    },
  });
  return {
    observer: {
      eventRecorded(event) {
        const step = signInStepOf(event);
        if (step) signIns.inc(step);
        if (event.type === 'signin.locked') lockouts.inc();
        const call = telephonyOutcomeOf(event);
        if (call) telephony.inc(call);
      },
      passwordChecked: (seconds) => passwordHash.observe(seconds),
    },
    pushDelivered: (seconds) => pushDelivery.observe(seconds),
    readFrom(monitoring) {
      source = monitoring;
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
