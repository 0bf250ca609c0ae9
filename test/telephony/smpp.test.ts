import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import pino from 'pino';
import type { TextProvider } from '../../src/channels/telephony/provider.ts';
import { type SmppTextSettings, smppTextSchema } from '../../src/channels/telephony/smpp/settings.ts';
import { startSmppText } from '../../src/channels/telephony/smpp/text.ts';
import { eventually } from '../helpers/eventually.ts';
import { type Smsc, startSmsc } from '../helpers/smsc.ts';
import { selfSignedCertificate } from '../helpers/tls.ts';

const ACCOUNT = { systemId: 'gatehouse', password: 'secret1' };
const CODE_TEXT = '123456 is your Test Trust verification code. Do not share it with anyone.';
const logger = pino({ level: process.env.GATEHOUSE_TEST_LOG ?? 'silent' });

describe('SMPP 3.4 texts, against a local SMS centre (the smpp package in server mode)', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
  });

  async function smsc(tls?: { key: string; cert: string }) {
    const centre = await startSmsc(ACCOUNT, tls);
    open.push(centre);
    return centre;
  }

  /** The provider as configured from a file, plus test-only speeds (keepalive, backoff). */
  async function provider(centre: Smsc, extra: Partial<SmppTextSettings> = {}): Promise<TextProvider> {
    const settings = {
      ...smppTextSchema.parse({
        provider: 'smpp',
        url: centre.url,
        systemId: ACCOUNT.systemId,
        password: ACCOUNT.password,
        sourceAddress: 'Gatehouse',
        timeoutSeconds: 2,
      }),
      reconnectSeconds: { first: 0.05, last: 0.2 },
      ...extra,
    };
    const texts = await startSmppText(settings, { logger, onOutcome: async () => {} });
    open.push(texts);
    return texts;
  }

  const send = (texts: TextProvider, text = CODE_TEXT, to = '+447400123456') =>
    texts.sendText({ challengeId: '8d6f1c1e-6a55-4a8e-9d5e-0d1f7c3f8a11', to, text });

  test('binds as a transceiver and submits the text to the international number, from the sender ID', async () => {
    const centre = await smsc();
    await send(await provider(centre));
    assert.deepEqual(centre.events.slice(0, 2), ['bind gatehouse', 'submit_sm']);
    const [sms] = centre.inbox;
    assert.equal(sms?.to, '447400123456');
    assert.deepEqual([sms?.destTon, sms?.destNpi], [1, 1], 'international, E.164');
    assert.equal(sms?.text, CODE_TEXT);
    assert.deepEqual([sms?.from, sms?.sourceTon, sms?.sourceNpi], ['Gatehouse', 5, 0], 'alphanumeric sender');
    assert.equal(sms?.registeredDelivery, 0);
  });

  test('a numeric sender goes as an international number; the configured TON/NPI win', async () => {
    const centre = await smsc();
    await send(await provider(centre, { sourceAddress: '+441632960001' }));
    await send(await provider(centre, { sourceAddress: '60001', sourceTon: 3, sourceNpi: 0 }));
    assert.deepEqual(
      centre.inbox.map((s) => [s.from, s.sourceTon, s.sourceNpi]),
      [
        ['441632960001', 1, 1],
        ['60001', 3, 0],
      ],
    );
  });

  test('data coding: IA5 for plain text, UCS-2 when the text needs it, GSM as SMSC default on request', async () => {
    const centre = await smsc();
    const auto = await provider(centre);
    await send(auto);
    await send(auto, 'Łódź Trust: 123456 ✓');
    await send(await provider(centre, { dataCoding: 'smsc-default' }));
    await send(await provider(centre, { dataCoding: 'ucs2' }));
    assert.deepEqual(
      centre.inbox.map((s) => [s.dataCoding, s.text]),
      [
        [0x01, CODE_TEXT],
        [0x08, 'Łódź Trust: 123456 ✓'],
        [0x00, CODE_TEXT],
        [0x08, CODE_TEXT],
      ],
    );
  });

  test('a text longer than short_message allows travels whole in message_payload', async () => {
    const centre = await smsc();
    const long = `${'A very long organisation name '.repeat(10)}: 123456`;
    await send(await provider(centre), long);
    assert.equal(centre.inbox[0]?.text, long);
  });

  test('delivery receipts: registered_delivery is asked for and the deliver_sm receipt is answered', async () => {
    const centre = await smsc();
    await send(await provider(centre, { deliveryReceipts: true }));
    assert.equal(centre.inbox[0]?.registeredDelivery, 1);
    await eventually(
      'the receipt is acknowledged with deliver_sm_resp',
      () => centre.receiptsAcknowledged.length === 1,
    );
  });

  test('SMPP over TLS (ssmpp://) with the SMS centre certificate trusted from a file', async () => {
    const certificate = selfSignedCertificate();
    const centre = await smsc(certificate);
    const caFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-smsc-')), 'ca.pem');
    writeFileSync(caFile, certificate.cert);
    await send(await provider(centre, { tlsCaFile: caFile }));
    assert.equal(centre.inbox[0]?.to, '447400123456');
  });

  test('a refused bind fails the send with a clear error naming the status', async () => {
    const centre = await smsc();
    centre.behaviour.bind = 'refuse';
    await assert.rejects(send(await provider(centre)), {
      code: 'smpp_bind_failed',
      message: /refused the bind: ESME_RBINDFAIL \(0x0000000d\)/,
    });
    assert.equal(centre.inbox.length, 0);
  });

  test('a wrong password is a refused bind too', async () => {
    const centre = await smsc();
    await assert.rejects(send(await provider(centre, { password: 'wrong' })), { code: 'smpp_bind_failed' });
  });

  test('an error status from submit_sm fails the send with the status named', async () => {
    const centre = await smsc();
    centre.behaviour.submit = 'error';
    await assert.rejects(send(await provider(centre)), {
      code: 'smpp_submit_failed',
      message: /refused the message: ESME_RSUBMITFAIL \(0x00000045\)/,
    });
  });

  test('an SMS centre that is down fails the send at once: connection refused', async () => {
    const centre = await smsc();
    await centre.stop();
    await assert.rejects(send(await provider(centre)), {
      code: 'smpp_unreachable',
      message: /cannot reach the SMS centre at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    });
  });

  test('an SMS centre that does not answer submit_sm: the send times out and the link is rebuilt', async () => {
    const centre = await smsc();
    const texts = await provider(centre, { timeoutSeconds: 1 });
    centre.behaviour.submit = 'silent';
    await assert.rejects(send(texts), { code: 'smpp_timeout', message: /did not answer submit_sm in time/ });
    centre.behaviour.submit = 'accept';
    await eventually(
      'a new bind after the stuck one was dropped',
      () => centre.events.filter((e) => e.startsWith('bind')).length === 2,
    );
    await send(texts);
    assert.equal(centre.inbox.length, 1);
  });

  test('the link comes back by itself after the SMS centre restarts (backoff), and sends again', async () => {
    const centre = await smsc();
    const texts = await provider(centre);
    await send(texts);
    await centre.stop();
    await assert.rejects(send(texts), { code: 'smpp_unreachable' });
    await centre.restart();
    await eventually('rebound without any send', () => centre.sessions() === 1);
    await send(texts);
    assert.equal(centre.inbox.length, 2);
  });

  test('enquire_link keeps the link alive; a centre that stops answering it is reconnected', async () => {
    const centre = await smsc();
    const texts = await provider(centre, { enquireLinkSeconds: 0.1, timeoutSeconds: 1 });
    await send(texts);
    await eventually('keepalives sent', () => centre.events.includes('enquire_link'));
    centre.behaviour.submit = 'silent';
    await eventually(
      'a second bind after the keepalive went unanswered',
      () => centre.events.filter((e) => e.startsWith('bind')).length >= 2,
    );
  });

  test('close() unbinds politely', async () => {
    const centre = await smsc();
    const texts = await provider(centre);
    await send(texts);
    await texts.close();
    assert.equal(centre.events.at(-1), 'unbind');
  });

  test('refuses a destination that is not E.164 before contacting the SMS centre', async () => {
    const centre = await smsc();
    await assert.rejects(send(await provider(centre), CODE_TEXT, '07400123456'), { code: 'smpp_bad_number' });
    assert.ok(!centre.events.includes('submit_sm'));
  });
});
