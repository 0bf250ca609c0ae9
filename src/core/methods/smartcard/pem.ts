/** The DER bytes of each PEM block with `label` in `text` (a bundle may hold many). */
export function pemBlocks(text: string, label: string): Buffer[] {
  const pattern = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)-----END ${label}-----`, 'g');
  return [...text.matchAll(pattern)].map((match) =>
    Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'base64'),
  );
}

export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** PEM or DER, as DER. A file of either kind can be given by an operator. */
export function derOf(bytes: Buffer, label: string): Buffer[] {
  const text = bytes.toString('latin1');
  return text.includes(`-----BEGIN ${label}-----`) ? pemBlocks(text, label) : [bytes];
}
