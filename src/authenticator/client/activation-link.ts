/** Where to activate: the API URL inside the QR link, or a typed code with the server's address. */
export function activationUrl(input: string, server?: string): URL {
  const text = input.trim();
  if (text.length > 2048) throw new Error('the link is too long');
  const fragment = /#activate=(.+)$/.exec(text)?.[1];
  const candidate = fragment ? decodeURIComponent(fragment) : text;
  if (/^https?:\/\//.test(candidate)) {
    const url = new URL(candidate);
    if (!/\/api\/authenticator\/v1\/activations\/[A-Z2-9]{20}$/.test(url.pathname))
      throw new Error('not an activation link');
    return url;
  }
  const code = candidate.replace(/[\s-]/g, '').toUpperCase();
  if (!/^[A-HJ-NP-Z2-9]{20}$/.test(code)) throw new Error('not an activation code');
  if (!server) throw new Error('give the server address with a typed code');
  return new URL(`/api/authenticator/v1/activations/${code}`, server);
}
