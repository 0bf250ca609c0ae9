import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort } from './ports.ts';

/**
 * How Dovecot finds the DN it binds as: `userdn` from a template (auth_bind_userdn), or `search`,
 * the usual set-up, a search with its own service account first (dn/dnpass, pass_filter).
 */
export type DovecotBindMode =
  | { kind: 'userdn' }
  | { kind: 'search'; serviceDn: string; servicePassword: string };

export interface Dovecot {
  /** The IMAP port on 127.0.0.1. */
  port: number;
  /** Dovecot's own log (authentication errors are there). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * A real Dovecot (dovecot-imapd, dovecot-ldap) as the current user, in a folder of its own, on a
 * free port: IMAP with a passdb of driver ldap on the gateway (StartTLS, checked against `caCert`),
 * auth_bind = yes; its authentication cache off, so a revoked app password stops at once.
 */
export async function startDovecot(options: {
  ldapPort: number;
  baseDn: string;
  /** The gateway's certificate (PEM), which Dovecot checks on StartTLS. */
  caCert: string;
  mode: DovecotBindMode;
}): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-dovecot-'));
  for (const sub of ['run', 'state', 'mail']) mkdirSync(join(dir, sub));
  const port = await freeTcpPort();
  const users = processUsers();
  const ldapConf = join(dir, 'dovecot-ldap.conf.ext');
  const ldapLines = [
    `uris = ldap://127.0.0.1:${options.ldapPort}`,
    'ldap_version = 3',
    'tls = yes',
    `tls_ca_cert_file = ${join(dir, 'ca.pem')}`,
    'tls_require_cert = demand',
    'auth_bind = yes',
    `base = ${options.baseDn}`,
  ];
  if (options.mode.kind === 'userdn') ldapLines.push(`auth_bind_userdn = uid=%u,${options.baseDn}`);
  else {
    ldapLines.push(
      `dn = ${options.mode.serviceDn}`,
      `dnpass = ${options.mode.servicePassword}`,
      'scope = subtree',
      'pass_filter = (&(objectClass=inetOrgPerson)(uid=%u))',
      'pass_attrs = uid=user',
    );
  }
  writeFileSync(join(dir, 'ca.pem'), options.caCert, { mode: 0o644 });
  writeFileSync(ldapConf, `${ldapLines.join('\n')}\n`, { mode: 0o600 });
  // Dovecot's authentication process runs as its internal user: it reads this file and the mail.
  chmodSync(dir, 0o711);
  chownSync(ldapConf, users.internal.uid, users.internal.gid);
  chownSync(join(dir, 'mail'), users.mail.uid, users.mail.gid);
  const logFile = join(dir, 'dovecot.log');
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    `
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = gatehouse-test-${port}
log_path = ${logFile}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_cache_size = 0
auth_verbose = yes
default_internal_user = ${users.internal.name}
default_internal_group = ${users.internal.group}
default_login_user = ${users.login}
first_valid_uid = ${users.mail.uid}
last_valid_uid = ${users.mail.uid}
first_valid_gid = ${users.mail.gid}
mail_location = maildir:${dir}/mail/%u
passdb {
  driver = ldap
  args = ${ldapConf}
}
userdb {
  driver = static
  args = uid=${users.mail.uid} gid=${users.mail.gid} home=${dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service anvil {
  chroot =
}
`,
  );
  const child: ChildProcess = spawn('dovecot', ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const log = () => {
    let file = '';
    try {
      file = readFileSync(logFile, 'utf8');
    } catch {}
    return `${output}${file}`;
  };
  for (let waited = 0; ; waited += 100) {
    if (child.exitCode !== null) throw new Error(`dovecot exited:\n${log()}`);
    if (await listening(port)) break;
    if (waited > 20_000) throw new Error(`dovecot did not listen:\n${log()}`);
    await sleep(100);
  }
  return {
    port,
    log,
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

/**
 * Who Dovecot's processes run as. As an ordinary user: that user for everything (Dovecot cannot
 * change user). As root (CI): Dovecot refuses root for its login processes, so the package's own
 * unprivileged users, dovecot and dovenull, as a packaged Dovecot would; mail is owned by dovecot.
 */
function processUsers() {
  const me = userInfo();
  if (me.uid !== 0) {
    const self = { name: me.username, group: groupName(me.gid), uid: me.uid, gid: me.gid };
    return { internal: self, login: me.username, mail: self };
  }
  const dovecot = passwdEntry('dovecot');
  return { internal: dovecot, login: 'dovenull', mail: dovecot };
}

function passwdEntry(name: string) {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no ${name} user: is dovecot-core installed?`);
  const [, , uid = '', gid = ''] = line.split(':');
  return { name, group: groupName(Number(gid)), uid: Number(uid), gid: Number(gid) };
}

function groupName(gid: number): string {
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[2] === String(gid));
  return line?.split(':')[0] ?? String(gid);
}

function listening(port: number) {
  return new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
