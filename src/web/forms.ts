import { z } from 'zod';

/** Values a form may carry; anything else in a body is ignored, and nothing here is trusted as is. */
const formValue = z.string().max(4096);
// Built once: making a zod schema costs more than using it, and this one reads every form.
const formRecord = z.record(z.string().max(64), formValue.or(z.array(formValue)));

export function formBody(body: unknown): Record<string, string> {
  const parsed = formRecord.safeParse(body ?? {});
  if (!parsed.success) return {};
  return Object.fromEntries(
    Object.entries(parsed.data).map(([key, value]) => [key, Array.isArray(value) ? (value[0] ?? '') : value]),
  );
}

export interface FieldError {
  field: string;
  text: string;
}

/** Turns zod issues into the error summary and per-field messages the templates show. */
export function fieldErrors(error: z.ZodError, messages: Record<string, string>): FieldError[] {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? 'form');
    if (seen.has(field)) continue;
    seen.add(field);
    errors.push({ field, text: messages[field] ?? 'Check this answer' });
  }
  return errors;
}

export function summaryAndFields(errors: FieldError[]) {
  return {
    errors: errors.map((e) => ({ text: e.text, href: `#${e.field}` })),
    fieldErrors: Object.fromEntries(errors.map((e) => [e.field, e.text])),
  };
}
