/**
 * A self-contained flame graph page: the merged call tree is drawn as inline SVG when the page is
 * generated (readable with scripts disabled, native tooltips), and embedded as JSON for a small
 * script that adds hover details, click-to-zoom and search. No external assets, so the file can
 * be attached to a ticket or opened offline.
 */
import type { StackFrame } from '../capture/stack-frame.js';
import { displayPath } from './display-path.js';

export interface FlameGraphOptions {
  /** Page title. */
  title?: string;
  /** What the widths measure: `time` (µs values) or `bytes`. */
  unit?: 'time' | 'bytes';
  /** Show paths relative to this directory (default `process.cwd()`). */
  relativeTo?: string;
}

export interface WeightedStack {
  /** Leaf first. */
  stack: readonly StackFrame[];
  /** Time in µs (unit `time`). */
  timeUs?: number;
  /** Bytes (unit `bytes`). */
  size?: number;
}

interface Node {
  n: string;
  f: string;
  v: number;
  c: Node[];
}

function buildTree(stacks: Iterable<WeightedStack>, unit: 'time' | 'bytes', base: string): Node {
  const root: Node = { n: 'all', f: '', v: 0, c: [] };
  const index = new Map<Node, Map<string, Node>>();
  for (const s of stacks) {
    const value = unit === 'bytes' ? (s.size ?? 0) : (s.timeUs ?? 0);
    if (!(value > 0)) continue;
    root.v += value;
    let node = root;
    for (let i = s.stack.length - 1; i >= 0; i--) {
      const fr = s.stack[i] as StackFrame;
      const where = fr.file ? `${displayPath(fr.file, base)}:${fr.line}` : '';
      const key = `${fr.functionName}\0${where}`;
      let children = index.get(node);
      if (!children) index.set(node, (children = new Map()));
      let child = children.get(key);
      if (!child) {
        child = { n: fr.functionName, f: where, v: 0, c: [] };
        children.set(key, child);
        node.c.push(child);
      }
      child.v += value;
      node = child;
    }
  }
  const order = (n: Node): void => {
    n.c.sort((a, b) => b.v - a.v);
    n.c.forEach(order);
  };
  order(root);
  return root;
}

const VIEW_WIDTH = 1200;
const ROW = 17;

function depthOf(n: Node): number {
  let d = 0;
  for (const c of n.c) d = Math.max(d, depthOf(c));
  return d + 1;
}

/** Same hash and palette as the page script, so static and redrawn graphs look alike. */
function colorOf(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) >>> 0;
  return `hsl(${10 + (h % 40)},${60 + (h % 30)}%,${55 + (h % 15)}%)`;
}

function formatValue(v: number, unit: 'time' | 'bytes'): string {
  if (unit === 'bytes') {
    const u = ['B', 'KiB', 'MiB', 'GiB'];
    let i = 0;
    while (v >= 1024 && i < 3) {
      v /= 1024;
      i++;
    }
    return `${v.toFixed(i ? 1 : 0)} ${u[i]}`;
  }
  return v >= 1e6 ? `${(v / 1e6).toFixed(3)} s` : `${(v / 1e3).toFixed(1)} ms`;
}

/** The graph drawn ahead of time, so the page shows it (with native tooltips) even without script. */
function staticSvg(root: Node, unit: 'time' | 'bytes'): { body: string; height: number } {
  const depth = depthOf(root);
  const parts: string[] = [];
  const walk = (n: Node, x: number, y: number, w: number): void => {
    if (w < 0.3) return;
    const top = (depth - 1 - y) * ROW;
    const label = `${n.n}${n.f ? `  ${n.f}` : ''} — ${formatValue(n.v, unit)} (${root.v ? ((100 * n.v) / root.v).toFixed(2) : '0'}%)`;
    let text = '';
    if (w > 30) {
      const max = Math.floor((w - 6) / 7);
      const shown = n.n.length > max ? `${n.n.slice(0, Math.max(0, max - 1))}…` : n.n;
      text = `<text x="${(x + 3).toFixed(2)}" y="${top + 12}">${escapeHtml(shown)}</text>`;
    }
    parts.push(
      `<g><title>${escapeHtml(label)}</title><rect x="${x.toFixed(2)}" y="${top}" width="${w.toFixed(2)}" height="${ROW - 1}" fill="${n === root ? '#bbb' : colorOf(n.n)}"/>${text}</g>`,
    );
    let cx = x;
    for (const c of n.c) {
      const cw = (w * c.v) / n.v;
      walk(c, cx, y + 1, cw);
      cx += cw;
    }
  };
  if (root.v > 0) walk(root, 0, 0, VIEW_WIDTH);
  return { body: parts.join('\n'), height: depth * ROW };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderFlameGraphHtml(stacks: Iterable<WeightedStack>, options: FlameGraphOptions = {}): string {
  const unit = options.unit ?? 'time';
  const tree = buildTree(stacks, unit, options.relativeTo ?? process.cwd());
  // JSON inside <script>: neutralize "</script>" and U+2028/2029.
  const data = JSON.stringify(tree)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  const title = escapeHtml(options.title ?? 'Flame graph');
  const initial = staticSvg(tree, unit);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>
body{font:12px system-ui,sans-serif;margin:0;padding:8px;background:#fff;color:#222}
header{display:flex;gap:12px;align-items:center;margin-bottom:6px}
#detail{font-family:ui-monospace,monospace;white-space:pre;min-height:1.4em;overflow:hidden;text-overflow:ellipsis}
svg{width:100%;height:auto;display:block} rect{stroke:#fff;stroke-width:.5;cursor:pointer} text{font:11px ui-monospace,monospace;pointer-events:none;fill:#111}
.hit rect{fill:#e040fb!important}
</style></head><body>
<header><strong>${title}</strong><button id="reset">Reset zoom</button><input id="search" placeholder="Search (regexp)"><span id="match"></span></header>
<div id="detail"></div>
<svg id="fg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${VIEW_WIDTH} ${initial.height}">
${initial.body}
</svg>
<script>
(function(){
var root=${data}, UNIT=${JSON.stringify(unit)}, H=${ROW}, W=${VIEW_WIDTH};
var svg=document.getElementById('fg'), detail=document.getElementById('detail'), search=document.getElementById('search');
function fmt(v){ if(UNIT==='bytes'){ var u=['B','KiB','MiB','GiB'],i=0; while(v>=1024&&i<3){v/=1024;i++} return v.toFixed(i?1:0)+' '+u[i]; } return v>=1e6?(v/1e6).toFixed(3)+' s':(v/1e3).toFixed(1)+' ms'; }
function depth(n){ var d=0; for(var i=0;i<n.c.length;i++) d=Math.max(d,depth(n.c[i])); return d+1; }
function color(name){ var h=0; for(var i=0;i<name.length;i++) h=(Math.imul(h,31)+name.charCodeAt(i))>>>0; return 'hsl('+(10+h%40)+','+(60+h%30)+'%,'+(55+h%15)+'%)'; }
var focus=root, re=null;
function draw(){
  var D=depth(focus); svg.setAttribute('viewBox','0 0 '+W+' '+D*H); svg.innerHTML='';
  var matched=0;
  (function walk(n,x,y,w){
    if(w<0.3) return;
    var g=document.createElementNS('http://www.w3.org/2000/svg','g');
    var tip=document.createElementNS('http://www.w3.org/2000/svg','title'); tip.textContent=n.n+(n.f?'  '+n.f:'')+' — '+fmt(n.v); g.appendChild(tip);
    var hit=re&&re.test(n.n+' '+n.f); if(hit){g.setAttribute('class','hit'); matched+=n.v;}
    var r=document.createElementNS('http://www.w3.org/2000/svg','rect');
    r.setAttribute('x',x); r.setAttribute('y',(D-1)*H-y*H); r.setAttribute('width',w); r.setAttribute('height',H-1); r.setAttribute('fill',n===root?'#bbb':color(n.n));
    g.appendChild(r);
    if(w>30){ var t=document.createElementNS('http://www.w3.org/2000/svg','text'); t.setAttribute('x',x+3); t.setAttribute('y',(D-1)*H-y*H+12);
      var label=n.n, max=Math.floor((w-6)/7); t.textContent=label.length>max?label.slice(0,Math.max(0,max-1))+'…':label; g.appendChild(t); }
    g.addEventListener('mouseover',function(){ detail.textContent=n.n+(n.f?'  '+n.f:'')+'  —  '+fmt(n.v)+' ('+(100*n.v/root.v).toFixed(2)+'% of all, '+(100*n.v/focus.v).toFixed(2)+'% of view)'; });
    g.addEventListener('click',function(){ focus=n; draw(); });
    svg.appendChild(g);
    var cx=x; for(var i=0;i<n.c.length;i++){ var cw=w*n.c[i].v/n.v; walk(n.c[i],cx,y+1,cw); cx+=cw; }
  })(focus,0,0,W);
  document.getElementById('match').textContent=re?('matched '+(100*matched/Math.max(1,focus.v)).toFixed(1)+'% (may overlap)'):'';
}
document.getElementById('reset').onclick=function(){ focus=root; draw(); };
search.oninput=function(){ try{ re=search.value?new RegExp(search.value):null; }catch(e){ re=null; } draw(); };
draw();
})();
</script></body></html>
`;
}
