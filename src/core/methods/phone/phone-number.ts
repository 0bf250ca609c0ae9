import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { GatehouseError } from '../../errors.ts';

export interface CheckedNumber {
  /** E.164, what is dialled. */
  e164: string;
  /** As people write it: +44 7700 900123. */
  international: string;
  country: string;
}

/**
 * A number the operator's rules let Gatehouse dial: valid, in an allowed country, and a mobile
 * (or, only where the operator enabled office phones, a landline). Premium-rate, shared-cost and
 * other types are never accepted: they are how toll fraud is made.
 */
export function checkPhoneNumber(
  country: string,
  typed: string,
  rules: { allowedCountries: readonly string[]; office: boolean },
): CheckedNumber {
  if (typed.length > 32 || !/^[\d\s()+.-]+$/.test(typed)) throw new GatehouseError('phone_invalid');
  const parsed = parsePhoneNumberFromString(typed, country as CountryCode);
  if (!parsed?.isValid()) throw new GatehouseError('phone_invalid');
  if (!parsed.country || !rules.allowedCountries.includes(parsed.country)) {
    throw new GatehouseError('phone_country_not_allowed');
  }
  const type = parsed.getType();
  const mobile = type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE';
  const landline = type === 'FIXED_LINE';
  if (!(mobile || (rules.office && landline)))
    throw new GatehouseError('phone_not_mobile', undefined, { type: type ?? 'unknown' });
  return { e164: parsed.number, international: parsed.formatInternational(), country: parsed.country };
}
