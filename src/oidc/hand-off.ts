/**
 * How the browser leaves the portal for an application: the answer to a sign-in (or its
 * refusal), and the way back after RP-initiated logout. Every sign-in method ends at
 * GET /interaction/:uid (interactions.ts), and logout at /oidc/session/end/confirm (provider.ts):
 * both hand off here, so a method added later (passkeys, a Temporary Access Pass) needs nothing
 * of its own to reach an application on another origin.
 *
 * Why a page and not a redirect. The portal's CSP has `form-action 'self'`, and browsers apply
 * form-action to every redirect that follows a form submission (CSP 3, "should navigation request
 * be blocked": Chromium checks each hop). A sign-in finishes with a form (the password, a code,
 * `Done`, `Sign out`), whose redirects end at the application's redirect_uri on another origin:
 * refused. Listing the applications' origins in form-action instead would make the header depend
 * on the database (applications are added while the portal runs, by another process), grow with
 * every application, and still break when an application's callback redirects on to another
 * origin of its own (a load balancer's, a second hop of its sign-in). So the chain of redirects
 * that follows a form ends on this page, on the portal's own origin (every hop so far is 'self'),
 * and the page starts a new navigation that is not a form submission: a meta refresh (works
 * without JavaScript; a delay of 0 is what WCAG allows, and what axe accepts), and a link for
 * browsers that have refreshes turned off. Never a form here: a form's own redirects would be
 * checked again. The CSP stays exactly as strict: form-action 'self', nothing added.
 */
export const HAND_OFF_TEMPLATE = 'hand-off';

export type HandOff =
  | { purpose: 'sign_in' }
  | { purpose: 'sign_out' }
  /** The application demands MFA and the account has none: said here, then the application is told. */
  | { purpose: 'mfa_required'; application: string }
  /** The application (or the account's group) needs a passkey or smartcard, and the account has no passkey. */
  | { purpose: 'phishing_resistant_required'; application: string };

/**
 * The page's context: `next` is where the browser goes (the provider's resume URL, or the
 * application). A refusal waits for the user to read it; the others move on at once.
 */
export function handOffPage(next: string, handOff: HandOff) {
  switch (handOff.purpose) {
    case 'sign_in':
      return page(next, 'Signing you in', ['You are being taken back to the application.'], 'Continue');
    case 'sign_out':
      return page(
        next,
        'You have signed out',
        ['You are being taken back to the application you signed out of.'],
        'Continue',
      );
    case 'mfa_required':
      return {
        ...page(
          next,
          `${handOff.application} needs multi-factor authentication`,
          [
            `${handOff.application} can only be used after signing in with multi-factor authentication (MFA), which is not set up on your account.`,
            'To set it up, select Profile, then My Profile, then Self-Service, and then Self-enrol. If you cannot, ask your IT team.',
          ],
          `Return to ${handOff.application}`,
        ),
        automatic: false,
      };
    case 'phishing_resistant_required':
      return {
        ...page(
          next,
          `${handOff.application} needs a passkey or a smartcard`,
          [
            `${handOff.application} can only be used after signing in with a passkey or a smartcard, which a fake website cannot use. Your account has no passkey yet.`,
            'To create one, select Profile, then Security info, then Add sign-in method, then I want to set up a different method, and choose Passkey. Or sign in with your smartcard (Log in with my Care identity). Then open the application again.',
          ],
          `Return to ${handOff.application}`,
        ),
        automatic: false,
      };
  }
}

function page(next: string, title: string, paragraphs: string[], linkText: string) {
  return { title, heading: title, paragraphs, next, linkText, automatic: true };
}
