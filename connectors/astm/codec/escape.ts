// LIS2-A2 escape sequences (standards.md §2.2): &F& &S& &R& &E& name delimiters, &H& &N& highlight,
// &Xhhhh& hex data, &Zcccc& local. The escape character is the one the H record declared.
import type { Delimiters } from './delimiters';

/** Decodes escapes in one field/component value; unknown or unterminated sequences stay as they are. */
export function unescapeValue(text: string, d: Delimiters): string {
  const esc = d.escape;
  if (text.indexOf(esc) < 0) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf(esc, i);
    if (start < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, start);
    const end = text.indexOf(esc, start + 1);
    if (end < 0) {
      out += text.slice(start);
      break;
    }
    const body = text.slice(start + 1, end);
    const decoded = decodeSequence(body, d);
    if (decoded === undefined) {
      // Not an escape sequence: keep the escape character literally and continue after it.
      out += esc;
      i = start + 1;
      continue;
    }
    out += decoded;
    i = end + 1;
  }
  return out;
}

function decodeSequence(body: string, d: Delimiters): string | undefined {
  switch (body) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'R':
      return d.repeat;
    case 'E':
      return d.escape;
    case 'H':
    case 'N':
      return ''; // highlighting has no meaning in a stored value
  }
  if (body.length > 1 && body[0] === 'X' && /^[0-9A-Fa-f]+$/.test(body.slice(1)) && body.length % 2 === 1) {
    let s = '';
    for (let i = 1; i < body.length; i += 2) s += String.fromCharCode(parseInt(body.slice(i, i + 2), 16));
    return s;
  }
  if (body.length > 1 && body[0] === 'Z') return d.escape + body + d.escape; // local: kept verbatim
  return undefined;
}

/** Escapes delimiter characters in a value so it survives as one component. */
export function escapeValue(value: string, d: Delimiters): string {
  let needs = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === d.field || c === d.repeat || c === d.component || c === d.escape || c === '\r' || c === '\n') {
      needs = true;
      break;
    }
  }
  if (!needs) return value;
  let out = '';
  for (const c of value) {
    if (c === d.escape) out += d.escape + 'E' + d.escape;
    else if (c === d.field) out += d.escape + 'F' + d.escape;
    else if (c === d.component) out += d.escape + 'S' + d.escape;
    else if (c === d.repeat) out += d.escape + 'R' + d.escape;
    else if (c === '\r' || c === '\n') out += d.escape + 'X' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0') + d.escape;
    else out += c;
  }
  return out;
}
