export const toMillis = (date: Date): number => date.getTime();
export const fromMillis = (millis: number): Date => new Date(Number(millis));
export const optionalDate = (millis: number | null): Date | null =>
  millis === null ? null : fromMillis(millis);
