/*
 * The UI's only two static files, served from memory: no build step, no inline script or
 * style (the Content-Security-Policy forbids both), and every page works without the script.
 */

export const STYLESHEET = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #667085; --line: #d9dde5; --bg: #f6f7f9;
  --card: #fff; --accent: #2f5bd3; --danger: #b42318; --ok: #067647; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8ee; --muted: #98a2b3; --line: #344054;
  --bg: #101828; --card: #1d2939; --accent: #84a9ff; --danger: #f97066; --ok: #47cd89; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.2rem; background: var(--card); border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header .brand { font-weight: 700; }
header nav a { margin-right: 1rem; color: var(--fg); text-decoration: none; }
header nav a[aria-current="page"] { color: var(--accent); font-weight: 600; }
header .who { margin-left: auto; color: var(--muted); display: flex; gap: .6rem; align-items: center; }
main { padding: 1.2rem; max-width: 1400px; margin: 0 auto; }
h1 { font-size: 1.3rem; margin: 0 0 1rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 .5rem; }
a { color: var(--accent); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: .8rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; }
.card .n { font-size: 1.7rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.card .l { color: var(--muted); }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; word-break: break-all; }
.muted { color: var(--muted); }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 1rem; }
form.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: .5rem .8rem; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8rem; }
label { display: flex; flex-direction: column; gap: .15rem; color: var(--muted); font-size: 12.5px; }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--fg); }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.secondary { background: var(--card); color: var(--fg); border-color: var(--line); }
button.danger { background: var(--danger); border-color: var(--danger); }
.actions { display: flex; gap: .5rem; align-items: end; flex-wrap: wrap; margin: .6rem 0; }
.inline { display: inline; }
.notice { padding: .6rem .9rem; border-radius: 6px; border: 1px solid var(--ok); margin-bottom: 1rem; }
.notice.error { border-color: var(--danger); }
meter { width: 100%; height: 1rem; }
td:has(> meter) { width: 45%; }
.pill { display: inline-block; padding: 0 .45rem; border-radius: 999px; border: 1px solid var(--line); font-size: 12px; }
.ok { color: var(--ok); } .bad { color: var(--danger); }
dl.value { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: .1rem .7rem; }
dl.value dt { color: var(--muted); }
dl.value dd { margin: 0; }
.type { color: var(--muted); font-size: 12px; margin-right: .3rem; }
.masked { letter-spacing: .1em; color: var(--muted); }
.login { max-width: 360px; margin: 10vh auto; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1.4rem; display: grid; gap: .8rem; }
.pager { display: flex; gap: 1rem; margin: .8rem 0; align-items: center; }
`;

export const SCRIPT = `
'use strict';
// The overview refreshes itself: fetch this page again and swap the numbers in place.
(function refresh() {
  var target = document.querySelector('[data-refresh]');
  if (!target) return;
  var every = Number(target.getAttribute('data-refresh')) || 5000;
  setInterval(function () {
    if (document.hidden) return;
    fetch(location.href, { credentials: 'same-origin' })
      .then(function (response) { if (response.redirected || !response.ok) { location.reload(); throw 0; } return response.text(); })
      .then(function (text) {
        var next = new DOMParser().parseFromString(text, 'text/html').querySelector('[data-refresh]');
        if (next) target.replaceChildren.apply(target, Array.from(next.childNodes));
      })
      .catch(function () {});
  }, every);
})();
// Destructive forms ask first.
document.addEventListener('submit', function (event) {
  var form = event.target;
  var text = form && form.getAttribute && form.getAttribute('data-confirm');
  if (text && !window.confirm(text)) event.preventDefault();
});
// "Select all" in the session list.
document.addEventListener('change', function (event) {
  var box = event.target;
  if (!box || box.id !== 'select-all') return;
  document.querySelectorAll('input[name="id"][form="delete-selected"]').forEach(function (other) { other.checked = box.checked; });
});
`;
