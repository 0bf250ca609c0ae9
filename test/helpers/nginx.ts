import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isListening } from './ports.ts';

/** One TLS server block of nginx, proxying to a backend on plain HTTP. */
export interface NginxSite {
  port: number;
  backend: string;
  /** The server's certificate and key (PEM files). */
  certFile: string;
  keyFile: string;
  /** Send X-Forwarded-Proto, -For and -Host, as a proxy in front of Gatehouse must. */
  forwardedHeaders: boolean;
  /** Ask for a client certificate (ssl_verify_client on) issued by this CA file, and pass it on in a header. */
  clientCa?: string;
  certificateHeader?: string;
}

export interface Nginx {
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * nginx (Debian's package) terminating TLS in front of the portal, started by the test as the
 * current user with a configuration of its own in a temporary folder (pid, logs, temp paths), on
 * loopback ports only, in the foreground (daemon off) so the test stops it by its process.
 */
export async function startNginx(sites: NginxSite[]): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'));
  const root = process.getuid?.() === 0;
  // Workers run as nobody when the test runs as root: their temporary folders must be theirs.
  for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(dir, temp));
    if (root) chmodSync(join(dir, temp), 0o777);
  }
  if (root) chmodSync(dir, 0o755);
  const servers = sites.map(
    (site) => `
  server {
    listen 127.0.0.1:${site.port} ssl;
    server_name 127.0.0.1;
    ssl_certificate ${site.certFile};
    ssl_certificate_key ${site.keyFile};
    ${site.clientCa ? `ssl_verify_client on;\n    ssl_client_certificate ${site.clientCa};\n    ssl_verify_depth 3;` : ''}
    location / {
      proxy_pass ${site.backend};
      proxy_http_version 1.1;
      # The host and port the browser used, as the portal must name itself (issuer, QR codes).
      proxy_set_header Host $http_host;
      ${
        site.forwardedHeaders
          ? `proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Host $http_host;`
          : ''
      }
      ${site.clientCa ? `proxy_set_header ${site.certificateHeader ?? 'X-SSL-Client-Cert'} $ssl_client_escaped_cert;` : ''}
      # Server-sent events (the waiting pages) go through at once.
      proxy_buffering off;
    }
  }`,
  );
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process on;
worker_processes 1;
${root ? 'user nobody nogroup;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${servers.join('\n')}
}
`,
  );
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  const errorLog = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(5000)]);
      if (!exited) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (const site of sites) {
    for (let waited = 0; !(await isListening(site.port)); waited += 50) {
      if (exited || waited > 10_000) {
        const log = `${output}\n${errorLog()}`;
        await stop();
        throw new Error(`nginx did not start:\n${log}`);
      }
      await sleep(50);
    }
  }
  return { errorLog, stop };
}
