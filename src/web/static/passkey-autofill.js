// The sign-in page. Where the browser can offer passkeys among the email field's suggestions
// (conditional mediation: autocomplete="username webauthn"), this asks the portal for options
// once per page view (the options route is limited per address) and waits for the user to choose
// a passkey there; the chosen passkey's answer is posted like the `Sign in with a passkey` page's.
// Without this script, or without conditional mediation, the page is the password form as ever.
const form = document.querySelector('form[data-passkey-autofill]');
const webauthn = window.SimpleWebAuthnBrowser;

/** Ends the waiting request (it rejects with an AbortError, which is then ignored). */
function cancelWaiting() {
  webauthn?.WebAuthnAbortService?.cancelCeremony();
}

async function conditionalMediation() {
  try {
    return Boolean(await window.PublicKeyCredential?.isConditionalMediationAvailable?.());
  } catch {
    return false;
  }
}

async function offerPasskeys() {
  if (!form || !webauthn?.browserSupportsWebAuthn() || !(await conditionalMediation())) return;
  let options;
  try {
    const body = new URLSearchParams({ _csrf: form.elements._csrf.value });
    const answer = await fetch(form.dataset.options, { method: 'POST', body, credentials: 'same-origin' });
    if (!answer.ok) return; // e.g. the address's quota: the password and the passkey page remain
    options = await answer.json();
  } catch {
    return;
  }
  let credential;
  try {
    credential = await webauthn.startAuthentication({ optionsJSON: options, useBrowserAutofill: true });
  } catch {
    // Cancelled because the user went another way (the password, the passkey page), or timed
    // out: nothing to say; the page works as before.
    return;
  }
  form.elements.credential.value = JSON.stringify(credential);
  form.submit();
}

// Going another way ends the waiting request first. (`Sign in with a passkey` starts a ceremony
// of its own on its page, which would also cancel this one; a navigation ends it anyway.)
document.querySelector('form[action="/signin"]')?.addEventListener('submit', cancelWaiting);
document.querySelector('a[data-passkey-page]')?.addEventListener('click', cancelWaiting);
window.addEventListener('pagehide', cancelWaiting);

offerPasskeys();
