// The single-page app: a router over real links, one page module per view.

import { h, replace, errorBox } from './dom.js';
import { connect, onEvent, debounce } from './live.js';

const ROUTES = [
  [/^\/$/, () => import('./pages/dashboard.js'), 'Dashboard'],
  [/^\/runs\/?$/, () => import('./pages/runs.js'), 'Flow runs'],
  [/^\/runs\/([0-9a-fA-F-]{36})$/, () => import('./pages/run.js'), 'Flow run'],
  [/^\/deployments\/?$/, () => import('./pages/deployments.js'), 'Deployments'],
  [/^\/deployments\/([0-9a-fA-F-]{36})$/, () => import('./pages/deployments.js').then(m => ({ render: m.renderDetail })), 'Deployment'],
  [/^\/components\/?$/, () => import('./pages/components.js'), 'Components'],
  [/^\/work-pools\/?$/, () => import('./pages/pools.js'), 'Work pools'],
  [/^\/work-pools\/([^/]+)$/, () => import('./pages/pools.js').then(m => ({ render: m.renderDetail })), 'Work pool'],
  [/^\/concurrency\/?$/, () => import('./pages/concurrency.js'), 'Concurrency limits'],
  [/^\/automations\/?$/, () => import('./pages/automations.js'), 'Automations'],
  [/^\/variables\/?$/, () => import('./pages/variables.js'), 'Variables'],
  [/^\/secrets\/?$/, () => import('./pages/secrets.js'), 'Secrets'],
];

const main = document.getElementById('main');
let current = null; // {dispose, unsubscribe}

/** Navigates to `href` without a reload. */
export function navigate(href, { replaceState = false } = {}) {
  if (replaceState) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  render();
}

function markNav(path) {
  for (const a of document.querySelectorAll('#nav a')) {
    const target = a.getAttribute('href');
    const on = target === '/' ? path === '/' : path.startsWith(target);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

async function render() {
  if (current) { current.unsubscribe?.(); current.refresh?.cancel?.(); current.page?.dispose?.(); }
  current = null;
  const url = new URL(location.href);
  const path = url.pathname;
  markNav(path);
  const route = ROUTES.find(([re]) => re.test(path));
  if (!route) {
    replace(main, h('h1', {}, 'Not found'), h('p', {}, 'No page at ', h('code', {}, path), '.'));
    return;
  }
  const [re, load, title] = route;
  const params = path.match(re).slice(1).map(p => { try { return decodeURIComponent(p); } catch { return p; } });
  const mine = {};
  current = mine;
  try {
    const mod = await load();
    if (current !== mine) return;
    const root = h('div', { class: 'page' });
    replace(main, root);
    const page = (await mod.render(root, { params, query: url.searchParams, navigate })) || {};
    if (current !== mine) { page.dispose?.(); return; }
    mine.page = page;
    document.title = `${page.title || title || 'weft'} · weft`;
    if (page.refresh) {
      mine.refresh = debounce(() => (current === mine ? page.refresh() : null), page.debounceMs || 1000);
      mine.unsubscribe = onEvent((ev) => {
        if (ev.lagged || !page.relevant || page.relevant(ev)) mine.refresh();
      });
    }
  } catch (e) {
    if (current === mine) replace(main, h('h1', {}, title || 'Error'), errorBox(e));
  }
}

// Same-origin links route inside the app (modifier clicks keep their meaning).
document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api') || url.pathname.startsWith('/ui/')) return;
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
});

window.addEventListener('popstate', render);
connect(document.getElementById('live'));
render();
