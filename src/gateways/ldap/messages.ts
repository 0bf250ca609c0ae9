import { integer, octets, TAG, tlv } from './ber.ts';

export const RESULT = {
  success: 0,
  operationsError: 1,
  protocolError: 2,
  sizeLimitExceeded: 4,
  authMethodNotSupported: 7,
  adminLimitExceeded: 11,
  confidentialityRequired: 13,
  noSuchObject: 32,
  invalidCredentials: 49,
  insufficientAccessRights: 50,
  busy: 51,
  /** The server cannot answer now (its database is away): the client may try again later. */
  unavailable: 52,
  unwillingToPerform: 53,
} as const;

export const OID = {
  startTls: '1.3.6.1.4.1.1466.20037',
  whoAmI: '1.3.6.1.4.1.4203.1.11.3',
  noticeOfDisconnection: '1.3.6.1.4.1.1466.20036',
} as const;

const message = (id: number, op: Buffer) => tlv(TAG.sequence, [integer(TAG.integer, id), op]);

const result = (code: number, diagnostic = '', matchedDn = '') => [
  integer(TAG.enumerated, code),
  octets(TAG.octetString, matchedDn),
  octets(TAG.octetString, diagnostic),
];

export const bindResponse = (id: number, code: number, diagnostic = '') =>
  message(id, tlv(0x61, result(code, diagnostic)));

export const searchDone = (id: number, code: number, diagnostic = '') =>
  message(id, tlv(0x65, result(code, diagnostic)));

export function searchEntry(id: number, dn: string, attributes: [string, string[]][]) {
  const list = attributes.map(([name, values]) =>
    tlv(TAG.sequence, [
      octets(TAG.octetString, name),
      tlv(
        TAG.set,
        values.map((v) => octets(TAG.octetString, v)),
      ),
    ]),
  );
  return message(id, tlv(0x64, [octets(TAG.octetString, dn), tlv(TAG.sequence, list)]));
}

export function extendedResponse(
  id: number,
  code: number,
  diagnostic: string,
  name?: string,
  value?: string,
) {
  const parts = result(code, diagnostic);
  if (name) parts.push(octets(0x8a, name));
  if (value !== undefined) parts.push(octets(0x8b, value));
  return message(id, tlv(0x78, parts));
}

/** RFC 4511 4.4.1: sent (message ID 0) before closing a connection that broke the protocol. */
export const noticeOfDisconnection = (diagnostic: string) =>
  extendedResponse(0, RESULT.protocolError, diagnostic, OID.noticeOfDisconnection);
