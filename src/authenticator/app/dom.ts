/**
 * A small DOM builder and the NHS.UK form parts the app's screens use: text is always set as
 * text, never parsed as HTML.
 */

export type Child = Node | string | null | undefined | false;
export type Attributes = Record<string, string | boolean | undefined | ((event: Event) => void)>;

export function h(tag: string, attributes: Attributes = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else if (typeof value === 'string') element.setAttribute(name, value);
  }
  for (const child of children)
    if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

export const hidden = (text: string) => h('span', { class: 'nhsuk-u-visually-hidden' }, text);

export function button(
  text: Child | Child[],
  onClick: () => void,
  options: { kind?: 'secondary' | 'warning' | 'reverse'; id?: string } = {},
) {
  return h(
    'button',
    {
      type: 'button',
      class: `nhsuk-button${options.kind ? ` nhsuk-button--${options.kind}` : ''}`,
      id: options.id,
      onclick: onClick,
    },
    ...(Array.isArray(text) ? text : [text]),
  );
}

export function linkButton(text: string, onClick: () => void) {
  return h('button', { type: 'button', class: 'gh-link-button nhsuk-link', onclick: onClick }, text);
}

export interface FieldError {
  field: string;
  text: string;
}

export function errorSummary(errors: FieldError[]) {
  if (errors.length === 0) return null;
  return h(
    'div',
    { class: 'nhsuk-error-summary', role: 'alert', tabindex: '-1', 'aria-labelledby': 'error-summary-title' },
    h('h2', { class: 'nhsuk-error-summary__title', id: 'error-summary-title' }, 'There is a problem'),
    h(
      'div',
      { class: 'nhsuk-error-summary__body' },
      h(
        'ul',
        { class: 'nhsuk-list nhsuk-error-summary__list' },
        ...errors.map((e) => h('li', {}, h('a', { href: `#${e.field}` }, e.text))),
      ),
    ),
  );
}

/** An nhsuk text input with its label, hint and error message. */
export function input(options: {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  value?: string;
  type?: string;
  inputmode?: string;
  autocomplete?: string;
  width?: string;
  labelClass?: string;
}) {
  const described = [options.hint ? `${options.id}-hint` : '', options.error ? `${options.id}-error` : '']
    .filter(Boolean)
    .join(' ');
  const field = h('input', {
    class: `nhsuk-input${options.width ? ` nhsuk-input--width-${options.width}` : ''}${options.error ? ' nhsuk-input--error' : ''}`,
    id: options.id,
    name: options.id,
    type: options.type ?? 'text',
    inputmode: options.inputmode,
    autocomplete: options.autocomplete ?? 'off',
    spellcheck: 'false',
    'aria-describedby': described || undefined,
  }) as HTMLInputElement;
  field.value = options.value ?? '';
  return h(
    'div',
    { class: `nhsuk-form-group${options.error ? ' nhsuk-form-group--error' : ''}` },
    h('label', { class: `nhsuk-label ${options.labelClass ?? ''}`.trim(), for: options.id }, options.label),
    options.hint ? h('div', { class: 'nhsuk-hint', id: `${options.id}-hint` }, options.hint) : null,
    options.error
      ? h(
          'span',
          { class: 'nhsuk-error-message', id: `${options.id}-error` },
          hidden('Error: '),
          options.error,
        )
      : null,
    field,
  );
}

export function fieldValue(id: string): string {
  return (document.getElementById(id) as HTMLInputElement | null)?.value ?? '';
}

/** A form the app handles itself (no page load); the browser's own validation stays off for NHS.UK messages. */
export function handledForm(onSubmit: () => void, ...children: Child[]): HTMLElement {
  return h(
    'form',
    {
      novalidate: true,
      onsubmit: (event: Event) => {
        event.preventDefault();
        onSubmit();
      },
    },
    ...children,
  );
}
