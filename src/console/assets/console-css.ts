/**
 * The console's stylesheet (CSP: style-src 'self', so no style attributes anywhere: the
 * SVG chart is coloured by class too). Fonts are the system's: nothing is downloaded, and
 * the CJK families come first so Chinese never falls back to boxes.
 */
export const CONSOLE_CSS = `:root {
  --blue: #1677ff; --blue-dark: #0958d9; --blue-soft: #e6f0ff;
  --text: #171a1d; --muted: #5c6068; --line: #e3e5e8; --bg: #f5f6f8; --panel: #fff;
  --ok: #17a34a; --ok-soft: #e8f7ee; --bad: #d9363e; --bad-soft: #fdecec; --warn: #d48806; --warn-soft: #fff7e0;
  font-family: "PingFang SC", "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", system-ui, -apple-system, "Segoe UI", sans-serif;
  font-size: 14px; line-height: 1.5; color: var(--text); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--blue); text-decoration: none; }
a:hover { text-decoration: underline; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Noto Sans Mono CJK SC", monospace; font-size: .9em; color: var(--muted); }
h1 { font-size: 1.45rem; margin: .2rem 0 .6rem; font-weight: 600; }
h2 { font-size: 1.05rem; margin: 0 0 .6rem; font-weight: 600; }
.top { display: flex; align-items: center; gap: 1.5rem; padding: 0 1.5rem; height: 52px; background: var(--panel); border-bottom: 1px solid var(--line); }
.top .brand { font-weight: 600; font-size: 1.05rem; color: var(--text); padding-left: 28px; background: url("/assets/favicon.svg") left center / 20px 20px no-repeat; }
.top nav { display: flex; gap: .2rem; flex: 1; }
.top nav a { color: var(--muted); padding: .9rem .8rem; border-bottom: 2px solid transparent; }
.top nav a[aria-current="page"] { color: var(--blue); border-bottom-color: var(--blue); }
.top nav a:hover { text-decoration: none; color: var(--blue); }
.langs { display: flex; gap: .6rem; margin-left: auto; }
.langs strong { font-weight: 600; }
.signout { margin: 0; }
main { max-width: 1240px; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
.crumbs { color: var(--muted); font-size: .85rem; margin-bottom: .2rem; }
.meta, .hint { color: var(--muted); margin: .2rem 0 .8rem; }
.hint { font-size: .85rem; }
td .hint { margin: .3rem 0 0; }
.panel { background: var(--panel); border-radius: 8px; padding: 1.1rem 1.3rem; margin: 0 0 1rem; box-shadow: 0 1px 2px rgba(0,0,0,.05); }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 1rem; margin-bottom: 1rem; }
.card { background: var(--panel); border-radius: 8px; padding: 1rem 1.2rem; box-shadow: 0 1px 2px rgba(0,0,0,.05); }
.card h2 { font-size: .9rem; color: var(--muted); font-weight: 500; margin: 0; }
.big { font-size: 1.35rem; font-weight: 600; margin: .3rem 0; }
.dot { display: inline-block; width: .7rem; height: .7rem; border-radius: 50%; margin-right: .5rem; vertical-align: middle; }
.dot.ok { background: var(--ok); } .dot.bad { background: var(--bad); } .dot.warn { background: var(--warn); }
table { border-collapse: collapse; width: 100%; }
table.grid th, table.grid td { padding: .6rem .7rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
table.grid thead th { background: #fafbfc; color: var(--muted); font-weight: 500; font-size: .85rem; white-space: nowrap; }
table.grid .num { text-align: right; font-variant-numeric: tabular-nums; }
table.form th { width: 10rem; text-align: left; font-weight: 500; padding: .7rem 1rem .7rem 0; vertical-align: top; }
table.form td { padding: .5rem 1rem .5rem 0; vertical-align: top; }
table.scenarios td { white-space: nowrap; }
.scroll { overflow-x: auto; }
input, select, textarea { font: inherit; color: inherit; border: 1px solid #cfd3d8; border-radius: 6px; padding: .35rem .55rem; background: #fff; }
input:focus, select:focus, textarea:focus { outline: 2px solid var(--blue-soft); border-color: var(--blue); }
input[readonly], textarea[readonly] { background: #f3f4f6; color: var(--muted); }
[aria-invalid="true"] { border-color: var(--bad); background: var(--bad-soft); }
table.form input { width: 22rem; max-width: 100%; }
table.scenarios input[type="number"] { width: 5.5rem; display: block; }
textarea { width: 100%; font-family: inherit; }
input.wide { width: 100%; }
label { display: block; margin: 0 0 .6rem; }
label.check { display: inline-flex; gap: .35rem; align-items: center; margin-right: 1rem; }
label.check input { margin: 0; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 .8rem; padding: .6rem .9rem .2rem; }
legend { padding: 0 .3rem; color: var(--muted); }
fieldset.kinds { border: 0; padding: 0; margin: 0 0 .6rem; }
fieldset.kinds legend { padding: 0; margin-bottom: .3rem; }
button { font: inherit; cursor: pointer; border-radius: 6px; border: 1px solid #cfd3d8; background: #fff; padding: .35rem .9rem; color: var(--text); }
button:hover { border-color: var(--blue); color: var(--blue); }
button[disabled] { cursor: default; opacity: .6; }
button.primary { background: var(--blue); border-color: var(--blue); color: #fff; }
button.primary:hover { background: var(--blue-dark); color: #fff; }
button.danger { color: var(--bad); border-color: var(--bad); }
button.link { border: 0; background: none; padding: 0; color: var(--blue); }
button.link:hover { text-decoration: underline; }
.actions { margin: .8rem 0 0; display: flex; gap: 1rem; align-items: center; }
.ops { display: flex; gap: .9rem; align-items: center; white-space: nowrap; padding-top: .3rem; }
.ops form { display: none; }
form.lookup { display: flex; gap: .6rem; align-items: flex-end; }
form.lookup label { margin: 0; }
form.test label, form.bind label { max-width: 28rem; }
form.test input, form.bind input[name="value"], form.bind input[name="user_id"] { display: block; width: 100%; margin-top: .2rem; }
form.revert { display: inline; margin-left: .4rem; }
.switch-form { display: inline-block; margin: 0 .5rem 0 0; }
.switch { display: inline-flex; align-items: center; gap: .45rem; border: 0; background: none; padding: .1rem 0; }
.switch .knob { width: 36px; height: 20px; border-radius: 10px; background: #c4c8ce; position: relative; transition: background .15s; }
.switch .knob::after { content: ""; position: absolute; top: 2px; left: 2px; width: 16px; height: 16px; border-radius: 50%; background: #fff; box-shadow: 0 1px 2px rgba(0,0,0,.25); transition: left .15s; }
.switch[aria-checked="true"] .knob { background: var(--blue); }
.switch[aria-checked="true"] .knob::after { left: 18px; }
.switch .state { color: var(--muted); font-size: .85rem; min-width: 2em; text-align: left; }
.switch:hover { color: inherit; }
.switch-panel { display: flex; justify-content: space-between; align-items: center; }
.switch-panel .hint { margin: 0; }
.switch-cell { display: flex; align-items: center; gap: .6rem; }
.source { display: inline-flex; align-items: center; gap: .2rem; margin-top: .25rem; font-size: .78rem; }
.src { display: inline-block; padding: 0 .45rem; border-radius: 4px; font-size: .75rem; line-height: 1.6; background: #eef0f3; color: var(--muted); white-space: nowrap; }
.src-file { background: #f1ecff; color: #6941c6; }
.src-environment { background: #e5f6f6; color: #0e7c7b; }
.src-runtime { background: #fff1e0; color: #b54708; }
.pill { display: inline-block; padding: .05rem .55rem; border-radius: 10px; font-size: .8rem; margin-right: .5rem; }
.pill.ok { background: var(--ok-soft); color: var(--ok); } .pill.bad { background: var(--bad-soft); color: var(--bad); }
.banner { border-radius: 8px; padding: .7rem 1rem; margin: 0 0 1rem; border: 1px solid; }
.banner.ok { background: var(--ok-soft); border-color: #b7e4c7; color: #0f6b31; }
.banner.problem { background: var(--bad-soft); border-color: #f5c2c4; color: #8f1d22; }
.banner.note { background: var(--warn-soft); border-color: #f3d98b; color: #7a4f01; }
.banner p { margin: .2rem 0 0; }
.banner .detail { color: var(--text); word-break: break-word; }
.code { color: var(--muted); }
.result { border-left: 4px solid; border-radius: 8px; background: var(--panel); padding: .9rem 1.2rem; margin: 0 0 1rem; box-shadow: 0 1px 2px rgba(0,0,0,.05); }
.result.ok { border-color: var(--ok); } .result.bad { border-color: var(--bad); } .result.warn { border-color: var(--warn); }
.result h2 { margin: 0 0 .3rem; }
.result.ok h2 { color: var(--ok); } .result.bad h2 { color: var(--bad); } .result.warn h2 { color: var(--warn); }
.result p { margin: .3rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.2rem; margin: .6rem 0 1rem; }
dt { color: var(--muted); } dd { margin: 0; }
.login { max-width: 26rem; margin: 4rem auto; }
.login input { display: block; width: 100%; margin-top: .3rem; }
.external::after { content: " ↗"; }
.chart { margin: 1.2rem 0 0; }
.chart svg { width: 100%; height: auto; display: block; }
.chart text { font-size: 12px; fill: var(--muted); }
.chart text.empty { font-size: 14px; }
.chart .axis { stroke: #c4c8ce; } .chart .grid { stroke: var(--line); stroke-dasharray: 3 3; }
.chart figcaption { color: var(--muted); font-size: .85rem; margin-top: .4rem; display: flex; gap: 1.5rem; flex-wrap: wrap; align-items: center; }
.legend { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; flex-wrap: wrap; }
.legend li { display: flex; align-items: center; gap: .35rem; }
.swatch { display: inline-block; width: .75rem; height: .75rem; border-radius: 2px; }
.s0 { fill: #1677ff; background: #1677ff; } .s1 { fill: #13a8a8; background: #13a8a8; } .s2 { fill: #722ed1; background: #722ed1; }
.s3 { fill: #fa8c16; background: #fa8c16; } .s4 { fill: #eb2f96; background: #eb2f96; }
@media (max-width: 800px) { .cards { grid-template-columns: 1fr; } .top { flex-wrap: wrap; height: auto; } }
`;
