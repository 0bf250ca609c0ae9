import type * as oidc from 'openid-client';

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const layout = (title: string, body: string) => `<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - Mail</title><link rel="stylesheet" href="/mail.css"></head>
<body><header>Mail</header><main>${body}</main></body></html>`;

export function signedOutPage(message?: string): string {
  return layout(
    'Sign in',
    `<h1>Mail</h1>${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<p>Sign in with your organisation account to read your mail.</p>
<form method="post" action="/login"><button type="submit">Sign in</button></form>`,
  );
}

/** What the ID token says about how the user signed in, in words. */
function howSignedIn(claims: oidc.IDToken): string {
  const amr = Array.isArray(claims.amr) ? claims.amr.map(String) : [];
  const ways = [
    amr.includes('pwd') && 'password',
    amr.includes('swk') && 'approval in the authenticator app',
    amr.includes('otp') && 'verification code',
    amr.includes('tel') && 'phone call',
    amr.includes('sms') && 'text message',
    amr.includes('sc') && 'smartcard',
  ].filter(Boolean);
  return `${ways.join(' and ') || 'unknown'} (amr: ${amr.join(', ')}; acr: ${String(claims.acr ?? 'none')})`;
}

export function inboxPage(user: { name: string; email: string; claims: oidc.IDToken }): string {
  return layout(
    'Inbox',
    `<h1>Inbox</h1>
<dl><dt>Signed in as</dt><dd id="user">${escapeHtml(user.name)} (${escapeHtml(user.email)})</dd>
<dt>Signed in with</dt><dd id="how">${escapeHtml(howSignedIn(user.claims))}</dd></dl>
<p>You have no new messages.</p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
  );
}
