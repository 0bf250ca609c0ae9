import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TwilioForm } from './twilio-stand-in.ts';

/**
 * X-Twilio-Signature as Twilio computes it, by hand: HMAC-SHA1 with the auth token over the full
 * URL followed by each form field's name and value, fields sorted by name; base64.
 */
export function twilioSignature(authToken: string, url: string, form: TwilioForm): string {
  const data = Object.keys(form)
    .sort()
    .reduce((text, key) => {
      const value = form[key]!;
      return (
        text +
        (Array.isArray(value)
          ? [...value]
              .sort()
              .map((v) => key + v)
              .join('')
          : key + value)
      );
    }, url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** Twilio's own request to the portal: a form POST signed for `publicUrl` + `path`. */
export function postAsTwilio(
  app: FastifyInstance,
  options: {
    authToken: string;
    publicUrl: string;
    path: string;
    form: TwilioForm;
    signature?: string | null;
  },
) {
  const signature =
    options.signature === undefined
      ? twilioSignature(options.authToken, `${options.publicUrl}${options.path}`, options.form)
      : options.signature;
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(options.form))
    for (const v of [value].flat()) body.append(key, v);
  return app.inject({
    method: 'POST',
    url: options.path,
    remoteAddress: '54.172.60.1',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature === null ? {} : { 'x-twilio-signature': signature }),
    },
    payload: body.toString(),
  });
}
