// The passkey pages (create, use, sign in with): without this script (or WebAuthn) the form stays
// hidden and the page explains why. With it, the button asks the portal for options (a challenge
// bound to this session), lets the browser create or use the passkey, and posts its answer.
const form = document.querySelector('form[data-passkey]');
const webauthn = window.SimpleWebAuthnBrowser;

function showProblem(text) {
  const problem = document.getElementById('passkey-problem');
  if (!problem) return;
  problem.textContent = text;
  problem.hidden = false;
}

// The script runs: the page's explanation that a passkey needs JavaScript goes.
const needsScript = document.getElementById('passkey-needs-script');
if (form && needsScript) needsScript.hidden = true;

if (form && !webauthn?.browserSupportsWebAuthn()) {
  const unsupported = document.getElementById('passkey-unsupported');
  if (unsupported) unsupported.hidden = false;
} else if (form) {
  form.hidden = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    if (button) button.disabled = true;
    try {
      const body = new URLSearchParams({ _csrf: form.elements._csrf.value });
      const answer = await fetch(form.dataset.options, { method: 'POST', body, credentials: 'same-origin' });
      const options = await answer.json();
      if (!answer.ok) throw new Error(options.error ?? 'The portal could not start the passkey request.');
      const credential =
        form.dataset.passkey === 'register'
          ? await webauthn.startRegistration({ optionsJSON: options })
          : await webauthn.startAuthentication({ optionsJSON: options });
      form.elements.credential.value = JSON.stringify(credential);
      form.submit();
    } catch (error) {
      const cancelled = error && (error.name === 'NotAllowedError' || error.name === 'AbortError');
      showProblem(
        cancelled
          ? 'The passkey request was cancelled or timed out. Select the button to try again, or choose a different method.'
          : String(error?.message ?? error),
      );
      if (button) button.disabled = false;
    }
  });
}
