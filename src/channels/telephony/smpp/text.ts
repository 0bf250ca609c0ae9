import { readFileSync } from 'node:fs';
import smpp from 'smpp';
import { maskedNumber, type ProviderDeps, TelephonyError, type TextProvider } from '../provider.ts';
import { encodeText } from './encoding.ts';
import { smppLink } from './link.ts';
import { statusName } from './session.ts';
import type { SmppTextSettings } from './settings.ts';

export { smppTextSchema } from './settings.ts';

/** SMPP 3.4: an international number (E.164 without its +). */
const INTERNATIONAL = { ton: 1, npi: 1 };
const ALPHANUMERIC = { ton: 5, npi: 0 };
/** short_message holds at most 254 octets; longer texts go in the message_payload TLV. */
const SHORT_MESSAGE_OCTETS = 254;
/** Receipts name the SMS centre's message id; the challenge is remembered for the log. */
const REMEMBERED_RECEIPTS = 500;

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `telephony.text.tlsCaFile: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`,
    );
  }
}

/** Texts through an operator's own SMS centre over SMPP 3.4 (bind_transceiver, submit_sm). */
export async function startSmppText(settings: SmppTextSettings, deps: ProviderDeps): Promise<TextProvider> {
  const sentMessages = new Map<string, string>();
  const link = smppLink({
    url: settings.url,
    systemId: settings.systemId,
    password: settings.password,
    systemType: settings.systemType,
    timeoutMs: settings.timeoutSeconds * 1000,
    enquireLinkMs: settings.enquireLinkSeconds * 1000,
    reconnect: {
      firstMs: settings.reconnectSeconds.first * 1000,
      lastMs: settings.reconnectSeconds.last * 1000,
    },
    tls: settings.tlsCaFile ? { ca: readCa(settings.tlsCaFile) } : undefined,
    logger: deps.logger,
    onDeliver(pdu) {
      if (!((pdu.esm_class as number) & smpp.ESM_CLASS.MC_DELIVERY_RECEIPT)) return;
      const text = String((pdu.short_message as { message?: unknown } | undefined)?.message ?? '');
      const id = (pdu.receipted_message_id as string | undefined) ?? /\bid:(\S+)/.exec(text)?.[1] ?? '';
      const state = /\bstat:(\w+)/.exec(text)?.[1] ?? 'unknown';
      const log = state === 'DELIVRD' ? deps.logger.info : deps.logger.warn;
      log.call(deps.logger, { challenge: sentMessages.get(id) ?? null, state }, 'SMS delivery receipt');
    },
  });
  link.start();

  const digits = /^\+?\d+$/.test(settings.sourceAddress);
  const source = digits ? INTERNATIONAL : ALPHANUMERIC;
  const sender = {
    service_type: settings.serviceType,
    source_addr_ton: settings.sourceTon ?? source.ton,
    source_addr_npi: settings.sourceNpi ?? source.npi,
    source_addr: digits ? settings.sourceAddress.replace(/^\+/, '') : settings.sourceAddress,
  };

  return {
    async sendText(message) {
      if (!/^\+[1-9]\d{6,14}$/.test(message.to))
        throw new TelephonyError('smpp_bad_number', 'the destination is not an E.164 number');
      const { dataCoding, octets } = encodeText(message.text, settings.dataCoding);
      try {
        const answer = await link.request('submit_sm', {
          ...sender,
          dest_addr_ton: INTERNATIONAL.ton,
          dest_addr_npi: INTERNATIONAL.npi,
          destination_addr: message.to.slice(1),
          registered_delivery: settings.deliveryReceipts ? 1 : 0,
          data_coding: dataCoding,
          ...(octets.length <= SHORT_MESSAGE_OCTETS
            ? { short_message: octets }
            : { message_payload: octets }),
        });
        if (answer.command_status !== 0) {
          throw new TelephonyError(
            'smpp_submit_failed',
            `the SMS centre refused the message: ${statusName(answer.command_status)}`,
          );
        }
        const id = String(answer.message_id ?? '');
        sentMessages.set(id, message.challengeId);
        if (sentMessages.size > REMEMBERED_RECEIPTS)
          sentMessages.delete(sentMessages.keys().next().value as string);
        deps.logger.info({ challenge: message.challengeId, messageId: id }, 'SMS accepted by the SMS centre');
      } catch (error) {
        const failure = error as TelephonyError;
        deps.logger.warn(
          { challenge: message.challengeId, to: maskedNumber(message.to), code: failure.code },
          failure.message,
        );
        throw failure;
      }
    },
    close: () => link.close(),
  };
}
