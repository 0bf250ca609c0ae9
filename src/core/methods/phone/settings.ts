import type { ThrottleRule } from '../../throttle/throttle.ts';

export interface PhoneSettings {
  /** ISO 3166 country codes whose numbers may be registered and dialled. */
  allowedCountries: string[];
  allowTexts: boolean;
  /** False when nothing can place calls (texts only, e.g. an SMS centre): sign-in then texts. */
  allowCalls: boolean;
  /** Office (landline) phones, for calls only; off by default, as in the guide. */
  allowOfficePhone: boolean;
  /** Named in the automated call and the text, so the user knows who is calling. */
  organisationName: string;
  callSeconds: number;
  textSeconds: number;
  /** Calls and texts per account, per number, and per country per day (toll fraud). */
  perAccount: ThrottleRule;
  perNumber: ThrottleRule;
  perCountryPerDay: number;
  /** How long calls stop after "this was not me" (0 then #). */
  reportBlockMinutes: number;
}

export const defaultPhoneSettings: PhoneSettings = {
  allowedCountries: ['GB'],
  allowTexts: true,
  allowCalls: true,
  allowOfficePhone: false,
  organisationName: 'Gatehouse',
  callSeconds: 90,
  textSeconds: 300,
  perAccount: { maxFailures: 5, windowMinutes: 60, lockMinutes: 60 },
  perNumber: { maxFailures: 5, windowMinutes: 60, lockMinutes: 60 },
  perCountryPerDay: 2000,
  reportBlockMinutes: 60,
};
