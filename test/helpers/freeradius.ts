import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.ts';

/** A realm FreeRADIUS proxies to: a home server (the gateway) seen from its own source address. */
export interface HomeRealm {
  name: string;
  port: number;
  secret: string;
  /** The address FreeRADIUS sends from (src_ipaddr), which the gateway knows the client by. */
  sourceAddress: string;
}

export interface FreeRadius {
  /** The authentication port on 127.0.0.1. */
  port: number;
  /** The shared secret of its own client, 127.0.0.1 (radtest, radclient). */
  secret: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * A real FreeRADIUS 3 (`freeradius -X`) as an organisation's existing RADIUS server, in a folder
 * of its own (a minimal raddb, not a copy of /etc/freeradius), on a free port, as the current
 * user: every Access-Request is proxied to a realm, chosen by the NAS-Identifier the client sends
 * (`realms[0]` when it names none), with `require_message_authenticator = yes` to the gateway.
 */
export async function startFreeRadius(realms: HomeRealm[]): Promise<FreeRadius> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-freeradius-'));
  for (const sub of ['log', 'run', 'radacct']) mkdirSync(join(dir, sub));
  const port = await freePort();
  const secret = 'local-radtest-secret-0123456789';
  const [first] = realms;
  if (!first) throw new Error('at least one realm');
  const routing = realms
    .slice(1)
    .map(
      (r) =>
        `    if (&NAS-Identifier == "${r.name}") {\n      update control {\n        &Proxy-To-Realm := "${r.name}"\n      }\n    }`,
    )
    .join('\n');
  writeFileSync(join(dir, 'dictionary'), '');
  writeFileSync(
    join(dir, 'radiusd.conf'),
    `
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = ${dir}/log
raddbdir = ${dir}
radacctdir = ${dir}/radacct
name = freeradius
confdir = ${dir}
modconfdir = ${dir}/mods-config
certdir = ${dir}/certs
cadir = ${dir}/certs
run_dir = ${dir}/run
db_dir = ${dir}
libdir = /usr/lib/freeradius
pidfile = ${dir}/run/freeradius.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {
  destination = stdout
  auth = yes
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}
proxy_requests = yes
$INCLUDE proxy.conf
$INCLUDE clients.conf
thread pool {
  start_servers = 1
  max_servers = 4
  min_spare_servers = 1
  max_spare_servers = 2
  max_requests_per_server = 0
}
modules {
}
instantiate {
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = ${port}
  }
  authorize {
    update control {
      &Proxy-To-Realm := "${first.name}"
    }
${routing}
  }
  authenticate {
  }
  post-auth {
  }
}
`,
  );
  writeFileSync(
    join(dir, 'clients.conf'),
    `client radtest {\n  ipaddr = 127.0.0.1\n  secret = ${secret}\n  require_message_authenticator = no\n}\n`,
  );
  writeFileSync(
    join(dir, 'proxy.conf'),
    `proxy server {\n  default_fallback = no\n}\n${realms
      .map(
        (r) => `
home_server ${r.name} {
  type = auth
  ipaddr = 127.0.0.1
  port = ${r.port}
  src_ipaddr = ${r.sourceAddress}
  secret = ${r.secret}
  require_message_authenticator = yes
  response_window = 20
  zombie_period = 40
  revive_interval = 10
  status_check = none
}
home_server_pool ${r.name} {
  type = fail-over
  home_server = ${r.name}
}
realm ${r.name} {
  auth_pool = ${r.name}
  nostrip
}
`,
      )
      .join('')}`,
    { mode: 0o600 },
  );
  const child: ChildProcess = spawn('freeradius', ['-X', '-d', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output = `${output}${d}`.slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  for (let waited = 0; !output.includes('Ready to process requests'); waited += 100) {
    if (child.exitCode !== null) throw new Error(`freeradius exited:\n${output}`);
    if (waited > 20_000) throw new Error(`freeradius did not start:\n${output}`);
    await sleep(100);
  }
  return {
    port,
    secret,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
