import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isGatehouseError } from '../../src/core/errors.ts';
import { checkPhoneNumber, EXAMPLE_NUMBERS } from '../../src/core/methods/phone/phone-number.ts';
import { phoneCountryMessage } from '../../src/web/messages.ts';

const UK_ONLY = { allowedCountries: ['GB'], office: false };

function refusal(country: string, typed: string, rules = UK_ONLY) {
  try {
    checkPhoneNumber(country, typed, rules);
  } catch (error) {
    assert.ok(isGatehouseError(error));
    return error;
  }
  assert.fail(`${typed} was accepted`);
}

describe('which phone numbers are accepted', () => {
  test("the phone page's own examples are accepted, typed as shown", () => {
    assert.deepEqual(checkPhoneNumber('GB', EXAMPLE_NUMBERS.mobile, UK_ONLY), {
      e164: '+447700900982',
      international: '+44 7700 900982',
      country: 'GB',
    });
    const office = checkPhoneNumber('GB', EXAMPLE_NUMBERS.office, { allowedCountries: ['GB'], office: true });
    assert.equal(office.e164, '+442079460000');
  });

  test("Ofcom's drama mobiles are UK mobiles, and only while the United Kingdom is allowed", () => {
    assert.equal(checkPhoneNumber('GB', '07700 900000', UK_ONLY).country, 'GB');
    assert.equal(checkPhoneNumber('GB', '+44 7700 900999', UK_ONLY).country, 'GB');
    const outside = refusal('IE', '+44 7700 900982', { allowedCountries: ['IE'], office: false });
    assert.equal(outside.code, 'phone_country_not_allowed');
    assert.equal(outside.details.country, 'GB');
  });

  test('a Guernsey, Jersey or Isle of Man mobile with the United Kingdom chosen is refused, naming its island', () => {
    for (const [typed, island] of [
      ['07781 123456', 'GG'],
      ['07797 123456', 'JE'],
      ['07624 123456', 'IM'],
    ] as const) {
      const error = refusal('GB', typed);
      assert.equal(error.code, 'phone_country_not_allowed', typed);
      assert.deepEqual(error.details, { country: island, selected: 'GB' });
    }
  });

  test('an operator who allows an island accepts its mobiles with the United Kingdom chosen', () => {
    const rules = { allowedCountries: ['GB', 'JE'], office: false };
    assert.equal(checkPhoneNumber('GB', '07797 123456', rules).country, 'JE');
    assert.equal(refusal('GB', '07781 123456', rules).details.country, 'GG');
  });

  test('the message says which country the number belongs to and what to do', () => {
    assert.equal(
      phoneCountryMessage({ country: 'JE', selected: 'GB' }),
      'This is a mobile number from Jersey. Only mobile numbers from the countries listed can be used: Jersey shares the +44 code with the United Kingdom but is not part of it. Enter a UK mobile number, or ask your IT team to allow numbers from Jersey',
    );
    assert.match(
      phoneCountryMessage({ country: 'GG', selected: 'GB' }),
      /^This is a mobile number from Guernsey\./,
    );
    assert.match(
      phoneCountryMessage({ country: 'IM', selected: 'GB' }),
      /^This is a mobile number from the Isle of Man\. .*: the Isle of Man shares the \+44 code/,
    );
    assert.equal(
      phoneCountryMessage({ country: 'FR', selected: 'GB' }),
      'This number is from France. Only mobile numbers from the countries listed can be used. Enter a mobile number from one of them, or choose a different method',
    );
    assert.match(phoneCountryMessage({}), /^Only mobile numbers from the countries listed can be used\./);
  });
});
