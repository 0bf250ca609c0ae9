import type { ProviderDeps, VoiceProvider } from '../provider.ts';
import { maskedNumber } from '../provider.ts';
import { twilioClient, twilioFailure } from './client.ts';
import type { TwilioVoiceSettings } from './settings.ts';
import { TWILIO_CALLS_PATH, twilioWebhookRoutes } from './webhooks.ts';

export { twilioVoiceSchema } from './settings.ts';

/**
 * Verification calls through Twilio Programmable Voice: the REST API starts the call, Twilio then
 * fetches its TwiML from the portal (the message travels in the TwiML URL, so any instance behind
 * a load balancer can answer), posts the keys pressed, and reports how the call ended.
 */
export async function startTwilioVoice(
  settings: TwilioVoiceSettings,
  deps: ProviderDeps,
): Promise<VoiceProvider> {
  if (!settings.webhookBaseUrl) throw new Error('Twilio voice needs webhookBaseUrl (or publicUrl)');
  const baseUrl = settings.webhookBaseUrl.replace(/\/+$/, '');
  const client = twilioClient(settings);
  return {
    async placeCall(call) {
      const callUrl = `${baseUrl}${TWILIO_CALLS_PATH}/${call.challengeId}`;
      try {
        const created = await client.calls.create({
          to: call.to,
          from: settings.from,
          url: `${callUrl}/twiml?${new URLSearchParams({ say: call.message })}`,
          method: 'POST',
          statusCallback: `${callUrl}/status`,
          statusCallbackMethod: 'POST',
          statusCallbackEvent: ['completed'],
          timeout: settings.ringSeconds,
          timeLimit: settings.maxCallSeconds,
        });
        deps.logger.info({ challenge: call.challengeId, callSid: created.sid }, 'Twilio call placed');
      } catch (error) {
        const failure = twilioFailure('call', error);
        deps.logger.warn(
          { challenge: call.challengeId, to: maskedNumber(call.to), code: failure.code },
          failure.message,
        );
        throw failure;
      }
    },
    async close() {},
    routes: twilioWebhookRoutes(
      { authToken: settings.authToken, baseUrl, keySeconds: settings.keySeconds },
      deps,
    ),
  };
}
