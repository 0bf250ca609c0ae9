import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PamRadius {
  /** The PAM service name (a file in /etc/pam.d of this test's own). */
  service: string;
  /** `pamtester <service> <user> authenticate`, the password typed on its standard input. */
  authenticate(user: string, password: string): Promise<{ code: number | null; out: string }>;
  /** Removes the PAM service file and the server list. */
  remove(): void;
}

/**
 * pam_radius_auth (libpam-radius-auth) as a Linux host's login would use it, driven by pamtester.
 * pamtester only reads services from /etc/pam.d, so the service gets a unique name there, removed
 * by `remove()`; the server list (conf=) sits in a temporary folder. `sourceAddress` is the
 * address the module sends from, which is how the gateway tells this client from others.
 */
export function pamRadius(options: {
  port: number;
  secret: string;
  sourceAddress: string;
  timeoutSeconds?: number;
}): PamRadius {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pam-radius-'));
  const servers = join(dir, 'pam_radius_auth.conf');
  // server[:port] shared_secret timeout source_ip
  writeFileSync(
    servers,
    `127.0.0.1:${options.port} ${options.secret} ${options.timeoutSeconds ?? 2} ${options.sourceAddress}\n`,
    { mode: 0o600 },
  );
  const service = `gatehouse-test-${randomBytes(6).toString('hex')}`;
  const file = join('/etc/pam.d', service);
  writeFileSync(
    file,
    `auth required pam_radius_auth.so conf=${servers} debug\naccount required pam_permit.so\n`,
  );
  return {
    service,
    authenticate(user, password) {
      return new Promise((resolve) => {
        const child = spawn('pamtester', ['-v', service, user, 'authenticate']);
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('close', (code) => resolve({ code, out }));
        child.stdin.end(`${password}\n`);
      });
    },
    remove() {
      rmSync(file, { force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
