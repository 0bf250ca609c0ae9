import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { GatehouseError } from '../../errors.ts';
import type { Account, Activation, MfaMethod } from '../../model.ts';
import { newTotpSecret, TOTP_PARAMETERS } from '../totp/totp-codes.ts';
import { hashActivationCode, newActivationCode, normaliseActivationCode } from './activation-code.ts';
import type { AppContext } from './context.ts';
import { checkPublicKey, type DevicePublicKey, devicePublicKeySchema } from './device-signature.ts';
import { issueRequest } from './requests.ts';

/** What a device stores: its public key, and the TOTP key the app shows codes for (sealed). */
export const deviceData = z
  .object({ publicKey: devicePublicKeySchema, totpSecret: z.string() })
  .passthrough();

export type DeviceData = z.infer<typeof deviceData>;

/** Step 1 on the PC: a one-time code for the QR code, bound to this account and browser session. */
export async function startActivation(
  ctx: AppContext,
  account: Account,
  sessionHash: string,
  clientAddress: string,
) {
  const code = newActivationCode(ctx.random);
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + ctx.settings.activationMinutes * 60_000);
  await ctx.store.activations.insert({
    codeHash: hashActivationCode(code),
    accountId: account.id,
    sessionHash,
    createdAt: now,
    expiresAt,
    deviceId: null,
    codeSealed: ctx.secrets.seal(code),
  });
  await ctx.audit.record({
    type: 'authenticator.activation_started',
    email: account.email,
    actor: account.email,
    clientAddress,
  });
  return { code, expiresAt };
}

/**
 * Step 2, from the phone: the app sends its public key. The device is stored as pending and a
 * registration request is raised at once, so that the PC shows the number to type in the app.
 */
export async function completeActivation(
  ctx: AppContext,
  input: { code: string; publicKey: DevicePublicKey; deviceName: string; clientAddress: string },
) {
  const code = normaliseActivationCode(input.code);
  const activation = code ? await ctx.store.activations.find(hashActivationCode(code)) : undefined;
  if (!activation) throw new GatehouseError('activation_not_found');
  const now = ctx.clock.now();
  if (activation.deviceId) throw new GatehouseError('activation_used');
  if (activation.expiresAt <= now) throw new GatehouseError('activation_expired');
  try {
    checkPublicKey(input.publicKey);
  } catch {
    throw new GatehouseError('invalid_input', 'the public key is not a valid P-256 key');
  }

  const totpSecret = newTotpSecret(ctx.random);
  const device: MfaMethod = {
    id: randomUUID(),
    accountId: activation.accountId,
    kind: 'authenticator_app',
    label: input.deviceName,
    status: 'pending',
    isDefault: false,
    createdAt: now,
    lastUsedAt: null,
    data: { publicKey: input.publicKey, totpSecret: ctx.secrets.seal(totpSecret) } satisfies DeviceData,
  };
  const account = await ctx.store.transaction(async (tx) => {
    await tx.methods.insert(device);
    // Only one phone can claim a code, even when two scan it at the same moment.
    if (!(await tx.activations.claim(activation.codeHash, device.id, now)))
      throw new GatehouseError('activation_used');
    const owner = await tx.accounts.findById(activation.accountId);
    if (!owner) throw new GatehouseError('activation_not_found');
    return owner;
  });
  await ctx.audit.record({
    type: 'authenticator.activated',
    email: account.email,
    clientAddress: input.clientAddress,
    detail: { device: device.id, name: device.label },
  });
  await issueRequest(ctx, {
    account,
    device,
    purpose: 'registration',
    sessionHash: activation.sessionHash,
    clientAddress: input.clientAddress,
    application: 'Gatehouse registration',
  });
  return { device, account, totp: { secret: totpSecret, ...TOTP_PARAMETERS } };
}

/** The activation this PC session started last, and the device that used it, if any. */
export async function activationForSession(
  ctx: AppContext,
  sessionHash: string,
): Promise<{ activation: Activation; device: MfaMethod | undefined } | undefined> {
  const activation = await ctx.store.activations.latestForSession(sessionHash);
  if (!activation) return undefined;
  const device = activation.deviceId ? await ctx.store.methods.find(activation.deviceId) : undefined;
  return { activation, device };
}
