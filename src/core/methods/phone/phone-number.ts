import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { GatehouseError } from '../../errors.ts';

export interface CheckedNumber {
  /** E.164, what is dialled. */
  e164: string;
  /** As people write it: +44 7700 900123. */
  international: string;
  country: string;
}

/** The examples the phone page shows: Ofcom's numbers for drama, accepted as typed. */
export const EXAMPLE_NUMBERS = { mobile: '07700 900 982', office: '020 7946 0000' } as const;

/**
 * Ofcom's range of mobile numbers for drama (07700 900000 to 07700 900999): the shape of a UK
 * mobile, never anyone's phone, and so the example the phone page shows (as GOV.UK pages do).
 * libphonenumber calls them invalid because they are not assigned; Gatehouse takes them as UK
 * mobiles, so that typing the example is not refused (a call to one simply fails; the
 * development phone answers it).
 */
export function isDramaMobile(e164: string): boolean {
  return /^\+447700900\d{3}$/.test(e164);
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
  if (parsed && isDramaMobile(parsed.number)) {
    if (!rules.allowedCountries.includes('GB')) {
      throw new GatehouseError('phone_country_not_allowed', undefined, { country: 'GB', selected: country });
    }
    return { e164: parsed.number, international: parsed.formatInternational(), country: 'GB' };
  }
  if (!parsed?.isValid()) throw new GatehouseError('phone_invalid');
  if (!parsed.country || !rules.allowedCountries.includes(parsed.country)) {
    // The country the number belongs to, so the page can say so: a Jersey mobile also starts +44 7.
    throw new GatehouseError('phone_country_not_allowed', undefined, {
      country: parsed.country ?? 'unknown',
      selected: country,
    });
  }
  const type = parsed.getType();
  const mobile = type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE';
  const landline = type === 'FIXED_LINE';
  if (!(mobile || (rules.office && landline)))
    throw new GatehouseError('phone_not_mobile', undefined, { type: type ?? 'unknown' });
  return { e164: parsed.number, international: parsed.formatInternational(), country: parsed.country };
}
