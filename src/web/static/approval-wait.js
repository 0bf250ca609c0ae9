// Progressive enhancement for the pages that wait for the authenticator app: ask the server
// every 1.5 seconds and move on by itself, so the user does not have to press anything. Without
// JavaScript the page's own button does the same.
const root = document.querySelector('[data-wait-status-url]');
if (root) {
  const statusUrl = root.getAttribute('data-wait-status-url');
  const initial = root.getAttribute('data-wait-initial');
  const timer = setInterval(async () => {
    try {
      const response = await fetch(statusUrl, {
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (!response.ok) return;
      const { status, next } = await response.json();
      if (status === initial) return;
      clearInterval(timer);
      window.location.assign(next || window.location.href);
    } catch {
      // A network blip: try again at the next tick.
    }
  }, 1500);
}
