// Keeps every form of the page on the page: pressing Enter in a field would otherwise submit
// it and reload the page. A listener, not an `onsubmit` attribute, because the pages'
// Content-Security-Policy forbids inline handlers (Chromium 156.0.8078.129 reports such an
// attribute as a violation as soon as the page is parsed).
for (const form of document.querySelectorAll('form')) {
  form.addEventListener('submit', (e) => e.preventDefault());
}
