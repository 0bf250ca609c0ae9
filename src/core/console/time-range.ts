import { GatehouseError } from '../errors.ts';

const DAY_MS = 86_400_000;

/**
 * A time typed in a console filter: a day (YYYY-MM-DD, UTC: `end` takes the whole day) or an
 * ISO 8601 time with its zone. Empty is no limit; anything else is refused, naming the field.
 */
export function typedTime(value: string | undefined, field: string, end: boolean): Date | undefined {
  const text = (value ?? '').trim();
  if (text === '') return undefined;
  if (text.length <= 40) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
      const day = new Date(`${text}T00:00:00Z`);
      if (!Number.isNaN(day.getTime()) && day.toISOString().startsWith(text))
        return end ? new Date(day.getTime() + DAY_MS) : day;
    } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
      const at = new Date(text);
      if (!Number.isNaN(at.getTime())) return at;
    }
  }
  throw new GatehouseError('console_filter_invalid', `${field} is not a date`, { field });
}

/** [from, to) with the end after the start, and, when `maxDays` is given, no longer than that. */
export function checkedRange(from: Date | undefined, to: Date | undefined, maxDays?: number): void {
  if (from && to && to.getTime() <= from.getTime())
    throw new GatehouseError('time_range_invalid', 'the range ends before it starts', { field: 'to' });
  if (maxDays !== undefined && from && to && to.getTime() - from.getTime() > maxDays * DAY_MS)
    throw new GatehouseError('time_range_invalid', `the range is longer than ${maxDays} days`, {
      field: 'to',
    });
}

export const dayOf = (date: Date) => date.toISOString().slice(0, 10);
export { DAY_MS };
