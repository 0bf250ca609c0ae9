import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Telephony } from '../../core/methods/phone/telephony.ts';
import { type ProviderDeps, TelephonyError, type TextProvider, type VoiceProvider } from './provider.ts';
import { sipVoiceSchema } from './sip/settings.ts';
import { smppTextSchema } from './smpp/settings.ts';
import { twilioTextSchema, twilioVoiceSchema } from './twilio/settings.ts';

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

// Each provider's module (and its SDK: Twilio's alone holds several megabytes) is loaded only when
// the settings choose it, so that a portal without telephony does not carry them in memory.
async function startVoice(settings: NonNullable<TelephonySettings['voice']>, deps: StartDeps) {
  switch (settings.provider) {
    case 'twilio': {
      const { startTwilioVoice } = await import('./twilio/voice.ts');
      return startTwilioVoice(
        { ...settings, webhookBaseUrl: settings.webhookBaseUrl ?? deps.publicUrl },
        deps,
      );
    }
    case 'sip': {
      const { startSipVoice } = await import('./sip/voice.ts');
      return startSipVoice(settings, deps);
    }
  }
}

async function startText(settings: NonNullable<TelephonySettings['text']>, deps: StartDeps) {
  switch (settings.provider) {
    case 'twilio': {
      const { startTwilioText } = await import('./twilio/text.ts');
      return startTwilioText(settings, deps);
    }
    case 'smpp': {
      const { startSmppText } = await import('./smpp/text.ts');
      return startSmppText(settings, deps);
    }
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
