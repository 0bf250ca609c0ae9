import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { coreSettings, loadConfig } from '../../src/config/config.ts';
import type { GatehouseError } from '../../src/core/errors.ts';

const SID = `AC${'7b'.repeat(16)}`;
const twilioVoice = {
  provider: 'twilio',
  accountSid: SID,
  authToken: 'file-token-0123456789abcdef',
  from: '+441632960001',
};
const smppText = {
  provider: 'smpp',
  url: 'smpp://smsc.example.org:2775',
  systemId: 'gatehouse',
  password: 'filepw',
  sourceAddress: 'Gatehouse',
};

/** loadConfig with this file in a fresh folder. */
function load(file: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
  writeFileSync(join(dir, 'gatehouse.config.json'), JSON.stringify(file));
  return loadConfig(env, dir);
}

/** The problems loadConfig lists, or a failure when it accepted the settings. */
function problems(file: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string {
  try {
    load(file, env);
  } catch (error) {
    assert.equal((error as GatehouseError).code, 'config_invalid');
    return (error as Error).message;
  }
  assert.fail('the settings were accepted');
}

test('telephony: Twilio calls and SMPP texts, with their defaults', () => {
  const config = load({
    publicUrl: 'https://mfa.example.org',
    telephony: { voice: twilioVoice, text: smppText },
  });
  const { voice, text } = config.telephony ?? {};
  assert.equal(voice?.provider, 'twilio');
  assert.deepEqual(
    voice?.provider === 'twilio' && [voice.ringSeconds, voice.keySeconds, voice.maxCallSeconds],
    [30, 8, 120],
  );
  assert.equal(text?.provider, 'smpp');
  assert.deepEqual(
    text?.provider === 'smpp' && [
      text.dataCoding,
      text.timeoutSeconds,
      text.enquireLinkSeconds,
      text.systemType,
    ],
    ['auto', 10, 30, ''],
  );
});

test('telephony: secrets from the environment win over the file and fill in what it leaves out', () => {
  const { authToken: _left, ...voiceWithoutToken } = twilioVoice;
  const { password: _out, ...smppWithoutPassword } = smppText;
  const config = load(
    {
      publicUrl: 'https://mfa.example.org',
      telephony: { voice: voiceWithoutToken, text: smppWithoutPassword },
    },
    { GATEHOUSE_TWILIO_AUTH_TOKEN: 'env-token-0123456789abcdef', GATEHOUSE_SMPP_PASSWORD: 'envpw' },
  );
  assert.equal(
    config.telephony?.voice?.provider === 'twilio' && config.telephony.voice.authToken,
    'env-token-0123456789abcdef',
  );
  assert.equal(config.telephony?.text?.provider === 'smpp' && config.telephony.text.password, 'envpw');
  const overridden = load(
    { publicUrl: 'https://mfa.example.org', telephony: { voice: twilioVoice } },
    { GATEHOUSE_TWILIO_AUTH_TOKEN: 'env-token-0123456789abcdef' },
  );
  assert.equal(
    overridden.telephony?.voice?.provider === 'twilio' && overridden.telephony.voice.authToken,
    'env-token-0123456789abcdef',
  );
});

test('telephony: a missing secret names the environment variable that can hold it', () => {
  const { password: _out, ...smppWithoutPassword } = smppText;
  const message = problems({ telephony: { text: smppWithoutPassword } });
  assert.match(
    message,
    /telephony\.text\.password: required: the bind password, in the file or in GATEHOUSE_SMPP_PASSWORD/,
  );
});

test('telephony: a secret in the environment that no provider uses is reported', () => {
  const message = problems(
    { telephony: { text: smppText } },
    { GATEHOUSE_TWILIO_AUTH_TOKEN: 'x'.repeat(32) },
  );
  assert.match(
    message,
    /GATEHOUSE_TWILIO_AUTH_TOKEN is set, but telephony has no twilio provider that uses it/,
  );
});

test('telephony: an unknown provider, a bad account SID, a long SMPP password and unknown keys are refused', () => {
  const message = problems({
    publicUrl: 'https://mfa.example.org',
    telephony: {
      voice: { ...twilioVoice, accountSid: 'AC123' },
      text: { ...smppText, password: 'much-too-long', bindMode: 'transmitter' },
    },
  });
  assert.match(message, /telephony\.voice\.accountSid: an Account SID/);
  assert.match(message, /SMPP 3\.4 passwords are at most 8 characters/);
  assert.match(message, /"bindMode"/);
  assert.match(problems({ telephony: { voice: { provider: 'vonage' } } }), /telephony\.voice\.provider/);
});

test('telephony: Twilio calls need the address Twilio reaches the portal at', () => {
  assert.match(
    problems({ telephony: { voice: twilioVoice } }),
    /telephony\.voice\.webhookBaseUrl: Twilio must reach the portal: set publicUrl/,
  );
  const config = load({
    telephony: { voice: { ...twilioVoice, webhookBaseUrl: 'https://hooks.example.org' } },
  });
  assert.equal(
    config.telephony?.voice?.provider === 'twilio' && config.telephony.voice.webhookBaseUrl,
    'https://hooks.example.org',
  );
});

test('telephony: "Call me" and "Text me a code" are offered only when a provider (or the development phone) can', () => {
  const callsOnly = load({ publicUrl: 'https://mfa.example.org', telephony: { voice: twilioVoice } });
  assert.equal(coreSettings(callsOnly).phone.allowTexts, false);
  const textsOnly = load({ telephony: { text: smppText } });
  assert.deepEqual(
    [coreSettings(textsOnly).phone.allowCalls, coreSettings(textsOnly).phone.allowTexts],
    [false, true],
  );
  const both = load({
    publicUrl: 'https://mfa.example.org',
    telephony: { voice: twilioVoice, text: smppText },
  });
  assert.equal(coreSettings(both).phone.allowTexts, true);
  assert.equal(coreSettings(load({ developmentPhone: true })).phone.allowTexts, true);
});

const sipVoice = {
  provider: 'sip',
  server: 'pbx.example.org:5061',
  from: '+441632960001',
  localAddress: '192.0.2.20',
};

test('telephony: SIP calls through a trunk or PBX, with their defaults (no publicUrl needed)', () => {
  const config = load({ telephony: { voice: sipVoice } });
  const voice = config.telephony?.voice;
  assert.equal(voice?.provider, 'sip');
  assert.deepEqual(
    voice?.provider === 'sip' && {
      server: voice.server,
      localPort: voice.localPort,
      rtpPorts: voice.rtpPorts,
      times: [voice.ringSeconds, voice.keySeconds, voice.maxCallSeconds],
      speech: voice.speech,
      username: voice.username,
    },
    {
      server: { host: 'pbx.example.org', port: 5061 },
      localPort: 5060,
      rtpPorts: { first: 16384, last: 16583 },
      times: [30, 8, 120],
      speech: { command: 'espeak-ng', voice: 'en-gb', wordsPerMinute: 150 },
      username: undefined,
    },
  );
  const byAddress = load({ telephony: { voice: { ...sipVoice, server: '192.0.2.10' } } });
  assert.deepEqual(byAddress.telephony?.voice?.provider === 'sip' && byAddress.telephony.voice.server, {
    host: '192.0.2.10',
    port: 5060,
  });
  assert.equal(coreSettings(config).phone.allowCalls, true);
});

test('telephony: the SIP password comes from GATEHOUSE_SIP_PASSWORD; a username without one is refused', () => {
  const config = load(
    { telephony: { voice: { ...sipVoice, username: 'gatehouse' } } },
    { GATEHOUSE_SIP_PASSWORD: 'env-sip-secret' },
  );
  const voice = config.telephony?.voice;
  assert.deepEqual(voice?.provider === 'sip' && [voice.username, voice.password], [
    'gatehouse',
    'env-sip-secret',
  ]);
  assert.match(
    problems({ telephony: { voice: { ...sipVoice, username: 'gatehouse' } } }),
    /telephony\.voice\.password: required with username: the password, in the file or in GATEHOUSE_SIP_PASSWORD/,
  );
  assert.match(
    problems({ telephony: { voice: { ...sipVoice, password: 'secret' } } }),
    /telephony\.voice\.username: a password needs a username/,
  );
  assert.match(
    problems({ telephony: { text: smppText } }, { GATEHOUSE_SIP_PASSWORD: 'secret' }),
    /GATEHOUSE_SIP_PASSWORD is set, but telephony has no sip provider that uses it/,
  );
});

test('telephony: bad SIP settings are refused, each with its reason', () => {
  const message = problems({
    telephony: {
      voice: {
        ...sipVoice,
        server: 'pbx.example.org:99999',
        from: 'not a user',
        localAddress: 'localhost',
        rtpPorts: { first: 20000, last: 10000 },
        ringSeconds: 2,
        keySeconds: 60,
        transport: 'tcp',
      },
    },
  });
  assert.match(message, /telephony\.voice\.server: a host:port such as pbx\.example\.org:5060/);
  assert.match(message, /telephony\.voice\.from: a SIP user/);
  assert.match(message, /telephony\.voice\.localAddress: an IPv4 address/);
  assert.match(message, /telephony\.voice\.rtpPorts: first must not be after last/);
  assert.match(message, /telephony\.voice\.ringSeconds/);
  assert.match(message, /telephony\.voice\.keySeconds/);
  assert.match(message, /"transport"/);
  assert.match(
    problems({ telephony: { voice: { ...sipVoice, server: '[2001:db8::1]:5060' } } }),
    /telephony\.voice\.server/,
  );
  assert.match(
    problems({ telephony: { voice: { ...sipVoice, displayName: 'Say "hi"' } } }),
    /telephony\.voice\.displayName: up to 40 characters, no quotes/,
  );
});
