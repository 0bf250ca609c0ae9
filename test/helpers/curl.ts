import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CurlResponse {
  status: number;
  body: string;
}

/**
 * A request by Debian's curl, a real TLS client, optionally presenting a client certificate.
 * Asynchronous: the server under test runs in this same process.
 */
export async function curl(
  url: string,
  options: {
    cert?: { certFile: string; keyFile: string };
    caFile?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<CurlResponse> {
  const args = [
    '--silent',
    '--show-error',
    '--max-time',
    '20',
    '--output',
    '-',
    '--write-out',
    '\n%{http_code}',
  ];
  if (options.caFile) args.push('--cacert', options.caFile);
  if (options.cert) args.push('--cert', options.cert.certFile, '--key', options.cert.keyFile);
  for (const [name, value] of Object.entries(options.headers ?? {}))
    args.push('--header', `${name}: ${value}`);
  args.push(url);
  const { stdout } = await run('curl', args, { maxBuffer: 10 * 1024 * 1024 });
  const split = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(split + 1)), body: stdout.slice(0, split) };
}

/** The `Next` link of a certificate endpoint page. */
export function nextLink(html: string): string {
  const href = /<a\b[^>]*href="([^"]+)"[^>]*>\s*Next\s*<\/a>/.exec(html)?.[1];
  if (!href) throw new Error(`no Next link in:\n${html}`);
  return href.replaceAll('&amp;', '&');
}
