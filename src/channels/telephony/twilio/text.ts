import type { ProviderDeps, TextProvider } from '../provider.ts';
import { maskedNumber } from '../provider.ts';
import { twilioClient, twilioFailure } from './client.ts';
import type { TwilioTextSettings } from './settings.ts';

export { twilioTextSchema } from './settings.ts';

/** Text messages through Twilio Messaging, from a number, a sender ID or a Messaging Service. */
export async function startTwilioText(
  settings: TwilioTextSettings,
  deps: ProviderDeps,
): Promise<TextProvider> {
  const client = twilioClient(settings);
  const sender = settings.messagingServiceSid
    ? { messagingServiceSid: settings.messagingServiceSid }
    : { from: settings.from };
  return {
    async sendText(message) {
      try {
        const created = await client.messages.create({ to: message.to, body: message.text, ...sender });
        deps.logger.info({ challenge: message.challengeId, messageSid: created.sid }, 'Twilio text accepted');
      } catch (error) {
        const failure = twilioFailure('text message', error);
        deps.logger.warn(
          { challenge: message.challengeId, to: maskedNumber(message.to), code: failure.code },
          failure.message,
        );
        throw failure;
      }
    },
    async close() {},
  };
}
