// The HTML report's inline style and script. The script only places the rectangles laid out at render
// time (html-treemap.ts) and answers clicks; every name it shows goes through textContent or a dataset
// value, never through markup. Plain ES2020, no library: it runs as it is written here.

export const HTML_STYLE = `
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --shared: #f08c00; --unused: #d6336c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1320px; margin: 0 auto; padding: 20px 28px 40px; }
h1 { font-size: 22px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 6px; }
.meta, .hint { color: var(--muted); margin: 4px 0; }
table { border-collapse: collapse; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { font-weight: 600; background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.up, td.down { font-weight: 600; }
td.name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; overflow-wrap: anywhere; }
table.counts th[scope=row] { font-weight: 500; }
.scroll { max-height: 480px; overflow: auto; border: 1px solid var(--line); }
table.layers { width: 100%; }
table.layers thead th { position: sticky; top: 0; }
table.layers tr.shared td:last-child { color: #9a5b00; font-weight: 600; }
table.layers tr.unused td:last-child { color: #a61e4d; font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 8px 0; }
.key { display: inline-flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 16px; height: 16px; border-radius: 3px; background: #4c7bd9; }
.swatch.shared, .leaf.shared { background: var(--shared); }
.swatch.unused, .leaf.unused { background: repeating-linear-gradient(135deg, var(--unused) 0 6px, #e8799f 6px 12px); }
.leaf.added { box-shadow: inset 0 0 0 3px #111; }
.leaf.resized { outline: 3px dashed #111; outline-offset: -4px; }
.swatch.added { background: #fff; border: 3px solid #111; }
.swatch.resized { background: #fff; border: 2px dashed #111; }
.tabs { display: flex; gap: 4px; margin: 8px 0 0; }
.tab { font: inherit; padding: 6px 14px; border: 1px solid var(--line); border-bottom: none; border-radius: 6px 6px 0 0; background: #f6f8fa; cursor: pointer; max-width: 40ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.tab[aria-selected=true] { background: #fff; font-weight: 600; }
.map-and-details { display: grid; grid-template-columns: minmax(0, 1fr) 330px; gap: 16px; align-items: start; }
.treemap { position: relative; width: 100%; aspect-ratio: 1200 / 640; background: #eef1f4; border: 1px solid var(--line); overflow: hidden; }
.treemap[hidden] { display: none; }
.leaf { position: absolute; border: 1px solid #fff; overflow: hidden; cursor: pointer; color: #fff; }
.leaf:hover, .leaf:focus-visible { filter: brightness(1.12); outline: none; }
.leaf.selected { box-shadow: inset 0 0 0 3px #000; }
.leaf .label { position: absolute; left: 5px; right: 4px; bottom: 3px; font-size: 12px; line-height: 1.25; text-shadow: 0 1px 2px rgba(0,0,0,.45); pointer-events: none; }
.leaf .label span { display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.leaf .label .v { opacity: .9; font-variant-numeric: tabular-nums; }
.leaf.tiny .label { display: none; }
.group { position: absolute; border: 2px solid rgba(255,255,255,.95); pointer-events: none; }
.group.d2 { border-width: 1px; border-style: dashed; }
.group.d3 { border-width: 1px; border-color: rgba(255,255,255,.6); }
.group .glabel { pointer-events: auto; position: absolute; left: 0; top: 0; max-width: 100%; padding: 1px 6px; font: 600 12px/1.3 system-ui, sans-serif; color: #fff; background: rgba(20,24,31,.72); border: none; border-radius: 0 0 4px 0; cursor: pointer; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.group.small .glabel { display: none; }
#details { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-height: 120px; max-height: 640px; overflow: auto; }
#details h3 { margin: 0 0 6px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
#details dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 0 0 8px; }
#details dt { color: var(--muted); } #details dd { margin: 0; overflow-wrap: anywhere; }
#details table { width: 100%; font-size: 13px; }
#details td { overflow-wrap: anywhere; }
#details td.name { font-size: 12px; }
.cmp { display: flex; flex-wrap: wrap; gap: 8px 48px; align-items: start; }
.cmp h3:first-child { margin-top: 0; }
.notes li { margin: 4px 0; }
@media (max-width: 900px) { .map-and-details { grid-template-columns: 1fr; } }
`;

export const HTML_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('paramtrace-data').textContent);
  var details = document.getElementById('details');
  // Ordinary leaves: one colour per top-level module, all cool, apart from the shared and unused colours.
  var PALETTE = ['#3b6fd4', '#1f8a8a', '#6a5acd', '#2f8f4e', '#4f86a8', '#7b61a8', '#2b7bb9', '#4c9a6a'];
  var selected = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(n) { return n.toLocaleString('en-US'); }
  function compact(n) {
    var units = [[1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
    for (var i = 0; i < units.length; i++)
      if (n >= units[i][0]) return (n / units[i][0]).toFixed(n / units[i][0] >= 100 ? 0 : 1).replace(/\\.0$/, '') + units[i][1];
    return String(n);
  }
  function plural(n, word) { return fmt(n) + ' ' + word + (n === 1 ? '' : 's'); }
  function select(node) {
    if (selected) selected.classList.remove('selected');
    selected = node;
    if (node) node.classList.add('selected');
  }

  function show(map, title, facts, callIndices, none) {
    details.replaceChildren();
    details.append(el('h3', 'title', title));
    var dl = el('dl');
    facts.forEach(function (f) { dl.append(el('dt', '', f[0]), el('dd', '', f[1])); });
    details.append(dl);
    if (callIndices.length === 0) { details.append(el('p', 'no-calls', none)); return; }
    details.append(el('p', 'hint', plural(callIndices.length, 'layer call') + ' use' + (callIndices.length === 1 ? 's' : '') + ' it:'));
    var table = el('table', 'calls');
    var head = el('tr');
    ['layer call', 'type', 'runs', 'param #'].forEach(function (h) { head.append(el('th', '', h)); });
    var thead = el('thead');
    thead.append(head);
    table.append(thead);
    var body = el('tbody');
    callIndices.forEach(function (i) {
      var c = map.calls[i];
      var tr = el('tr', 'call');
      tr.append(el('td', 'name', c.graph ? c.name + ' (in ' + c.graph + ')' : c.name), el('td', '', c.type),
        el('td', 'num', String(c.executions)), el('td', 'num', fmt(c.params)));
      body.append(tr);
    });
    table.append(body);
    details.append(table);
  }

  function showLeaf(map, leaf) {
    var status = leaf.status === 'shared' ? 'shared by ' + plural(leaf.calls.length, 'call')
      : leaf.status === 'unused' ? 'unused (' + leaf.unusedReason + ')' : 'used';
    var facts = [['elements', fmt(leaf.numel)], ['shape', '[' + leaf.shape.join(', ') + ']'], ['dtype', leaf.dtype],
      ['share', (leaf.numel / map.total * 100).toFixed(2) + '% of drawn'], ['status', status]];
    if (leaf.change) facts.push(['in head', leaf.change]);
    if (leaf.unusedDetail) facts.push(['why', leaf.unusedDetail]);
    show(map, leaf.name, facts, leaf.calls, 'No layer call uses it.');
  }

  function showGroup(map, group) {
    var prefix = group.path + '.';
    var inside = map.leaves.filter(function (l) { return l.name.startsWith(prefix); });
    var calls = [];
    inside.forEach(function (l) { l.calls.forEach(function (c) { if (calls.indexOf(c) < 0) calls.push(c); }); });
    calls.sort(function (a, b) { return a - b; });
    var count = function (s) { return inside.filter(function (l) { return l.status === s; }).length; };
    show(map, group.path, [['elements', fmt(group.numel)], ['parameters', fmt(inside.length)],
      ['share', (group.numel / map.total * 100).toFixed(2) + '% of drawn'],
      ['shared', fmt(count('shared'))], ['unused', fmt(count('unused'))]], calls, 'No layer call uses its parameters.');
  }

  function place(node, r) {
    node.style.left = r.x + '%';
    node.style.top = r.y + '%';
    node.style.width = r.w + '%';
    node.style.height = r.h + '%';
  }

  function build(container) {
    var map = data.maps[container.dataset.view];
    if (map.leaves.length === 0) { container.append(el('p', 'hint', 'No parameters with elements to draw.')); return; }
    var tops = [];
    map.leaves.forEach(function (leaf) {
      if (tops.indexOf(leaf.top) < 0) tops.push(leaf.top);
      var node = el('div', 'leaf ' + leaf.status + (leaf.change ? ' ' + leaf.change : ''));
      place(node, leaf);
      if (leaf.status === 'used') node.style.background = PALETTE[tops.indexOf(leaf.top) % PALETTE.length];
      node.dataset.name = leaf.name;
      node.title = leaf.name + ': ' + fmt(leaf.numel);
      node.tabIndex = 0;
      node.setAttribute('role', 'button');
      var label = el('span', 'label');
      label.append(el('span', 'n', leaf.name.slice(leaf.name.lastIndexOf('.') + 1)), el('span', 'v', compact(leaf.numel)));
      node.append(label);
      var open = function () { select(node); showLeaf(map, leaf); };
      node.addEventListener('click', open);
      node.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } });
      container.append(node);
    });
    map.groups.forEach(function (group) {
      var box = el('div', 'group d' + group.depth);
      place(box, group);
      box.dataset.path = group.path;
      var label = el('button', 'glabel', group.path.slice(group.path.lastIndexOf('.') + 1));
      // Below the labels of the enclosing modules that start at the same corner.
      label.style.top = group.stack * 18 + 'px';
      label.type = 'button';
      label.title = group.path + ': ' + fmt(group.numel);
      label.addEventListener('click', function () { select(null); showGroup(map, group); });
      box.append(label);
      container.append(box);
    });
    if (map.empty.length) container.after(el('p', 'hint', plural(map.empty.length, 'parameter') + ' without elements not drawn.'));
  }

  // Labels only where they fit; measured after layout, again when the window changes size.
  function fit() {
    document.querySelectorAll('.treemap:not([hidden]) .leaf').forEach(function (n) {
      n.classList.toggle('tiny', n.clientWidth < 46 || n.clientHeight < 34);
    });
    document.querySelectorAll('.treemap:not([hidden]) .group').forEach(function (g) {
      g.classList.toggle('small', g.clientWidth < 40 || g.clientHeight < 40 + parseFloat(g.querySelector('.glabel').style.top));
    });
  }

  document.querySelectorAll('.treemap').forEach(build);
  document.querySelectorAll('.tab').forEach(function (tab) {
    tab.addEventListener('click', function () {
      document.querySelectorAll('.tab').forEach(function (t) { t.setAttribute('aria-selected', String(t === tab)); });
      document.querySelectorAll('.treemap').forEach(function (m) { m.hidden = m.dataset.view !== tab.dataset.view; });
      select(null);
      details.replaceChildren(el('p', 'hint', 'Nothing selected.'));
      fit();
    });
  });
  fit();
  window.addEventListener('resize', fit);
  document.documentElement.dataset.ready = 'true';
})();
`;
