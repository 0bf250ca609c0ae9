// Progressive enhancement for the pages that wait for the authenticator app (or a call): move on
// by itself, so the user does not have to press anything. Without JavaScript the page's own
// button does the same.
//
// With an events URL the server says when something changed (server-sent events) and the page
// then asks the status URL once; when the events cannot be had (a proxy that buffers them, say)
// it falls back to asking every few seconds. Without one it asks every 1.5 seconds.
const root = document.querySelector('[data-wait-status-url]');
if (root) {
  const statusUrl = root.getAttribute('data-wait-status-url');
  const eventsUrl = root.getAttribute('data-wait-events-url');
  const initial = root.getAttribute('data-wait-initial');
  let done = false;
  let timer;
  let source;
  let failures = 0;

  // One status request at a time: the answer that moves the session on also renews its cookie, so
  // a second request sent beside it carries the old one and would read "signed out". A check asked
  // for meanwhile runs once the one in flight has answered.
  let inFlight = false;
  let again = false;
  const check = async () => {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      await checkOnce();
    } finally {
      inFlight = false;
      if (again && !done) {
        again = false;
        check();
      }
    }
  };

  const checkOnce = async () => {
    if (done) return;
    try {
      const response = await fetch(statusUrl, {
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (!response.ok) return;
      const { status, next } = await response.json();
      if (status === initial || done) return;
      done = true;
      clearInterval(timer);
      source?.close();
      window.location.assign(next || window.location.href);
    } catch {
      // A network blip: the next event or tick asks again.
    }
  };

  const poll = (ms) => {
    clearInterval(timer);
    timer = setInterval(check, ms);
  };

  if (eventsUrl && typeof EventSource === 'function') {
    source = new EventSource(eventsUrl, { withCredentials: true });
    // On (re)connecting the page asks once, so nothing that changed meanwhile is missed.
    source.addEventListener('ready', () => {
      failures = 0;
      check();
    });
    source.addEventListener('changed', check);
    source.addEventListener('error', () => {
      // EventSource reconnects by itself; when it gives up (a refusal) or keeps failing, the
      // page asks slowly instead.
      failures += 1;
      if ((failures >= 3 || source.readyState === EventSource.CLOSED) && !done) {
        source.close();
        poll(5000);
        check();
      }
    });
  } else {
    poll(1500);
  }
}
