/**
 * The console's only script (CSP: script-src 'self', no inline code). Pages work without
 * it; it asks before destructive forms (data-confirm), shows a busy label and blocks double
 * submits (data-busy: a Test waits for DingTalk's send result), and hints the bind value's
 * format for the chosen kind.
 */
export const CONSOLE_JS = `'use strict';
(function () {
  function submitButtons(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el instanceof HTMLButtonElement && el.type === 'submit';
    });
  }
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.sent === '1') {
      event.preventDefault();
      return;
    }
    form.dataset.sent = '1';
    var busy = form.dataset.busy;
    var submitter = event.submitter;
    if (busy && submitter instanceof HTMLButtonElement) {
      submitter.dataset.label = submitter.textContent;
      submitter.textContent = busy;
    }
    setTimeout(function () {
      submitButtons(form).forEach(function (b) { b.disabled = true; b.setAttribute('aria-busy', 'true'); });
    }, 0);
  });
  // Back to a page kept in the back-forward cache: its forms may be used again.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return;
    document.querySelectorAll('form[data-sent]').forEach(function (form) {
      delete form.dataset.sent;
      submitButtons(form).forEach(function (b) {
        b.disabled = false;
        b.removeAttribute('aria-busy');
        if (b.dataset.label) b.textContent = b.dataset.label;
      });
    });
  });
  var HINTS = {
    mobile: { placeholder: '13800000000', inputMode: 'tel' },
    dingtalk_user_id: { placeholder: 'manager4220', inputMode: 'text' },
    union_id: { placeholder: 'unionid', inputMode: 'text' }
  };
  document.querySelectorAll('form.bind').forEach(function (form) {
    var input = form.querySelector('[data-kind-input]');
    if (!input) return;
    function update() {
      var checked = form.querySelector('input[name="kind"]:checked');
      var hint = HINTS[checked ? checked.value : 'mobile'];
      if (!hint) return;
      input.placeholder = hint.placeholder;
      input.inputMode = hint.inputMode;
    }
    form.addEventListener('change', update);
    update();
  });
})();
`;
