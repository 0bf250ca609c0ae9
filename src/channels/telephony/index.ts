import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Telephony } from '../../core/methods/phone/telephony.ts';
import { type ProviderDeps, TelephonyError, type TextProvider, type VoiceProvider } from './provider.ts';
import { sipVoiceSchema, startSipVoice } from './sip/voice.ts';
import { smppTextSchema, startSmppText } from './smpp/text.ts';
import { startTwilioText, twilioTextSchema } from './twilio/text.ts';
import { startTwilioVoice, twilioVoiceSchema } from './twilio/voice.ts';

/** The `telephony` setting: one provider for calls and one for texts, each chosen by `provider`. */
export const telephonySchema = z
  .object({
    voice: z.discriminatedUnion('provider', [twilioVoiceSchema, sipVoiceSchema]).optional(),
    text: z.discriminatedUnion('provider', [twilioTextSchema, smppTextSchema]).optional(),
  })
  .strict();

export type TelephonySettings = z.infer<typeof telephonySchema>;

export interface StartedTelephony {
  telephony: Telephony;
  /** The providers' webhooks, to register on the portal. */
  routes: ((app: FastifyInstance) => Promise<void>)[];
  close(): Promise<void>;
}

function startVoice(settings: NonNullable<TelephonySettings['voice']>, deps: StartDeps) {
  switch (settings.provider) {
    case 'twilio':
      return startTwilioVoice(
        { ...settings, webhookBaseUrl: settings.webhookBaseUrl ?? deps.publicUrl },
        deps,
      );
    case 'sip':
      return startSipVoice(settings, deps);
  }
}

function startText(settings: NonNullable<TelephonySettings['text']>, deps: StartDeps) {
  switch (settings.provider) {
    case 'twilio':
      return startTwilioText(settings, deps);
    case 'smpp':
      return startSmppText(settings, deps);
  }
}

type StartDeps = ProviderDeps & { publicUrl?: string | undefined };

const missing = (what: string) => async () => {
  throw new TelephonyError('not_configured', `no ${what} provider is configured (telephony.${what})`);
};

/** Starts the configured providers and joins them into the core's one view of the phone network. */
export async function startTelephony(
  settings: TelephonySettings,
  deps: StartDeps,
): Promise<StartedTelephony> {
  const voice: VoiceProvider | undefined = settings.voice
    ? await startVoice(settings.voice, deps)
    : undefined;
  let text: TextProvider | undefined;
  try {
    text = settings.text ? await startText(settings.text, deps) : undefined;
  } catch (error) {
    await voice?.close();
    throw error;
  }
  return {
    telephony: {
      placeCall: voice ? (call) => voice.placeCall(call) : missing('voice'),
      sendText: text ? (message) => text.sendText(message) : missing('text'),
    },
    routes: [voice?.routes, text?.routes].filter((r) => r !== undefined),
    async close() {
      await Promise.all([voice?.close(), text?.close()]);
    },
  };
}
