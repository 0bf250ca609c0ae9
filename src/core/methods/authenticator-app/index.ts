import { randomUUID } from 'node:crypto';
import { GatehouseError } from '../../errors.ts';
import type { Account, PushStatus, Session } from '../../model.ts';
import { activationForSession, completeActivation, startActivation } from './activation.ts';
import { type Answer, answerRequest, authenticateDevice, type SignedCall } from './answers.ts';
import type { AppContext } from './context.ts';
import type { DevicePublicKey } from './device-signature.ts';
import { deviceTopic, sessionTopic, watchTopic } from './events.ts';
import { endpointAllowed, type PushSubscription } from './notifier.ts';
import { issueRequest, pushDevice, requestOfSession, signInRequest } from './requests.ts';

/** A RADIUS wait reads the request again this often even without an event (one lost in transit). */
const APPROVAL_RECHECK_MS = 10_000;

/** The Gatehouse authenticator app as a sign-in method: registration by QR code, push with number matching. */
export function authenticatorApp(ctx: AppContext) {
  return {
    startActivation: (account: Account, session: Session, clientAddress: string) =>
      startActivation(ctx, account, session.idHash, clientAddress),

    completeActivation: (input: {
      code: string;
      publicKey: DevicePublicKey;
      deviceName: string;
      clientAddress: string;
    }) => completeActivation(ctx, input),

    /** Where this PC session's registration stands: waiting for the scan, for the number, or done. */
    async registrationState(session: Session) {
      const found = await activationForSession(ctx, session.idHash);
      if (!found) return { step: 'not_started' as const };
      const { activation, device } = found;
      if (!device) {
        return activation.expiresAt <= ctx.clock.now()
          ? { step: 'activation_expired' as const }
          : {
              step: 'waiting_for_scan' as const,
              expiresAt: activation.expiresAt,
              code: ctx.secrets.open(activation.codeSealed),
            };
      }
      const request = await requestOfSession(ctx, session.idHash, 'registration');
      return {
        step: 'number' as const,
        device,
        request,
        status: request?.status ?? ('expired' as PushStatus),
      };
    },

    /** A new number for the same phone, after a wrong number, No or a timeout. */
    async retryRegistration(account: Account, session: Session, clientAddress: string) {
      const device = (await activationForSession(ctx, session.idHash))?.device;
      if (device?.status !== 'pending') throw new GatehouseError('device_not_found');
      return issueRequest(ctx, {
        account,
        device,
        purpose: 'registration',
        sessionHash: session.idHash,
        clientAddress,
        application: 'Gatehouse registration',
      });
    },

    signInRequest: (account: Account, session: Session, clientAddress: string, application: string) =>
      signInRequest(ctx, { account, sessionHash: session.idHash, clientAddress, application }),

    signInState: (session: Session) => requestOfSession(ctx, session.idHash, 'sign_in'),

    /**
     * For a legacy gateway (a VPN's RADIUS request): pushes to the account's app and waits until
     * the user answers or the request expires. There is no screen to show a number on, so the app
     * shows the application's name and address and asks for Yes or No; the request still accepts
     * one answer only, from this account's own device.
     */
    async requestApproval(account: Account, clientAddress: string, application: string) {
      const device = await pushDevice(ctx, account.id);
      if (!device) throw new GatehouseError('no_push_device');
      const sessionHash = `legacy:${randomUUID()}`;
      // Listening before the request exists, so its answer cannot come before the wait.
      let wake = () => {};
      let changed = false;
      const unsubscribe = await watchTopic(ctx, sessionTopic(sessionHash), () => {
        changed = true;
        wake();
      });
      try {
        const request = await issueRequest(ctx, {
          account,
          device,
          purpose: 'approval',
          sessionHash,
          clientAddress,
          application,
        });
        for (;;) {
          changed = false;
          const state = await requestOfSession(ctx, sessionHash, 'approval');
          if (state && state.status !== 'pending') return state.status;
          const left = request.expiresAt.getTime() - ctx.clock.now().getTime();
          if (left <= 0) return 'expired' as const;
          if (changed) continue;
          // Woken by the answer's event; else at expiry, or after a while in case an event was lost.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(left, APPROVAL_RECHECK_MS));
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = () => {};
        }
      } finally {
        unsubscribe();
      }
    },

    /** Pending requests for a device, when the call is signed by it. */
    async pendingForDevice(call: SignedCall, action: 'list' | 'events') {
      const device = await authenticateDevice(ctx, action, call);
      return { device, requests: await ctx.store.pushRequests.pendingForDevice(device.id, ctx.clock.now()) };
    },

    /** The pending requests of an already authenticated device (for its event stream's reads). */
    pendingOf: (deviceId: string) => ctx.store.pushRequests.pendingForDevice(deviceId, ctx.clock.now()),

    /**
     * Calls `changed` when a request of the device may have changed (raised, answered, cancelled,
     * or the bus reconnected). Resolves once listening, with the way to stop. No database query.
     */
    watchDevice: (deviceId: string, changed: () => void) => watchTopic(ctx, deviceTopic(deviceId), changed),

    /** The same for the requests a PC session waits on (sign-in or registration). */
    watchSession: (session: Session, changed: () => void) =>
      watchTopic(ctx, sessionTopic(session.idHash), changed),

    answer: (answer: Answer) => answerRequest(ctx, answer),

    /** Saves where to send Web Push messages for this device; the endpoint is part of the signature. */
    async subscribe(call: SignedCall, subscription: PushSubscription) {
      const device = await authenticateDevice(ctx, 'subscribe', call, [subscription.endpoint]);
      if (!endpointAllowed(subscription.endpoint, ctx.settings.endpoints)) {
        throw new GatehouseError('invalid_input', 'this push service is not allowed');
      }
      await ctx.store.methods.updateData(device.id, { ...device.data, pushSubscription: subscription });
    },

    async removeDevice(call: SignedCall) {
      const device = await authenticateDevice(ctx, 'remove', call);
      await ctx.store.methods.remove(device.id);
      const account = await ctx.store.accounts.findById(device.accountId);
      await ctx.audit.record({
        type: 'authenticator.removed',
        email: account?.email ?? null,
        clientAddress: call.clientAddress,
        detail: { device: device.id, by: 'app' },
      });
    },
  };
}

export type AuthenticatorApp = ReturnType<typeof authenticatorApp>;
