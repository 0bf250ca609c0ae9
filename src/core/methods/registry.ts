import type { AppPasswordContext } from './app-password/app-passwords.ts';
import { appPasswordMethod } from './app-password/method.ts';
import type { AppContext } from './authenticator-app/context.ts';
import type { AuthenticatorApp } from './authenticator-app/index.ts';
import { authenticatorAppMethod } from './authenticator-app/method.ts';
import type { MethodCall } from './method.ts';
import type { MethodManagement } from './method-management.ts';
import { passkeyMethod } from './passkey/method.ts';
import type { PasskeyService } from './passkey/passkey-service.ts';
import { phoneMethodSteps } from './phone/method.ts';
import type { PhoneMethod } from './phone/phone-service.ts';
import { smartcardMethodSteps } from './smartcard/method.ts';
import type { SmartcardMethod } from './smartcard/smartcard-service.ts';
import { totpMethod } from './totp/method.ts';
import type { TotpContext } from './totp/totp-service.ts';

export interface RegistryParts {
  app: { context: AppContext; service: AuthenticatorApp };
  totp: TotpContext;
  phone: PhoneMethod;
  appPasswords: AppPasswordContext;
  smartcard: SmartcardMethod;
  management: MethodManagement;
  passkeys: PasskeyService;
}

/** Every authentication method, one line each: adding a method is its folder and a line here. */
export function methodRegistry(parts: RegistryParts) {
  const remove = (call: MethodCall, id: string) =>
    parts.management.remove(call.account, id, call.clientAddress);
  return {
    authenticator_app: authenticatorAppMethod(parts.app.context, parts.app.service, remove),
    totp: totpMethod(parts.totp, remove),
    phone: phoneMethodSteps(parts.totp, parts.phone, remove),
    app_password: appPasswordMethod(parts.appPasswords),
    smartcard: smartcardMethodSteps(parts.smartcard),
    passkey: passkeyMethod(parts.passkeys, remove),
  };
}

export type MethodRegistry = ReturnType<typeof methodRegistry>;
