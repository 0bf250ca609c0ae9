import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort, isListening } from './ports.ts';

const MODULES = '/usr/lib/apache2/modules';

/** One application behind Apache with mod_auth_openidc: its own port (origin) and OpenID client. */
export interface ApacheSite {
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** mod_auth_openidc's own redirect URI (register it with the portal). */
  redirectUri: string;
  /** Where RP-initiated logout comes back to (register it as a post_logout_redirect_uri). */
  loggedOutUrl: string;
  /** The page that needs a sign-in; it shows the claims mod_auth_openidc passed on. */
  protectedUrl: string;
  /** Starts RP-initiated logout, as an application's Sign out link does. */
  logoutUrl: string;
}

export interface Apache {
  sites: ApacheSite[];
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Free ports and addresses for the sites, known before the portal registers them: Apache itself
 * starts later (`startApache`) with the client ids and secrets the portal printed.
 */
export async function apacheSites(count: number): Promise<ApacheSite[]> {
  const sites: ApacheSite[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freeTcpPort();
    const url = `http://127.0.0.1:${port}`;
    sites.push({
      port,
      url,
      redirectUri: `${url}/protected/redirect_uri`,
      loggedOutUrl: `${url}/logged-out.html`,
      protectedUrl: `${url}/protected/`,
      logoutUrl: `${url}/protected/redirect_uri?logout=${encodeURIComponent(`${url}/logged-out.html`)}`,
    });
  }
  return sites;
}

export interface SiteClient {
  clientId: string;
  clientSecret: string;
  /** Extra authorization request parameters, e.g. `acr_values=urn:gatehouse:acr:mfa`. */
  authRequestParams?: string;
}

/**
 * Apache httpd with mod_auth_openidc (Debian's packages) as a relying party, started by the test
 * as the current user with a configuration of its own in a temporary folder (its own PidFile,
 * ErrorLog, runtime folder), on loopback ports only. Each site protects /protected/ with
 * `AuthType openid-connect`; the page there is server-side includes printing the claims
 * mod_auth_openidc puts in the environment (OIDC_CLAIM_acr, OIDC_CLAIM_amr, OIDC_CLAIM_email).
 */
export async function startApache(
  issuer: string,
  sites: ApacheSite[],
  clients: SiteClient[],
  options: { caBundle?: string } = {},
): Promise<Apache> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-apache-'));
  const htdocs = join(dir, 'htdocs');
  mkdirSync(join(htdocs, 'protected'), { recursive: true });
  mkdirSync(join(dir, 'run'));
  writeFileSync(
    join(htdocs, 'protected', 'index.shtml'),
    [
      '<!DOCTYPE html><html lang="en"><head><title>Protected page</title></head><body><main>',
      '<h1>Protected page</h1>',
      '<p>email: <span id="email"><!--#echo var="OIDC_CLAIM_email" --></span></p>',
      '<p>acr: <span id="acr"><!--#echo var="OIDC_CLAIM_acr" --></span></p>',
      '<p>amr: <span id="amr"><!--#echo var="OIDC_CLAIM_amr" --></span></p>',
      '</main></body></html>',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(htdocs, 'logged-out.html'),
    '<!DOCTYPE html><html lang="en"><head><title>Signed out</title></head><body><main><h1>Signed out of the application</h1></main></body></html>\n',
  );
  writeFileSync(
    join(htdocs, 'index.html'),
    '<!DOCTYPE html><html lang="en"><head><title>App</title></head><body><main><h1>App</h1></main></body></html>\n',
  );
  // Workers run as nobody when the test runs as root (Apache will not run them as root).
  const root = process.getuid?.() === 0;
  if (root) chmodSync(dir, 0o755);
  // mod_auth_openidc reads the CA bundle in the workers: a copy of it they can read.
  const caBundle = options.caBundle ? join(dir, 'ca-bundle.pem') : undefined;
  if (options.caBundle && caBundle) copyFileSync(options.caBundle, caBundle);
  const modules = [
    ['mpm_event_module', 'mod_mpm_event.so'],
    ['authn_core_module', 'mod_authn_core.so'],
    ['authz_core_module', 'mod_authz_core.so'],
    ['authz_user_module', 'mod_authz_user.so'],
    ['mime_module', 'mod_mime.so'],
    ['dir_module', 'mod_dir.so'],
    ['include_module', 'mod_include.so'],
    ['auth_openidc_module', 'mod_auth_openidc.so'],
  ];
  const vhosts = sites.map((site, i) => {
    const client = clients[i];
    if (!client) throw new Error(`no client for site ${site.url}`);
    return `
<VirtualHost 127.0.0.1:${site.port}>
  ServerName 127.0.0.1:${site.port}
  DocumentRoot "${htdocs}"
  OIDCProviderMetadataURL ${issuer}/.well-known/openid-configuration
  OIDCClientID ${client.clientId}
  OIDCClientSecret ${client.clientSecret}
  OIDCRedirectURI ${site.redirectUri}
  OIDCCryptoPassphrase apache-test-passphrase-${i}-0123456789
  OIDCPKCEMethod S256
  OIDCScope "openid email profile"
  OIDCRemoteUserClaim email
  OIDCCookieSameSite On
  OIDCSessionInactivityTimeout 3600
  OIDCCacheShmMax 1000
  ${caBundle ? `OIDCCABundlePath ${caBundle}` : ''}
  ${client.authRequestParams ? `OIDCAuthRequestParams ${client.authRequestParams}` : ''}
  <Location /protected>
    AuthType openid-connect
    Require valid-user
  </Location>
</VirtualHost>`;
  });
  const conf = join(dir, 'httpd.conf');
  writeFileSync(
    conf,
    `${modules.map(([name, file]) => `LoadModule ${name} ${MODULES}/${file}`).join('\n')}
ServerRoot "${dir}"
DefaultRuntimeDir "${dir}/run"
PidFile "${dir}/run/httpd.pid"
ErrorLog "${dir}/error.log"
LogLevel warn auth_openidc:info
ServerName 127.0.0.1
${root ? 'User nobody\nGroup nogroup' : ''}
${sites.map((s) => `Listen 127.0.0.1:${s.port}`).join('\n')}
TypesConfig /etc/mime.types
DocumentRoot "${htdocs}"
DirectoryIndex index.shtml index.html
AddType text/html .shtml
AddOutputFilter INCLUDES .shtml
<Directory "${htdocs}">
  Options +Includes
  Require all granted
</Directory>
${vhosts.join('\n')}
`,
  );
  const child: ChildProcess = spawn('apache2', ['-f', conf, '-DFOREGROUND'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
        throw new Error(`Apache did not start:\n${log}`);
      }
      await sleep(50);
    }
  }
  return { sites, errorLog, stop };
}
