import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { type NoticeSender, startNoticeSender } from '../../src/channels/mail/notice-sender.ts';
import { smtpConfigSchema } from '../../src/channels/mail/settings.ts';
import { aesGcmSecretBox } from '../../src/core/crypto/secret-box.ts';
import { type Core, createCore } from '../../src/core/index.ts';
import type { Store } from '../../src/core/store.ts';
import { openStore } from '../../src/store/open-store.ts';
import { ENGINES, postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { until } from '../helpers/own-account.ts';
import { addUser, TEST_PASSWORD } from '../helpers/portal.ts';
import { portalProcess } from '../helpers/portal-process.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { type SmtpSink, smtpSink } from '../helpers/smtp-sink.ts';

const logger = pino({ level: 'silent' });
const settingsFor = (port: number) =>
  smtpConfigSchema.parse({
    host: '127.0.0.1',
    port,
    security: 'none',
    user: 'gatehouse',
    password: 'relay-password',
    from: 'it-servicedesk@example.org',
    pollSeconds: 0.1,
    retrySeconds: 0.2,
  });

/** Security notices reach a real SMTP server (Postfix's smtp-sink) from the queue in the database. */
for (const engine of ENGINES) {
  describe(`security notices by email on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let database: TestDatabase;
    let store: Store;
    let core: Core;
    let dir: string;
    let sink: SmtpSink;
    let sender: NoticeSender | undefined;

    before(async () => {
      if (skip) return;
      database = testDatabase(engine);
      store = await database.open();
      core = createCore({ store, secrets: aesGcmSecretBox(Buffer.alloc(32, 5)) });
      dir = mkdtempSync(join(tmpdir(), 'gatehouse-mail-'));
      sink = smtpSink(await freeTcpPort(), join(dir, 'received'));
    });
    after(async () => {
      if (skip) return;
      await sender?.close();
      await sink?.stop();
      await store.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a password change is mailed to the account: what, when, from where, what to do', {
      skip: skip ?? false,
    }, async () => {
      await sink.start();
      sender = startNoticeSender({
        notices: core.notices,
        audit: core.audit,
        settings: settingsFor(sink.port),
        organisation: 'Gatehouse Test Trust',
        logger,
      });
      await addUser(core, 'pat.doe@example.org');
      await core.audit.record({
        type: 'account.password_changed',
        email: 'pat.doe@example.org',
        clientAddress: '198.51.100.23',
      });
      const [message] = await until(() => {
        const received = sink.messages();
        return received.length > 0 ? received : undefined;
      });
      assert.match(message!, /To: pat\.doe@example\.org/);
      assert.match(message!, /From: it-servicedesk@example\.org/);
      assert.match(message!, /Subject: Gatehouse Test Trust: Your password was changed/);
      assert.match(message!, /The password of your account was changed\./);
      assert.match(message!, /From: 198\.51\.100\.23/);
      assert.match(
        message!,
        /If it was not you, contact your IT service desk at once, and change your password\./,
      );
      const [notice] = await store.notices.listForEmail('pat.doe@example.org');
      assert.ok(notice?.sentAt, 'marked sent once the server took it');
      await sender.close();
      sender = undefined;
    });

    test('with the mail server down the notice waits, sign-in goes on, and it is sent when the server returns', {
      skip: skip ?? false,
    }, async () => {
      await sink.stop();
      sender = startNoticeSender({
        notices: core.notices,
        audit: core.audit,
        settings: settingsFor(sink.port),
        organisation: 'Gatehouse Test Trust',
        logger,
      });
      const account = await addUser(core, 'sam.lee@example.org');
      await core.audit.record({
        type: 'app_password.created',
        email: account.email,
        clientAddress: '192.0.2.4',
        detail: { name: 'Outlook' },
      });
      await until(async () => {
        const [notice] = await store.notices.listForEmail(account.email);
        return notice && notice.attempts >= 2 && notice.lastError ? notice : undefined;
      });
      // Signing in does not wait for mail.
      const signedIn = await core.flow.signIn({
        email: account.email,
        password: TEST_PASSWORD,
        clientAddress: '192.0.2.4',
      });
      assert.equal(signedIn.stage, 'complete');
      assert.equal((await store.notices.listForEmail(account.email))[0]?.sentAt, null);
      await sink.start();
      const received = await until(
        () => sink.messages().find((m) => m.includes('To: sam.lee@example.org')),
        15_000,
      );
      assert.match(received, /An app password named "Outlook" was created for your account\./);
      await until(async () => (await store.notices.listForEmail(account.email))[0]?.sentAt ?? undefined);
      await sender.close();
      sender = undefined;
    });
  });
}

describe('security notices across a restart of Gatehouse', () => {
  let dir: string;
  let sink: SmtpSink;
  const processes: ReturnType<typeof portalProcess>[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-restart-mail-'));
    sink = smtpSink(await freeTcpPort(), join(dir, 'received'));
  });
  after(async () => {
    for (const process of processes) await process.kill();
    await sink?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a notice queued while the mail server is down survives kill -9 and is sent after the restart', async () => {
    const dataDir = join(dir, 'data');
    const file = join(dataDir, 'gatehouse.sqlite');
    // The notice is queued as the portal queues it: with the audited event, in the database.
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dataDir, { recursive: true });
    let store = await openStore({ engine: 'sqlite', file });
    const core = createCore({ store, secrets: aesGcmSecretBox(Buffer.alloc(32, 5)) });
    await addUser(core, 'kim.restart@example.org');
    await core.audit.record({
      type: 'signin.reported',
      email: 'kim.restart@example.org',
      clientAddress: '203.0.113.9',
    });
    await store.close();

    const config = join(dir, 'gatehouse.config.json');
    const { password: _password, ...smtp } = settingsFor(sink.port);
    writeFileSync(config, JSON.stringify({ smtp }));
    const env = {
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_CONFIG: config,
      GATEHOUSE_SMTP_PASSWORD: 'relay-password',
    };
    const first = portalProcess(await freeTcpPort(), env);
    processes.push(first);
    await first.start();
    // The mail server is down: the running Gatehouse tries, and keeps the notice.
    store = await openStore({ engine: 'sqlite', file });
    await until(async () => {
      const [notice] = await store.notices.listForEmail('kim.restart@example.org');
      return notice && notice.attempts >= 1 && notice.lastError ? notice : undefined;
    }, 20_000);
    await first.kill();
    await sink.start();
    assert.deepEqual(sink.messages(), []);
    const second = portalProcess(await freeTcpPort(), env);
    processes.push(second);
    await second.start();
    const [message] = await until(() => {
      const received = sink.messages();
      return received.length > 0 ? received : undefined;
    }, 20_000);
    assert.match(message!, /To: kim\.restart@example\.org/);
    assert.match(message!, /A sign-in to your account was reported as not you/);
    await until(
      async () => (await store.notices.listForEmail('kim.restart@example.org'))[0]?.sentAt ?? undefined,
    );
    await store.close();
    await second.kill();
  });
});
