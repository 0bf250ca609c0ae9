import type { Session } from '../core/model.ts';

/**
 * The provider's auth_time for a portal session: when its password or smartcard was proved (MFA
 * later in the same session does not make it a new sign-in).
 */
export function signInTime(session: Session): number {
  return Math.floor(session.createdAt.getTime() / 1000);
}

/** True when the portal sign-in is no older than `maxAge` seconds (the request's max_age). */
export function withinMaxAge(session: Session, maxAge: unknown, now: Date): boolean {
  const seconds = Number(maxAge);
  if (!Number.isFinite(seconds) || seconds < 0) return false;
  return now.getTime() - session.createdAt.getTime() <= seconds * 1000;
}

/**
 * Whether the portal sign-in answers what the request asks of it: prompt=login wants a sign-in
 * made after the request started; max_age one no older than that (a sign-in made after the
 * request started always is, or max_age=0 could never be met).
 */
export function signInFreshEnough(
  params: { prompt?: unknown; max_age?: unknown },
  session: Session,
  requestStartedAt: Date,
  now: Date,
): boolean {
  if (session.createdAt.getTime() > requestStartedAt.getTime()) return true;
  const prompts = typeof params.prompt === 'string' ? params.prompt.split(' ') : [];
  if (prompts.includes('login')) return false;
  if (params.max_age !== undefined) return withinMaxAge(session, params.max_age, now);
  return true;
}
