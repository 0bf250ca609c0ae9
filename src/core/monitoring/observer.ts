import type { AuditEventInput } from '../model.ts';

/**
 * What the core tells monitoring as it works, without knowing how it is exposed (Prometheus:
 * src/channels/metrics/). Calls are synchronous and must not throw: monitoring never slows or
 * breaks a sign-in.
 */
export interface CoreObserver {
  /** A security event was written to the audit log. */
  eventRecorded(event: AuditEventInput): void;
  /** One password (or app password) hash was verified, taking `seconds`. */
  passwordChecked(seconds: number): void;
}

export const noObserver: CoreObserver = {
  eventRecorded() {},
  passwordChecked() {},
};
