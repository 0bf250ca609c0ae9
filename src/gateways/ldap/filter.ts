import { BerError, children, readString, type Tlv } from './ber.ts';

/** An entry's attributes, names in lower case. */
export type Entry = Record<string, string[]>;

/** Evaluates an RFC 4511 search filter against one entry (case-insensitive matching). */
export function matches(filter: Tlv, entry: Entry, depth = 0): boolean {
  if (depth > 16) throw new BerError('filter nested too deeply');
  const values = (name: string) => (entry[name.toLowerCase()] ?? []).map((v) => v.toLowerCase());
  switch (filter.tag) {
    case 0xa0: // and
      return children(filter.value).every((f) => matches(f, entry, depth + 1));
    case 0xa1: // or
      return children(filter.value).some((f) => matches(f, entry, depth + 1));
    case 0xa2: {
      const [inner] = children(filter.value);
      if (!inner) throw new BerError('empty not');
      return !matches(inner, entry, depth + 1);
    }
    case 0xa3: {
      // equalityMatch
      const [attribute, value] = children(filter.value);
      return values(readString(attribute)).includes(readString(value).toLowerCase());
    }
    case 0xa4: {
      // substrings
      const [attribute, parts] = children(filter.value);
      if (!parts) throw new BerError('substrings without parts');
      return values(readString(attribute)).some((value) => substringsMatch(value, children(parts.value)));
    }
    case 0x87: // present
      return values(filter.value.toString('utf8')).length > 0;
    default:
      return false; // ordering, approximate and extensible matches: no entry matches them
  }
}

function substringsMatch(value: string, parts: Tlv[]): boolean {
  let position = 0;
  for (const part of parts) {
    const text = part.value.toString('utf8').toLowerCase();
    if (part.tag === 0x80) {
      if (!value.startsWith(text)) return false;
      position = text.length;
    } else if (part.tag === 0x81) {
      const found = value.indexOf(text, position);
      if (found === -1) return false;
      position = found + text.length;
    } else if (part.tag === 0x82) {
      if (!value.endsWith(text) || value.length - text.length < position) return false;
    } else {
      throw new BerError('bad substring part');
    }
  }
  return true;
}
