import { randomUUID } from 'node:crypto';
import { GatehouseError } from '../../errors.ts';
import type { Account, MfaMethod, PushPurpose, PushRequest } from '../../model.ts';
import { type AppContext, pushKey } from './context.ts';
import { publishRequestEvent } from './events.ts';
import type { PushSubscription } from './notifier.ts';
import { newMatchingNumber } from './numbers.ts';

export interface RequestInput {
  account: Account;
  device: MfaMethod;
  purpose: PushPurpose;
  sessionHash: string;
  clientAddress: string;
  application: string;
}

/** Raises a request for the device, unless pushes to this account are blocked or too many wait. */
export async function issueRequest(ctx: AppContext, input: RequestInput): Promise<PushRequest> {
  const { account, device } = input;
  const now = ctx.clock.now();
  const blockedUntil = await ctx.pushFailures.lockedUntil(pushKey(account.id));
  if (blockedUntil) {
    await ctx.audit.record({
      type: 'push.blocked',
      email: account.email,
      clientAddress: input.clientAddress,
      detail: { until: blockedUntil },
    });
    throw new GatehouseError('push_blocked', undefined, { until: blockedUntil });
  }
  const previous = await ctx.store.pushRequests.latestForAccount(account.id);
  // "Latest" is by creation time, so a retry in the same millisecond is placed 1 ms later.
  const sameSession = await ctx.store.pushRequests.latestForSession(input.sessionHash, input.purpose);
  const createdAt =
    sameSession && sameSession.createdAt >= now ? new Date(sameSession.createdAt.getTime() + 1) : now;
  const request: PushRequest = {
    id: randomUUID(),
    accountId: account.id,
    deviceId: device.id,
    purpose: input.purpose,
    number: newMatchingNumber(ctx.random, previous?.number),
    status: 'pending',
    sessionHash: input.sessionHash,
    application: input.application,
    clientAddress: input.clientAddress,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + ctx.settings.requestSeconds * 1000),
    answeredAt: null,
  };
  // The pending limit is claimed by the insert itself: a count read first would let concurrent
  // sign-ins (on several instances) all see room and all insert.
  if (!(await ctx.store.pushRequests.insertWithinLimit(request, ctx.settings.maxPending, now))) {
    await ctx.audit.record({
      type: 'push.blocked',
      email: account.email,
      clientAddress: input.clientAddress,
      detail: { reason: 'too_many_pending' },
    });
    throw new GatehouseError('too_many_attempts');
  }
  await publishRequestEvent(ctx, request, 'push.created');
  await notifyDevice(ctx, device, request, account.email);
  await ctx.audit.record({
    type: 'push.sent',
    email: account.email,
    clientAddress: input.clientAddress,
    detail: { request: request.id, purpose: request.purpose, device: device.id },
  });
  return request;
}

async function notifyDevice(ctx: AppContext, device: MfaMethod, request: PushRequest, account: string) {
  const subscription = (device.data as { pushSubscription?: PushSubscription }).pushSubscription;
  if (!ctx.notifier || !subscription) return;
  await ctx.notifier.notify(subscription, {
    requestId: request.id,
    purpose: request.purpose,
    application: request.application,
    account,
  });
}

/** The request a sign-in waits on: the session's own pending one, or a new one to the default device. */
export async function signInRequest(
  ctx: AppContext,
  input: { account: Account; sessionHash: string; clientAddress: string; application: string },
): Promise<PushRequest> {
  const current = await ctx.store.pushRequests.latestForSession(input.sessionHash, 'sign_in');
  if (current && current.status === 'pending' && current.expiresAt > ctx.clock.now()) return current;
  const device = await pushDevice(ctx, input.account.id);
  if (!device) throw new GatehouseError('no_push_device');
  return issueRequest(ctx, { ...input, device, purpose: 'sign_in' });
}

/** The active authenticator app to push to: the default one, else the most recently added. */
export async function pushDevice(ctx: AppContext, accountId: string): Promise<MfaMethod | undefined> {
  const devices = (await ctx.store.methods.listForAccount(accountId)).filter(
    (m) => m.kind === 'authenticator_app' && m.status === 'active',
  );
  return devices.find((d) => d.isDefault) ?? devices.at(-1);
}

/** The latest request of a session, with a pending one past its time reported as expired. */
export async function requestOfSession(
  ctx: AppContext,
  sessionHash: string,
  purpose: PushPurpose,
): Promise<PushRequest | undefined> {
  const request = await ctx.store.pushRequests.latestForSession(sessionHash, purpose);
  if (request?.status === 'pending' && request.expiresAt <= ctx.clock.now())
    return { ...request, status: 'expired' };
  return request;
}
