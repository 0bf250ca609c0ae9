import smpp from 'smpp';
import type { SmppTextSettings } from './settings.ts';

/** data_coding values of SMPP 3.4 (5.2.19). */
const SMSC_DEFAULT = 0x00;
const UCS2 = 0x08;

/**
 * The octets of a text and the data_coding that names their encoding. The smpp package's coders
 * do the work: its "ASCII" coder writes the GSM 03.38 alphabet, one character an octet.
 */
export function encodeText(
  text: string,
  coding: SmppTextSettings['dataCoding'],
): { dataCoding: number; octets: Buffer } {
  const ucs2 = { dataCoding: UCS2, octets: smpp.encodings.UCS2.encode(text) };
  if (coding === 'ucs2') return ucs2;
  if (coding === 'smsc-default') {
    return smpp.encodings.ASCII.match(text)
      ? { dataCoding: SMSC_DEFAULT, octets: smpp.encodings.ASCII.encode(text) }
      : ucs2;
  }
  const name = smpp.encodings.detect(text) || 'UCS2';
  return { dataCoding: smpp.ENCODING[name] ?? UCS2, octets: smpp.encodings[name].encode(text) };
}
