import { GatehouseError } from '../../errors.ts';
import type { MfaMethod, PushRequest, PushStatus } from '../../model.ts';
import { deviceData } from './activation.ts';
import { type AppContext, pushKey } from './context.ts';
import { SIGNATURE_SKEW_MS, signedLines, verifyDeviceSignature } from './device-signature.ts';
import { publishRequestEvent } from './events.ts';

export interface SignedCall {
  deviceId: string;
  timestamp: string;
  signature: string;
  clientAddress: string;
}

/** The device, when the call is signed by its key within the allowed clock skew. */
export async function authenticateDevice(
  ctx: AppContext,
  action: string,
  call: SignedCall,
  signedFields: string[] = [],
): Promise<MfaMethod> {
  const device = await ctx.store.methods.find(call.deviceId);
  if (device?.kind !== 'authenticator_app') throw new GatehouseError('device_not_found');
  checkTimestamp(ctx, call.timestamp);
  const { publicKey } = deviceData.parse(device.data);
  const message = signedLines(action, device.id, ...signedFields, call.timestamp);
  if (!verifyDeviceSignature(publicKey, message, call.signature)) {
    await auditBadSignature(ctx, device, call.clientAddress, action);
    throw new GatehouseError('bad_signature');
  }
  return device;
}

export interface Answer extends SignedCall {
  requestId: string;
  decision: 'approve' | 'deny';
  number: string;
  report: boolean;
}

/**
 * The app's answer to a request. Only the request's own device can answer, once: the status
 * changes in one conditional update, so of concurrent answers exactly one counts.
 */
export async function answerRequest(ctx: AppContext, answer: Answer): Promise<PushStatus> {
  const request = await ctx.store.pushRequests.find(answer.requestId);
  if (!request || request.deviceId !== answer.deviceId) throw new GatehouseError('request_not_found');
  const device = await ctx.store.methods.find(request.deviceId);
  if (!device) throw new GatehouseError('request_not_found');
  checkTimestamp(ctx, answer.timestamp);
  const message = signedLines(
    'answer',
    request.id,
    answer.decision,
    answer.decision === 'approve' ? answer.number : '',
    answer.report ? '1' : '0',
    answer.timestamp,
  );
  const { publicKey } = deviceData.parse(device.data);
  if (!verifyDeviceSignature(publicKey, message, answer.signature)) {
    await auditBadSignature(ctx, device, answer.clientAddress, 'answer');
    throw new GatehouseError('bad_signature');
  }

  const now = ctx.clock.now();
  if (request.status !== 'pending') throw new GatehouseError('request_already_answered');
  if (request.expiresAt <= now) throw new GatehouseError('request_expired');
  const status: Exclude<PushStatus, 'pending'> =
    answer.decision === 'deny'
      ? answer.report
        ? 'reported'
        : 'denied'
      : request.purpose === 'approval' || answer.number === request.number
        ? 'approved'
        : 'wrong_number';
  if (!(await ctx.store.pushRequests.answer(request.id, status, now))) {
    throw new GatehouseError('request_already_answered');
  }
  await publishRequestEvent(ctx, request, 'push.answered');
  await afterAnswer(ctx, request, device, status, answer);
  return status;
}

async function afterAnswer(
  ctx: AppContext,
  request: PushRequest,
  device: MfaMethod,
  status: PushStatus,
  answer: Answer,
) {
  const account = await ctx.store.accounts.findById(request.accountId);
  const email = account?.email ?? null;
  const detail = { request: request.id, purpose: request.purpose, device: device.id };
  if (status === 'approved') {
    if (request.purpose === 'registration' && (await ctx.store.methods.activate(device.id))) {
      await ctx.audit.record({
        type: 'authenticator.registered',
        email,
        clientAddress: answer.clientAddress,
        detail,
      });
    }
    await ctx.store.methods.touch(device.id, ctx.clock.now());
    await ctx.audit.record({ type: 'push.approved', email, clientAddress: answer.clientAddress, detail });
    return;
  }
  await ctx.audit.record({
    type: status === 'wrong_number' ? 'push.wrong_number' : 'push.denied',
    email,
    clientAddress: answer.clientAddress,
    detail,
  });
  const lockedUntil = await ctx.pushFailures.fail(pushKey(request.accountId));
  if (lockedUntil)
    await ctx.audit.record({
      type: 'push.blocked',
      email,
      detail: { until: lockedUntil, reason: 'failures' },
    });
  if (answer.report) await reportSuspicious(ctx, request, email, answer.clientAddress);
}

/** "No, it's not me" with a report: cancel what waits and block pushes for the configured time. */
async function reportSuspicious(
  ctx: AppContext,
  request: PushRequest,
  email: string | null,
  clientAddress: string,
) {
  const now = ctx.clock.now();
  const cancelled = await ctx.store.pushRequests.cancelPendingForAccount(request.accountId, now);
  await Promise.all(cancelled.map((r) => publishRequestEvent(ctx, r, 'push.cancelled')));
  const until = new Date(now.getTime() + ctx.settings.reportBlockMinutes * 60_000);
  await ctx.pushFailures.block(pushKey(request.accountId), until);
  await ctx.audit.record({
    type: 'push.reported',
    email,
    clientAddress,
    detail: {
      request: request.id,
      signInFrom: request.clientAddress,
      cancelled: cancelled.length,
      blockedUntil: until,
    },
  });
}

function checkTimestamp(ctx: AppContext, timestamp: string) {
  const at = Number(timestamp);
  if (!/^\d{1,15}$/.test(timestamp) || Math.abs(ctx.clock.now().getTime() - at) > SIGNATURE_SKEW_MS) {
    throw new GatehouseError('stale_signature');
  }
}

async function auditBadSignature(ctx: AppContext, device: MfaMethod, clientAddress: string, action: string) {
  const account = await ctx.store.accounts.findById(device.accountId);
  await ctx.audit.record({
    type: 'push.bad_signature',
    email: account?.email ?? null,
    clientAddress,
    detail: { device: device.id, action },
  });
}
