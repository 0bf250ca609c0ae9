// Formatters are made once: making an Intl.DateTimeFormat costs far more than using it.
const time = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'Europe/London',
});
const dateTime = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'Europe/London',
});

/** Times as people in the organisation read them: 24-hour clock, UK time. */
export function formatTime(date: Date): string {
  return time.format(date);
}

export function formatDateTime(date: Date): string {
  return dateTime.format(date);
}
