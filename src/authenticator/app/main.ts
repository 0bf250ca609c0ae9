/**
 * The Gatehouse Authenticator web app (served at /authenticator/): accounts of one or more
 * Gatehouse servers, their sign-in requests (server-sent events while open, Web Push when closed)
 * answered with the device's key, and their verification codes, offline too.
 */

import { AuthenticatorError, activate, DeviceAccount, type PendingRequest } from '../client/api.ts';
import { type RequestWatch, watchRequests } from '../client/events.ts';
import { generateDeviceKeys, publicJwk } from '../client/signing.ts';
import { totpCode } from '../client/totp.ts';
import { cameraScanning, startCamera, stopCamera } from './camera.ts';
import {
  button,
  type Child,
  errorSummary,
  type FieldError,
  fieldValue,
  h,
  handledForm,
  hidden,
  input,
  linkButton,
} from './dom.ts';
import {
  activationFromHash,
  deviceNameFor,
  groupCode,
  hostOf,
  secondsLeft,
  timeOfDay,
  typedNumber,
} from './format.ts';
import { afterWrongPin, hashPin, pinMatches, pinProblem, pinWaitSeconds } from './pin.ts';
import { pushSupported, subscribeAccount, unsubscribePush } from './push.ts';
import { confirmWithScreenLock, screenLockAvailable, setUpScreenLock } from './screen-lock.ts';
import {
  deleteAccount,
  listAccounts,
  loadPin,
  loadPinAttempts,
  loadScreenLock,
  type StoredAccount,
  saveAccount,
  savePin,
  savePinAttempts,
  saveScreenLock,
} from './storage.ts';

const APP_NAME = 'Gatehouse Authenticator';

// ---------------------------------------------------------------------------------------------
// State

interface PendingAnswer {
  accountId: string;
  request: PendingRequest;
  number: string;
}

type View =
  | { name: 'home' }
  | { name: 'add' }
  | { name: 'work' }
  | { name: 'scan'; errors?: FieldError[]; link?: string; server?: string; busy?: boolean }
  | { name: 'link'; link: string; error?: string; busy?: boolean }
  | { name: 'pin-setup'; answer: PendingAnswer; errors?: FieldError[] }
  | { name: 'pin'; answer: PendingAnswer; errors?: FieldError[] }
  | { name: 'unlock'; answer: PendingAnswer; error?: string; busy?: boolean }
  | { name: 'deny'; accountId: string; request: PendingRequest; error?: string }
  | { name: 'remove'; accountId: string; error?: string };

interface Notice {
  kind: 'success' | 'error' | 'info';
  text: string;
}

/** How long a notice stays when a new request arrives (so "Account added" stays for its request). */
const NOTICE_MS = 5000;
let noticeAt = 0;

function notify(notice: Notice | undefined) {
  state.notice = notice;
  noticeAt = Date.now();
}

const state = {
  view: { name: 'home' } as View,
  accounts: [] as StoredAccount[],
  requests: new Map<string, PendingRequest[]>(),
  watches: new Map<string, RequestWatch>(),
  connected: new Map<string, boolean>(),
  typed: new Map<string, string>(),
  numberErrors: new Map<string, string>(),
  notice: undefined as Notice | undefined,
  pushBusy: false,
  pushTried: false,
  screenLockAvailable: false,
};

const root = () => document.getElementById('app') as HTMLElement;

function deviceOf(account: StoredAccount): DeviceAccount {
  return new DeviceAccount(account.server, account.deviceId, account.privateKey);
}

function accountById(id: string): StoredAccount | undefined {
  return state.accounts.find((a) => a.id === id);
}

function allRequests(): { accountId: string; request: PendingRequest }[] {
  const list: { accountId: string; request: PendingRequest }[] = [];
  for (const account of state.accounts) {
    for (const request of state.requests.get(account.id) ?? []) list.push({ accountId: account.id, request });
  }
  return list.sort((a, b) => a.request.createdAt.localeCompare(b.request.createdAt));
}

function announce(text: string) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

/** Words for a failed call to a server. */
function problemText(error: unknown, server?: string): string {
  if (error instanceof AuthenticatorError) return error.message;
  if (error instanceof TypeError)
    return `Could not reach ${server ? hostOf(server) : 'the server'}. Check you are online, then try again.`;
  return error instanceof Error ? error.message : 'Something went wrong. Try again.';
}

// ---------------------------------------------------------------------------------------------
// Rendering

function go(view: View, focus: 'heading' | 'keep' = 'heading') {
  // A notice is about what just happened on the home screen; other screens have their own words.
  if (view.name !== 'home') state.notice = undefined;
  // The camera runs only while the scanning screen is shown and not busy adding an account.
  if (view.name !== 'scan' || view.busy) stopCamera();
  state.view = view;
  render(focus);
}

function render(focus: 'heading' | 'keep' = 'keep') {
  const active = document.activeElement?.id;
  const content = viewContent(state.view);
  root().replaceChildren(...content);
  const heading = root().querySelector('h1');
  document.title = `${heading?.textContent ?? APP_NAME} - ${APP_NAME}`;
  const summary = root().querySelector<HTMLElement>('.nhsuk-error-summary');
  if (focus === 'heading') (summary ?? heading)?.focus();
  else if (active) document.getElementById(active)?.focus();
  void refreshCodes();
}

function viewContent(view: View): Node[] {
  switch (view.name) {
    case 'home':
      return homeView();
    case 'add':
      return addView();
    case 'work':
      return workView();
    case 'scan':
      return scanView(view);
    case 'link':
      return linkView(view);
    case 'unlock':
      return unlockView(view);
    case 'pin-setup':
      return pinSetupView(view);
    case 'pin':
      return pinView(view);
    case 'deny':
      return denyView(view);
    case 'remove':
      return removeView(view);
  }
}

function heading(text: string, caption?: string): Node[] {
  return [
    caption ? h('span', { class: 'nhsuk-caption-l' }, caption) : null,
    h('h1', { class: 'nhsuk-heading-l', tabindex: '-1' }, text),
  ].filter((n): n is HTMLElement => n !== null);
}

function noticeBox(): Node | null {
  const notice = state.notice;
  if (!notice) return null;
  if (notice.kind === 'error')
    return h(
      'div',
      { class: 'nhsuk-inset-text gh-notice gh-notice--error', role: 'alert' },
      h('p', {}, notice.text),
    );
  return h(
    'div',
    {
      class: `nhsuk-inset-text gh-notice${notice.kind === 'success' ? ' gh-notice--success' : ''}`,
      role: 'status',
    },
    h('p', {}, notice.text),
  );
}

function homeView(): Node[] {
  const requests = allRequests();
  const offline = !navigator.onLine;
  const nodes: Child[] = [
    ...heading('Authenticator'),
    noticeBox(),
    offline
      ? h(
          'p',
          { class: 'gh-connection', role: 'status' },
          'You are offline. Verification codes still work; requests arrive when you are back online.',
        )
      : null,
  ];
  if (requests.length > 0) {
    nodes.push(
      h(
        'section',
        { 'aria-labelledby': 'requests-heading' },
        h('h2', { class: 'nhsuk-heading-m', id: 'requests-heading' }, 'Requests waiting for you'),
        ...requests.map(({ accountId, request }) => requestCard(accountId, request)),
      ),
    );
  }
  nodes.push(
    h(
      'section',
      { 'aria-labelledby': 'accounts-heading' },
      h('h2', { class: 'nhsuk-heading-m', id: 'accounts-heading' }, 'Accounts'),
      state.accounts.length === 0
        ? h(
            'p',
            {},
            'There are no accounts in this app yet. Add your work or school account to approve sign-ins.',
          )
        : h(
            'ul',
            { class: 'nhsuk-list gh-accounts' },
            ...state.accounts.map((a) => h('li', {}, accountCard(a))),
          ),
      button('+ Add account', () => go({ name: 'add' }), { id: 'add-account' }),
    ),
  );
  const push = pushOffer();
  if (push) nodes.push(push);
  return nodes.filter((n): n is Node => n !== null && n !== undefined && n !== false);
}

function requestTitle(request: PendingRequest): string {
  if (request.purpose === 'registration') return 'Finish adding your account';
  if (request.purpose === 'approval') return 'Approve sign-in?';
  return 'Are you trying to sign in?';
}

function summaryRow(key: string, value: string) {
  return h(
    'div',
    { class: 'nhsuk-summary-list__row' },
    h('dt', { class: 'nhsuk-summary-list__key' }, key),
    h('dd', { class: 'nhsuk-summary-list__value' }, value),
  );
}

function requestCard(accountId: string, request: PendingRequest) {
  const headingId = `request-${request.id}-heading`;
  const numberId = `number-${request.id}`;
  const needsNumber = request.purpose !== 'approval';
  const error = state.numberErrors.get(request.id);
  const rows = [
    summaryRow('Account', `${request.account} (${request.issuer})`),
    summaryRow('Application', request.application),
    summaryRow('Time', timeOfDay(request.createdAt)),
    summaryRow('Location', request.location),
  ];
  if (request.location !== request.clientAddress) rows.push(summaryRow('Address', request.clientAddress));
  const numberField = needsNumber
    ? input({
        id: numberId,
        label:
          request.purpose === 'registration'
            ? 'Enter the number shown on your PC'
            : 'Enter the number shown to sign in',
        inputmode: 'numeric',
        width: '2',
        value: state.typed.get(request.id) ?? '',
        error,
        labelClass: 'nhsuk-label--s',
      })
    : null;
  if (numberField) {
    const field = numberField.querySelector('input') as HTMLInputElement;
    field.maxLength = 2;
    field.addEventListener('input', () => state.typed.set(request.id, field.value));
  }
  return h(
    'article',
    { class: 'nhsuk-card gh-request', 'aria-labelledby': headingId },
    h(
      'div',
      { class: 'nhsuk-card__content' },
      h('h3', { class: 'nhsuk-card__heading nhsuk-heading-m', id: headingId }, requestTitle(request)),
      h('dl', { class: 'nhsuk-summary-list' }, ...rows),
      numberField,
      h(
        'div',
        { class: 'gh-button-row' },
        button(
          ['Yes', hidden(`, approve the request from ${request.application}`)],
          () => void approve(accountId, request),
          { id: `yes-${request.id}` },
        ),
        button(
          ["No, it's not me", hidden(`: deny the request from ${request.application}`)],
          () => go({ name: 'deny', accountId, request }),
          { kind: 'secondary', id: `no-${request.id}` },
        ),
      ),
    ),
  );
}

function accountCard(account: StoredAccount) {
  const headingId = `account-${account.id}-heading`;
  const codeId = `code-${account.id}`;
  return h(
    'article',
    { class: 'nhsuk-card gh-account', 'aria-labelledby': headingId },
    h(
      'div',
      { class: 'nhsuk-card__content' },
      h('h3', { class: 'nhsuk-card__heading nhsuk-heading-s', id: headingId }, account.account),
      h('p', { class: 'nhsuk-body-s gh-account__issuer' }, `${account.issuer} · ${hostOf(account.server)}`),
      state.connected.get(account.id) === false && navigator.onLine
        ? h(
            'p',
            { class: 'nhsuk-body-s gh-account__offline' },
            `${hostOf(account.server)} cannot be reached at the moment: new requests will appear when it can. The code below works all the same.`,
          )
        : null,
      h('p', { class: 'gh-account__code-label', id: `${codeId}-label` }, 'Verification code'),
      h('p', {
        class: 'gh-code gh-account__code',
        id: codeId,
        'data-code-for': account.id,
        'aria-labelledby': `${codeId}-label ${codeId}`,
      }),
      h('p', { class: 'nhsuk-body-s gh-account__countdown', 'data-countdown-for': account.id }),
      button(
        ['Remove account', hidden(` ${account.account}`)],
        () => go({ name: 'remove', accountId: account.id }),
        { kind: 'secondary', id: `remove-${account.id}` },
      ),
    ),
  );
}

function addView(): Node[] {
  return [
    ...heading('Add account'),
    h('p', {}, 'What kind of account are you adding?'),
    button('Work or school account', () => go({ name: 'work' })),
    h(
      'p',
      {},
      linkButton('Cancel', () => go({ name: 'home' })),
    ),
  ];
}

function workView(): Node[] {
  return [
    ...heading('Add a work or school account'),
    h(
      'p',
      {},
      'On your PC, the page that sets up the authenticator app shows a QR code. Scan it with this app.',
    ),
    button('Scan QR code', () => go({ name: 'scan' })),
    h(
      'p',
      {},
      linkButton('Cancel', () => go({ name: 'home' })),
    ),
  ];
}

// ---------------------------------------------------------------------------------------------
// Scanning and activation

/** The camera's picture and what it is doing; scanning starts once they are on the screen. */
function cameraView(): Node[] {
  const video = h('video', {
    class: 'gh-camera',
    muted: true,
    playsinline: true,
    'aria-label': 'Camera view for scanning the QR code',
  }) as HTMLVideoElement;
  const status = h('p', { role: 'status' }, 'Starting the camera…');
  setTimeout(() => void startCamera(video, status, (text) => addAccount(text, undefined)), 0);
  return [video, status];
}

function scanView(view: Extract<View, { name: 'scan' }>): Node[] {
  const errors = view.errors ?? [];
  const fieldError = (field: string) => errors.find((e) => e.field === field)?.text;
  const nodes: Child[] = [...heading('Scan QR code'), errorSummary(errors)];
  if (cameraScanning()) {
    if (!view.busy) nodes.push(...cameraView());
  } else {
    nodes.push(
      h(
        'p',
        { class: 'nhsuk-inset-text' },
        'This browser cannot scan QR codes. Paste the link or type the code shown on your PC instead.',
      ),
    );
  }
  const form = handledForm(
    () => void submitActivation(),
    h('h2', { class: 'nhsuk-heading-m' }, 'Paste the link or type the code'),
    input({
      id: 'activation-input',
      label: 'Link or code',
      hint: "On your PC, select Can't scan image? to see the link and the code.",
      error: fieldError('activation-input'),
      value: view.link ?? '',
    }),
    input({
      id: 'server-input',
      label: 'Server address',
      hint: 'Only needed when you type the code, for example https://portal.example.org',
      error: fieldError('server-input'),
      value: view.server ?? location.origin,
      type: 'url',
      inputmode: 'url',
    }),
    h(
      'button',
      {
        type: 'submit',
        class: 'nhsuk-button',
        disabled: view.busy === true,
        'aria-disabled': view.busy ? 'true' : undefined,
      },
      view.busy ? 'Adding your account…' : 'Add account',
    ),
  );
  nodes.push(
    form,
    h(
      'p',
      {},
      linkButton('Cancel', () => {
        stopCamera();
        go({ name: 'home' });
      }),
    ),
  );
  return nodes.filter((n): n is Node => n !== null && n !== undefined && n !== false);
}

async function submitActivation() {
  const link = fieldValue('activation-input').trim();
  const server = fieldValue('server-input').trim();
  const errors: FieldError[] = [];
  if (!link) errors.push({ field: 'activation-input', text: 'Enter the link or the code shown on your PC' });
  if (errors.length) return go({ name: 'scan', errors, link, server });
  stopCamera();
  await addAccount(link, server || undefined, { name: 'scan', link, server });
}

function linkView(view: Extract<View, { name: 'link' }>): Node[] {
  let host = '';
  try {
    host = new URL(view.link).host;
  } catch {
    host = '';
  }
  return [
    ...heading('Add a work or school account'),
    ...(view.error
      ? [h('div', { class: 'nhsuk-error-summary', role: 'alert' }, h('p', {}, view.error))]
      : []),
    h('p', {}, `This link adds your account at ${host || 'your organisation'} to this app.`),
    h(
      'button',
      {
        type: 'button',
        class: 'nhsuk-button',
        disabled: view.busy === true,
        onclick: () => void addAccount(view.link, undefined, { name: 'link', link: view.link }),
      },
      view.busy ? 'Adding your account…' : 'Add account',
    ),
    h(
      'p',
      {},
      linkButton('Cancel', () => go({ name: 'home' })),
    ),
  ];
}

/** Activates (protocol: "Activation") with a new non-extractable key, and keeps the account. */
async function addAccount(
  link: string,
  server: string | undefined,
  from: Extract<View, { name: 'scan' } | { name: 'link' }> = { name: 'scan', link },
) {
  go({ ...from, busy: true } as View, 'keep');
  try {
    const keys = await generateDeviceKeys(false);
    const activated = await activate(link, await publicJwk(keys), deviceNameFor(navigator.userAgent), server);
    const account: StoredAccount = {
      id: crypto.randomUUID(),
      server: activated.server,
      deviceId: activated.deviceId,
      account: activated.account,
      issuer: activated.issuer,
      privateKey: keys.privateKey,
      totp: activated.totp,
      addedAt: new Date().toISOString(),
    };
    await saveAccount(account);
    state.accounts.push(account);
    watch(account);
    state.pushTried = false;
    notify({
      kind: 'success',
      text: `Account added: ${account.account}. To finish, enter the number shown on your PC below and select Yes.`,
    });
    go({ name: 'home' });
  } catch (error) {
    const text =
      error instanceof AuthenticatorError || error instanceof TypeError
        ? problemText(error, server ?? link)
        : 'Enter the link or the code exactly as your PC shows it';
    if (from.name === 'link') go({ name: 'link', link: from.link, error: text });
    else
      go({
        name: 'scan',
        link: from.link,
        server: from.server,
        errors: [{ field: 'activation-input', text }],
      });
  }
}

// ---------------------------------------------------------------------------------------------
// Answering requests

async function approve(accountId: string, request: PendingRequest) {
  let number = '';
  if (request.purpose !== 'approval') {
    const typed = typedNumber(fieldValue(`number-${request.id}`));
    if (!typed) {
      state.numberErrors.set(request.id, 'Enter the 2-digit number shown on your PC');
      render('keep');
      document.getElementById(`number-${request.id}`)?.focus();
      return;
    }
    number = typed;
  }
  state.numberErrors.delete(request.id);
  const answer = { accountId, request, number };
  if (await loadScreenLock()) return go({ name: 'unlock', answer });
  go((await loadPin()) ? { name: 'pin', answer } : { name: 'pin-setup', answer });
}

function pinSetupView(view: Extract<View, { name: 'pin-setup' }>): Node[] {
  const errors = view.errors ?? [];
  const fieldError = (field: string) => errors.find((e) => e.field === field)?.text;
  return [
    ...heading('Choose a PIN'),
    errorSummary(errors),
    h('p', {}, 'You will enter this PIN each time you approve a request, so that only you can approve them.'),
    handledForm(
      () => void choosePin(view.answer),
      input({
        id: 'new-pin',
        label: 'PIN',
        hint: 'At least 4 digits',
        type: 'password',
        inputmode: 'numeric',
        autocomplete: 'new-password',
        width: '5',
        error: fieldError('new-pin'),
      }),
      input({
        id: 'confirm-pin',
        label: 'Enter the PIN again',
        type: 'password',
        inputmode: 'numeric',
        autocomplete: 'new-password',
        width: '5',
        error: fieldError('confirm-pin'),
      }),
      h('button', { type: 'submit', class: 'nhsuk-button' }, 'Save PIN and approve'),
    ),
    state.screenLockAvailable
      ? h(
          'div',
          {},
          h('h2', { class: 'nhsuk-heading-s' }, 'Or use your screen lock'),
          h(
            'p',
            {},
            'Confirm it is you with what unlocks this phone (fingerprint, face or its own PIN), instead of a PIN for this app.',
          ),
          button('Use my screen lock instead', () => void chooseScreenLock(view.answer), {
            kind: 'secondary',
          }),
        )
      : null,
    h(
      'p',
      {},
      linkButton('Cancel', () => go({ name: 'home' })),
    ),
  ].filter((n): n is Node => n !== null);
}

async function choosePin(answer: PendingAnswer) {
  const pin = fieldValue('new-pin');
  const again = fieldValue('confirm-pin');
  const problem = pinProblem(pin);
  if (problem) return go({ name: 'pin-setup', answer, errors: [{ field: 'new-pin', text: problem }] });
  if (pin !== again)
    return go({
      name: 'pin-setup',
      answer,
      errors: [{ field: 'confirm-pin', text: 'The PINs do not match' }],
    });
  await savePin(await hashPin(pin));
  await sendAnswer(answer.accountId, answer.request, 'approve', answer.number, false);
}

async function chooseScreenLock(answer: PendingAnswer) {
  try {
    await saveScreenLock(await setUpScreenLock());
  } catch {
    return go({
      name: 'pin-setup',
      answer,
      errors: [{ field: 'new-pin', text: 'Your screen lock could not be used. Choose a PIN instead' }],
    });
  }
  await sendAnswer(answer.accountId, answer.request, 'approve', answer.number, false);
}

function unlockView(view: Extract<View, { name: 'unlock' }>): Node[] {
  return [
    ...heading("Confirm it's you"),
    view.error ? h('div', { class: 'nhsuk-error-summary', role: 'alert' }, h('p', {}, view.error)) : null,
    h('p', {}, `To approve the request from ${view.answer.request.application}, use your screen lock.`),
    h(
      'button',
      {
        type: 'button',
        class: 'nhsuk-button',
        disabled: view.busy === true,
        onclick: () => void unlock(view.answer),
      },
      'Use screen lock',
    ),
    h(
      'p',
      {},
      linkButton('Cancel', () => go({ name: 'home' })),
    ),
  ].filter((n): n is Node => n !== null);
}

async function unlock(answer: PendingAnswer) {
  const lock = await loadScreenLock();
  let confirmed = false;
  try {
    confirmed = lock ? await confirmWithScreenLock(lock) : false;
  } catch {
    confirmed = false;
  }
  if (!confirmed)
    return go({
      name: 'unlock',
      answer,
      error: 'Your screen lock did not confirm it is you, so nothing was sent. Try again.',
    });
  await sendAnswer(answer.accountId, answer.request, 'approve', answer.number, false);
}

function pinView(view: Extract<View, { name: 'pin' }>): Node[] {
  const errors = view.errors ?? [];
  return [
    ...heading('Enter your PIN'),
    errorSummary(errors),
    h('p', {}, `To approve the request from ${view.answer.request.application}, enter your PIN.`),
    handledForm(
      () => void checkPin(view.answer),
      input({
        id: 'pin',
        label: 'PIN',
        type: 'password',
        inputmode: 'numeric',
        autocomplete: 'current-password',
        width: '5',
        error: errors.find((e) => e.field === 'pin')?.text,
      }),
      h('button', { type: 'submit', class: 'nhsuk-button' }, 'Approve'),
    ),
    h(
      'p',
      {},
      linkButton('Cancel', () => go({ name: 'home' })),
    ),
  ].filter((n): n is Node => n !== null);
}

async function checkPin(answer: PendingAnswer) {
  const attempts = await loadPinAttempts();
  const wait = pinWaitSeconds(attempts, Date.now());
  if (wait > 0) {
    const minutes = Math.ceil(wait / 60);
    return go({
      name: 'pin',
      answer,
      errors: [
        {
          field: 'pin',
          text: `Too many wrong PINs. Wait ${minutes} minute${minutes === 1 ? '' : 's'}, then try again`,
        },
      ],
    });
  }
  const stored = await loadPin();
  const pin = fieldValue('pin');
  if (!stored || !pin || !(await pinMatches(pin, stored))) {
    await savePinAttempts(afterWrongPin(attempts, Date.now()));
    return go({ name: 'pin', answer, errors: [{ field: 'pin', text: 'The PIN is not correct' }] });
  }
  if (attempts?.failures) await savePinAttempts({ failures: 0, lockedUntil: 0 });
  await sendAnswer(answer.accountId, answer.request, 'approve', answer.number, false);
}

function denyView(view: Extract<View, { name: 'deny' }>): Node[] {
  return [
    ...heading('Report this request?'),
    view.error ? h('div', { class: 'nhsuk-error-summary', role: 'alert' }, h('p', {}, view.error)) : null,
    h(
      'p',
      {},
      `You selected No, it's not me for the request from ${view.request.application} (${view.request.location}).`,
    ),
    h(
      'p',
      {},
      'If you did not try to sign in, someone else may know your password. Report the request so that your organisation can look into it. New requests to your app are then paused for a while; change your password as soon as you can.',
    ),
    h(
      'div',
      { class: 'gh-button-row' },
      button('Report', () => void sendAnswer(view.accountId, view.request, 'deny', '', true), {
        kind: 'warning',
      }),
      button("Don't report", () => void sendAnswer(view.accountId, view.request, 'deny', '', false), {
        kind: 'secondary',
      }),
    ),
  ].filter((n): n is Node => n !== null);
}

async function sendAnswer(
  accountId: string,
  request: PendingRequest,
  decision: 'approve' | 'deny',
  number: string,
  report: boolean,
) {
  const account = accountById(accountId);
  if (!account) return go({ name: 'home' });
  try {
    const status = await deviceOf(account).answer(request.id, decision, number, report);
    notify(
      status === 'approved'
        ? {
            kind: 'success',
            text:
              request.purpose === 'registration'
                ? `Approved. This app is now set up for ${account.account}.`
                : `Approved. You can carry on with ${request.application} on your PC.`,
          }
        : status === 'wrong_number'
          ? {
              kind: 'error',
              text: 'The number did not match the one on your PC, so the request was refused. On your PC, select Try again to get a new number.',
            }
          : {
              kind: 'info',
              text: report
                ? 'Request denied and reported. Your organisation has been told. Change your password as soon as you can.'
                : 'Request denied.',
            },
    );
  } catch (error) {
    notify({ kind: 'error', text: problemText(error, account.server) });
  }
  removeRequest(accountId, request.id);
  go({ name: 'home' });
}

function removeRequest(accountId: string, requestId: string) {
  state.requests.set(
    accountId,
    (state.requests.get(accountId) ?? []).filter((r) => r.id !== requestId),
  );
  state.typed.delete(requestId);
  state.numberErrors.delete(requestId);
}

// ---------------------------------------------------------------------------------------------
// Removing an account

function removeView(view: Extract<View, { name: 'remove' }>): Node[] {
  const account = accountById(view.accountId);
  if (!account) return homeView();
  return [
    ...heading('Remove account?'),
    view.error ? h('div', { class: 'nhsuk-error-summary', role: 'alert' }, h('p', {}, view.error)) : null,
    h('p', {}, `${account.account} at ${account.issuer} (${hostOf(account.server)})`),
    h(
      'p',
      {},
      'This app will no longer get sign-in requests or show verification codes for this account. To sign in, you will need another method, or to set up the app again.',
    ),
    h(
      'div',
      { class: 'gh-button-row' },
      button(['Remove account', hidden(` ${account.account}`)], () => void removeAccount(account), {
        kind: 'warning',
      }),
      button('Cancel', () => go({ name: 'home' }), { kind: 'secondary' }),
    ),
  ].filter((n): n is Node => n !== null);
}

async function removeAccount(account: StoredAccount) {
  try {
    await deviceOf(account).remove();
  } catch (error) {
    // Already gone on the server (removed from the portal): forget it here too.
    if (!(error instanceof AuthenticatorError && error.code === 'device_not_found')) {
      return go({ name: 'remove', accountId: account.id, error: problemText(error, account.server) });
    }
  }
  state.watches.get(account.id)?.stop();
  state.watches.delete(account.id);
  state.requests.delete(account.id);
  await deleteAccount(account.id);
  await unsubscribePush(account);
  state.accounts = state.accounts.filter((a) => a.id !== account.id);
  notify({ kind: 'success', text: `Account removed: ${account.account}.` });
  go({ name: 'home' });
}

// ---------------------------------------------------------------------------------------------
// Verification codes

async function refreshCodes() {
  const now = Date.now();
  for (const account of state.accounts) {
    const codeElement = document.querySelector<HTMLElement>(`[data-code-for="${account.id}"]`);
    const countdown = document.querySelector<HTMLElement>(`[data-countdown-for="${account.id}"]`);
    if (!codeElement) continue;
    const { secret, period, digits } = account.totp;
    try {
      const code = groupCode(await totpCode(secret, new Date(now), period, digits));
      if (codeElement.textContent !== code) codeElement.textContent = code;
    } catch {
      codeElement.textContent = 'Unavailable';
    }
    if (countdown) {
      const left = secondsLeft(now, period);
      const text = `Changes in ${left} second${left === 1 ? '' : 's'}`;
      if (countdown.textContent !== text) countdown.textContent = text;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Requests as they happen (server-sent events)

function watch(account: StoredAccount) {
  state.watches.get(account.id)?.stop();
  state.watches.set(
    account.id,
    watchRequests(deviceOf(account), {
      onRequests(requests) {
        const before = new Set((state.requests.get(account.id) ?? []).map((r) => r.id));
        const changed = before.size !== requests.length || requests.some((r) => !before.has(r.id));
        state.requests.set(account.id, requests);
        if (!changed) return;
        const fresh = requests.filter((r) => !before.has(r.id));
        // What the last notice said is old news next to a new request.
        if (fresh[0] && Date.now() - noticeAt > NOTICE_MS) state.notice = undefined;
        if (fresh[0]) announce(`New request: ${requestTitle(fresh[0])} ${fresh[0].application}`);
        if (state.view.name === 'home') render('keep');
      },
      onConnection(connected) {
        state.connected.set(account.id, connected);
        if (state.view.name === 'home') render('keep');
      },
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Web Push (where the browser has it and the user agrees)

function pushOffer(): Node | null {
  if (!pushSupported() || Notification.permission === 'denied' || state.pushTried) return null;
  if (!state.accounts.some((a) => !a.push)) return null;
  return h(
    'section',
    { 'aria-labelledby': 'push-heading', class: 'gh-push' },
    h('h2', { class: 'nhsuk-heading-s', id: 'push-heading' }, 'Notifications'),
    h('p', {}, 'Get a notification on this phone when a request arrives, even when the app is closed.'),
    button(state.pushBusy ? 'Turning on notifications…' : 'Turn on notifications', () => void turnOnPush(), {
      kind: 'secondary',
      id: 'turn-on-push',
    }),
  );
}

async function turnOnPush() {
  if (state.pushBusy) return;
  state.pushBusy = true;
  render('keep');
  let done = 0;
  let problem = '';
  try {
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') {
      problem = 'Notifications are off. Requests still appear here while the app is open.';
    } else {
      for (const account of state.accounts.filter((a) => !a.push)) {
        if (await subscribeAccount(account, deviceOf(account))) done++;
      }
      if (done === 0)
        problem =
          'Your organisation does not send notifications. Requests appear here while the app is open.';
    }
  } catch {
    problem =
      'Notifications could not be turned on in this browser. Requests still appear here while the app is open.';
  }
  state.pushBusy = false;
  // Asked once a session: the answer does not change until the browser or the server does.
  state.pushTried = true;
  notify(problem ? { kind: 'info', text: problem } : { kind: 'success', text: 'Notifications are on.' });
  render('keep');
}

// ---------------------------------------------------------------------------------------------
// Start

async function start() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/authenticator/sw.js', { scope: '/authenticator/' }).catch(() => {
      // No offline copy (a private window, or an insecure address): the app works while online.
    });
  }
  try {
    state.accounts = await listAccounts();
  } catch {
    notify({
      kind: 'error',
      text: 'This browser does not let the app store its accounts. Open it in a normal (not private) window.',
    });
  }
  for (const account of state.accounts) watch(account);
  state.screenLockAvailable = await screenLockAvailable();

  const link = activationFromHash(location.hash);
  if (link) {
    // The link is used once: do not leave it in the address or the history.
    history.replaceState(null, '', location.pathname);
    go({ name: 'link', link });
  } else {
    go({ name: 'home' }, 'keep');
  }
  document.documentElement.dataset.appReady = 'true';

  setInterval(() => void refreshCodes(), 1000);
  window.addEventListener('online', () => state.view.name === 'home' && render('keep'));
  window.addEventListener('offline', () => state.view.name === 'home' && render('keep'));
  window.addEventListener('hashchange', () => {
    const next = activationFromHash(location.hash);
    if (!next) return;
    history.replaceState(null, '', location.pathname);
    go({ name: 'link', link: next });
  });
}

void start();
