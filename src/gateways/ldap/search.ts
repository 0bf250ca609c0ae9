import type { Account } from '../../core/model.ts';
import { BerError, children, readInteger, readString, type Tlv } from './ber.ts';
import type { Entry } from './filter.ts';

/** Bounds on one search request, whoever sends it. */
export const SEARCH_LIMITS = {
  /** Octets of the whole SearchRequest (filter and attribute list). */
  requestOctets: 4096,
  /** Nodes in the filter tree (and, or, not and every assertion). */
  filterNodes: 32,
  filterDepth: 8,
  attributes: 32,
} as const;

export interface SearchRequest {
  base: string;
  scope: number;
  /** The client's own size limit (0: none asked). */
  sizeLimit: number;
  filter: Tlv;
  /** Attribute names asked for, in lower case (none: all). */
  attributes: string[];
}

export class SearchTooComplex extends Error {}

/** Reads a SearchRequest (RFC 4511 4.5.1); throws SearchTooComplex beyond SEARCH_LIMITS. */
export function readSearch(op: Tlv): SearchRequest {
  if (op.value.length > SEARCH_LIMITS.requestOctets) throw new SearchTooComplex('search request too large');
  const [baseTlv, scopeTlv, , sizeLimitTlv, , , filter, attributesTlv] = children(op.value);
  if (!filter) throw new BerError('search without filter');
  if (filterNodes(filter, 1) > SEARCH_LIMITS.filterNodes) throw new SearchTooComplex('filter too complex');
  const attributes = attributesTlv
    ? children(attributesTlv.value).map((a) => readString(a).toLowerCase())
    : [];
  if (attributes.length > SEARCH_LIMITS.attributes)
    throw new SearchTooComplex('too many attributes asked for');
  return {
    base: normaliseDn(readString(baseTlv)),
    scope: readInteger(scopeTlv),
    sizeLimit: sizeLimitTlv ? Math.max(0, readInteger(sizeLimitTlv)) : 0,
    filter,
    attributes,
  };
}

/** How many nodes the filter has; throws SearchTooComplex when it is nested too deeply. */
function filterNodes(filter: Tlv, depth: number): number {
  if (depth > SEARCH_LIMITS.filterDepth) throw new SearchTooComplex('filter nested too deeply');
  if (filter.tag !== 0xa0 && filter.tag !== 0xa1 && filter.tag !== 0xa2) return 1;
  let count = 1;
  for (const child of children(filter.value)) {
    count += filterNodes(child, depth + 1);
    if (count > SEARCH_LIMITS.filterNodes) return count;
  }
  return count;
}

/**
 * The addresses a filter can match, from its `uid=` and `mail=` equality assertions: an `and`
 * is bounded by any one bounded part, an `or` only when every part is. Null when the filter
 * could match entries it does not name (`(objectClass=*)`, a substring, a `not`): such searches
 * would walk the directory, and a service account may not make them.
 */
export function namedAddresses(filter: Tlv): string[] | null {
  switch (filter.tag) {
    case 0xa3: {
      const [attribute, value] = children(filter.value);
      const name = readString(attribute).toLowerCase();
      return name === 'uid' || name === 'mail' ? [readString(value).trim().toLowerCase()] : null;
    }
    case 0xa0: {
      let bound: string[] | null = null;
      for (const part of children(filter.value)) {
        const named = namedAddresses(part);
        if (named) bound = bound ? bound.filter((a) => named.includes(a)) : named;
      }
      return bound;
    }
    case 0xa1: {
      const all: string[] = [];
      for (const part of children(filter.value)) {
        const named = namedAddresses(part);
        if (!named) return null;
        all.push(...named);
      }
      return [...new Set(all)];
    }
    default:
      return null;
  }
}

export const normaliseDn = (dn: string) =>
  dn
    .trim()
    .toLowerCase()
    .replace(/\s*,\s*/g, ',');

export const entryDn = (account: Account, baseDn: string) => `uid=${account.email},${baseDn}`;

/** uid=<email>,<base>, mail=<email>,<base>, or the bare email address. */
export function emailFromDn(name: string, baseDn: string): string | undefined {
  const text = name.trim().toLowerCase();
  if (/^[^,=\s]+@[^,=\s]+$/.test(text)) return text;
  const match = /^(?:uid|mail)=([^,]+),(.+)$/.exec(text);
  if (!match || normaliseDn(match[2] ?? '') !== normaliseDn(baseDn)) return undefined;
  return match[1]?.trim();
}

/** Whether an entry's DN is within the search's base and scope (0 base, 1 one level, 2 subtree). */
export function inScope(request: SearchRequest, dn: string, baseDn: string): boolean {
  const own = normaliseDn(dn);
  if (request.scope === 0) return request.base === own;
  if (request.base === own) return request.scope === 2;
  // Every entry sits directly under baseDn: one level and subtree from it (or above it) reach it.
  const base = normaliseDn(baseDn);
  if (request.base === base) return true;
  return request.scope === 2 && (request.base === '' || base.endsWith(`,${request.base}`));
}

/** The entry's attributes, names in lower case (as the filter matches them). */
export function entryOf(account: Account, groupBaseDn: string): Entry {
  return {
    objectclass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
    uid: [account.email],
    mail: [account.email],
    cn: [account.displayName],
    displayname: [account.displayName],
    memberof: account.groups.map((group) => `cn=${escapeDnValue(group)},${groupBaseDn}`),
  };
}

const LABELS: [string, string][] = [
  ['objectClass', 'objectclass'],
  ['uid', 'uid'],
  ['mail', 'mail'],
  ['cn', 'cn'],
  ['displayName', 'displayname'],
  ['memberOf', 'memberof'],
];

/** The attributes to send, as asked for (none or `*`: all user attributes). */
export function selectAttributes(entry: Entry, wanted: string[]): [string, string[]][] {
  const all = wanted.length === 0 || wanted.includes('*');
  return LABELS.filter(([, key]) => all || wanted.includes(key))
    .map(([label, key]): [string, string[]] => [label, entry[key] ?? []])
    .filter(([, values]) => values.length > 0);
}

/** RFC 4514 2.4: a value in a DN, with its special characters escaped. */
function escapeDnValue(value: string): string {
  return value
    .replace(/([,+"\\<>;=])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ');
}
