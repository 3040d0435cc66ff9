// A small XML writer whose output is already in Exclusive XML Canonicalization form (exc-c14n,
// https://www.w3.org/TR/xml-exc-c14n/): no XML declaration, start and end tags for every element
// (never `<a/>`), attributes in canonical order, the xsi namespace declared on the elements that use
// it, and the canonical escapes. Because the bytes we write are the bytes a verifier canonicalizes,
// the signer can digest them directly (emr/sign/signer.ts); xml-crypto and xmlsec1 reach the same
// digest (asserted in test/emr/signature.test.ts).

export const HL7_NS = 'urn:hl7-org:v3';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

export type AttributeValue = string | number | undefined | null | false;
export type Attributes = Record<string, AttributeValue>;

// Characters XML 1.0 does not allow at all (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F).
// eslint-disable-next-line no-control-regex
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// Most values (codes, OIDs, numbers, times) are plain printable ASCII: they skip normalization.
const PLAIN_ASCII = /^[\x20-\x7E]*$/;
// eslint-disable-next-line no-control-regex
const HAS_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\uD800-\uDFFF]/;

/** Text as it may appear in a document: NFC (one form for Vietnamese diacritics), invalid characters shown as U+FFFD. */
export function cleanText(value: string): string {
  if (PLAIN_ASCII.test(value)) return value;
  const nfc = value.normalize('NFC');
  return HAS_INVALID.test(nfc) ? nfc.replace(INVALID_XML_CHARS, '\uFFFD') : nfc;
}

const TEXT_SPECIALS = /[&<>\r]/;
const ATTRIBUTE_SPECIALS = /[&<"\t\n\r]/;

/** Canonical escaping of character data (c14n §2.3: &, <, > and CR). */
export function escapeText(value: string): string {
  const clean = cleanText(value);
  if (!TEXT_SPECIALS.test(clean)) return clean;
  return clean.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#xD;'));
}

/** Canonical escaping of attribute values (c14n §2.3: &, <, ", TAB, LF, CR; `>` stays). */
export function escapeAttribute(value: string): string {
  const clean = cleanText(value);
  if (!ATTRIBUTE_SPECIALS.test(clean)) return clean;
  return clean.replace(/[&<"\t\n\r]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '"':
        return '&quot;';
      case '\t':
        return '&#x9;';
      case '\n':
        return '&#xA;';
      default:
        return '&#xD;';
    }
  });
}

/**
 * Writes elements in the HL7 v3 default namespace. Attribute names are plain (`code`) or `xsi:type`;
 * nothing else is qualified, which keeps the canonical ordering rule simple: plain attributes by
 * name, then xsi:type, after the namespace declarations.
 */
export class CanonicalXmlWriter {
  private readonly parts: string[] = [];
  private readonly stack: Array<{ name: string; declaresXsi: boolean }> = [];
  private xsiDeclaredDepth = 0;

  /** The document element, with the HL7 v3 default namespace. */
  root(name: string, attrs?: Attributes): this {
    if (this.stack.length > 0 || this.parts.length > 0) throw new Error('root element already written');
    this.parts.push(`<${name} xmlns="${HL7_NS}"${this.attributes(attrs, false)}>`);
    this.stack.push({ name, declaresXsi: false });
    return this;
  }

  open(name: string, attrs?: Attributes): this {
    const declaresXsi = this.needsXsi(attrs);
    this.parts.push(`<${name}${this.attributes(attrs, declaresXsi)}>`);
    this.stack.push({ name, declaresXsi });
    if (declaresXsi) this.xsiDeclaredDepth = this.stack.length;
    return this;
  }

  close(name?: string): this {
    const top = this.stack.pop();
    if (!top) throw new Error('close() without an open element');
    if (name !== undefined && name !== top.name) throw new Error(`close("${name}") but the open element is <${top.name}>`);
    if (top.declaresXsi) this.xsiDeclaredDepth = 0;
    this.parts.push(`</${top.name}>`);
    return this;
  }

  /** An element without content (written as start and end tag, as canonical XML requires). */
  empty(name: string, attrs?: Attributes): this {
    const declaresXsi = this.needsXsi(attrs);
    this.parts.push(`<${name}${this.attributes(attrs, declaresXsi)}></${name}>`);
    return this;
  }

  /** An element holding text only. */
  text(name: string, value: string, attrs?: Attributes): this {
    const declaresXsi = this.needsXsi(attrs);
    this.parts.push(`<${name}${this.attributes(attrs, declaresXsi)}>${escapeText(value)}</${name}>`);
    return this;
  }

  /** Character data inside the open element. */
  chars(value: string): this {
    this.parts.push(escapeText(value));
    return this;
  }

  /** Runs `body` between open(name) and close(name). */
  within(name: string, attrs: Attributes | undefined, body: () => void): this {
    this.open(name, attrs);
    body();
    return this.close(name);
  }

  toString(): string {
    if (this.stack.length > 0) throw new Error(`unclosed elements: ${this.stack.map((s) => s.name).join(' > ')}`);
    return this.parts.join('');
  }

  private needsXsi(attrs?: Attributes): boolean {
    return !!attrs && attrs['xsi:type'] !== undefined && attrs['xsi:type'] !== null && attrs['xsi:type'] !== false && this.xsiDeclaredDepth === 0;
  }

  private attributes(attrs: Attributes | undefined, declareXsi: boolean): string {
    if (!attrs) return '';
    let out = declareXsi ? ` xmlns:xsi="${XSI_NS}"` : '';
    let xsiType: string | undefined;
    const names = Object.keys(attrs).sort();
    for (const name of names) {
      const value = attrs[name];
      if (value === undefined || value === null || value === false) continue;
      if (name === 'xsi:type') {
        xsiType = String(value);
        continue;
      }
      if (name.includes(':')) throw new Error(`attribute "${name}": only plain attributes and xsi:type are written`);
      out += ` ${name}="${escapeAttribute(String(value))}"`;
    }
    if (xsiType !== undefined) out += ` xsi:type="${escapeAttribute(xsiType)}"`;
    return out;
  }
}
