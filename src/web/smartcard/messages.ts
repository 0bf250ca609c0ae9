import type { ErrorCode } from '../../core/errors.ts';

/** What people are told when their card is not accepted: what happened, and what to do. */
const messages: Partial<Record<ErrorCode, string>> = {
  certificate_missing:
    'No smartcard was found. Check that your smartcard is in the card reader, then select Try again. If your browser asks you to choose a certificate, choose the one on your smartcard.',
  certificate_invalid:
    'The certificate on your smartcard could not be read. Select Try again. If this happens again, contact your IT service desk.',
  certificate_untrusted:
    'Your smartcard was not issued by an organisation this service trusts. Contact your IT service desk.',
  certificate_expired:
    'The certificate on your smartcard has expired. Contact your Registration Authority or IT service desk to renew it.',
  certificate_not_yet_valid:
    'The certificate on your smartcard is not valid yet. Check the date and time on your computer, then select Try again.',
  certificate_wrong_usage:
    'The certificate you chose cannot be used to sign in. Select Try again and choose the certificate on your smartcard.',
  certificate_revoked:
    'Your smartcard has been cancelled and can no longer be used. Contact your Registration Authority or IT service desk.',
  certificate_revocation_unknown:
    'We could not check that your smartcard is still valid. Try again in a few minutes, or sign in with your email address and password.',
  certificate_not_mapped:
    'Your smartcard is not linked to an account here. Sign in with your email address and password, then add your smartcard in Security info.',
  certificate_already_bound: 'This smartcard is already linked to an account.',
  certificate_ticket_invalid:
    'Your smartcard sign-in took too long, or was started in another browser or tab. Start again from the sign-in page.',
  certificate_binding_not_found: 'That smartcard is no longer linked to your account.',
};

export function certificateMessage(code: ErrorCode): string {
  return messages[code] ?? 'Your smartcard could not be used. Contact your IT service desk.';
}
