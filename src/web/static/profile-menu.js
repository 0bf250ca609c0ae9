// The Profile menu is a <details> element, so it opens and closes without JavaScript. This adds
// what a menu button is expected to do besides: Escape closes it (wherever the focus is, since a
// tap may not focus Profile; focus goes back to Profile), and a click or focus outside closes it.
for (const menu of document.querySelectorAll('details.gh-menu')) {
  const toggle = menu.querySelector('summary');
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || !menu.open) return;
    event.preventDefault();
    menu.open = false;
    toggle?.focus();
  });
  for (const type of ['click', 'focusin']) {
    document.addEventListener(type, (event) => {
      if (menu.open && event.target instanceof Node && !menu.contains(event.target)) menu.open = false;
    });
  }
}
