// The matching page's footer counts what is picked, on this page and carried from others, as
// boxes are ticked (without script the count follows on the next page load).
document.addEventListener('change', function (e) {
  var box = e.target;
  if (!box.matches || !box.matches('input[type=checkbox][name=pick]')) return;
  var form = box.form;
  var n = form.querySelectorAll('input[type=hidden][name=pick], input[type=checkbox][name=pick]:checked').length;
  var out = form.querySelector('[data-testid=selected-count]');
  if (out) out.textContent = String(n);
});
