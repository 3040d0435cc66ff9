// The document HTML comes from the server, rendered from the signed CDA through an allow-list with
// every string escaped (emr/render/html.ts). It is imported here a second time through an allow-list
// of our own: parsed as an inert document (no script runs), then only known elements and attributes
// are copied into the page. Anything else becomes its text.
const ELEMENTS = new Set([
  'article', 'section', 'div', 'h1', 'h2', 'h3', 'p', 'span', 'strong', 'em', 'small', 'br', 'sub', 'sup',
  'ul', 'ol', 'li', 'table', 'caption', 'colgroup', 'col', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'a',
]);
const ATTRIBUTES = new Set(['class', 'colspan', 'rowspan', 'role', 'lang', 'data-signature']);

function copy(source: Node, target: Node): void {
  for (const child of Array.from(source.childNodes)) {
    if (child.nodeType === Node.TEXT_NODE) {
      target.appendChild(document.createTextNode(child.textContent ?? ''));
      continue;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) continue;
    const el = child as Element;
    const tag = el.tagName.toLowerCase();
    if (!ELEMENTS.has(tag)) {
      target.appendChild(document.createTextNode(el.textContent ?? ''));
      continue;
    }
    const out = document.createElement(tag);
    for (const attr of Array.from(el.attributes)) if (ATTRIBUTES.has(attr.name)) out.setAttribute(attr.name, attr.value);
    if (tag === 'a') {
      const href = el.getAttribute('href') ?? '';
      if (/^https?:\/\//i.test(href)) {
        out.setAttribute('href', href);
        out.setAttribute('rel', 'noopener noreferrer');
        out.setAttribute('target', '_blank');
      }
    }
    copy(el, out);
    target.appendChild(out);
  }
}

export function safeFragment(html: string): DocumentFragment {
  const parsed = new DOMParser().parseFromString(`<!doctype html><body>${html}`, 'text/html');
  const fragment = document.createDocumentFragment();
  copy(parsed.body, fragment);
  return fragment;
}
