/**
 * CSV as spreadsheets read it (RFC 4180: every field quoted, quotes doubled, CRLF), safe to open:
 * a cell that starts with = + - @ (or a tab or carriage return) would be run as a formula, so it
 * gets a leading apostrophe (OWASP's advice on CSV injection).
 */
export function csvField(value: string | number | null | undefined): string {
  const text = value === null || value === undefined ? '' : String(value);
  return `"${(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text).replaceAll('"', '""')}"`;
}

export function csvLine(values: readonly (string | number | null | undefined)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** Rows read a page at a time become CSV text a page at a time: never all of them in memory. */
export async function* csvPages<T>(
  header: readonly string[],
  pages: AsyncIterable<readonly T[]>,
  row: (item: T) => readonly (string | number | null | undefined)[],
): AsyncGenerator<string> {
  yield csvLine(header);
  for await (const page of pages) {
    let chunk = '';
    for (const item of page) chunk += csvLine(row(item));
    if (chunk) yield chunk;
  }
}
