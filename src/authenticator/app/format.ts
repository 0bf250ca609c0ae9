/** Pure helpers of the app's screens, tested without a browser. */

/** "123456" as "123 456", easier to read and type. */
export function groupCode(code: string): string {
  return code.length === 6 ? `${code.slice(0, 3)} ${code.slice(3)}` : code;
}

/** Seconds until the code of a `period`-second step changes. */
export function secondsLeft(now: number, period = 30): number {
  return period - (Math.floor(now / 1000) % period);
}

/** The activation link in a location's fragment (`#activate=…`), or undefined. */
export function activationFromHash(hash: string): string | undefined {
  const match = /^#activate=(.+)$/.exec(hash);
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}

/** The host a server address is shown by ("portal.example.org"). */
export function hostOf(server: string): string {
  try {
    return new URL(server).host;
  } catch {
    return server;
  }
}

/** The two digits typed, without spaces; undefined when they are not two digits. */
export function typedNumber(text: string): string | undefined {
  const digits = text.replace(/\s/g, '');
  return /^\d{2}$/.test(digits) ? digits : undefined;
}

/** The name the server records for this device, from the browser's description of itself. */
export function deviceNameFor(userAgent: string): string {
  const platform = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iPhone'
      : /Mac OS X/.test(userAgent)
        ? 'Mac'
        : /Windows/.test(userAgent)
          ? 'Windows'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : 'a browser';
  return `Gatehouse web app on ${platform}`;
}

/** A time of day as people read it here ("14:05"). */
export function timeOfDay(iso: string, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return date.toLocaleTimeString(locale ?? 'en-GB', { hour: '2-digit', minute: '2-digit' });
}

/** base64url (VAPID key) to bytes, for PushManager.subscribe. */
export function base64urlBytes(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replaceAll('-', '+').replaceAll('_', '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)) as Uint8Array<ArrayBuffer>;
}
