// XML-DSig enveloped signatures over whole CDA documents: RSA-SHA256, SHA-256 digest, Reference
// URI="" with the enveloped-signature and exclusive-c14n transforms, the signer's certificate in
// KeyInfo/X509Data. The ds:Signature is the last child of ClinicalDocument.
//
// Two signers produce the same signature: `signCanonical` for documents we wrote ourselves (their
// bytes are already exclusive-canonical, emr/cda/xml.ts, so the digest is taken over them directly;
// it is what makes 10,000 documents a few seconds of work) and `signWithXmlCrypto` for any XML
// (xml-crypto parses and canonicalizes). RSA PKCS#1 v1.5 is deterministic, so both give identical
// DigestValue and SignatureValue for the same document (test/emr/signature.test.ts checks it).
// Verification always goes through xml-crypto, plus the certificate chain and structure checks
// that xml-crypto leaves to the caller.
import crypto, { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { XMLValidator } from 'fast-xml-parser';
import { SignedXml } from 'xml-crypto';
import { chainProblem, type SigningIdentity, type TrustStore } from './keys';

// xml-crypto's own DOM parser (a dependency of xml-crypto), so both read the XML identically.
const { DOMParser } = createRequire(require.resolve('xml-crypto'))('@xmldom/xmldom') as typeof import('@xmldom/xmldom');

export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const ALGORITHMS = {
  c14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  digest: 'http://www.w3.org/2001/04/xmlenc#sha256',
} as const;

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const ROOT_END = '</ClinicalDocument>';

function signedInfo(digest: string, withNamespace: boolean): string {
  return (
    `<ds:SignedInfo${withNamespace ? ` xmlns:ds="${DSIG_NS}"` : ''}>` +
    `<ds:CanonicalizationMethod Algorithm="${ALGORITHMS.c14n}"></ds:CanonicalizationMethod>` +
    `<ds:SignatureMethod Algorithm="${ALGORITHMS.signature}"></ds:SignatureMethod>` +
    `<ds:Reference URI=""><ds:Transforms>` +
    `<ds:Transform Algorithm="${ALGORITHMS.enveloped}"></ds:Transform>` +
    `<ds:Transform Algorithm="${ALGORITHMS.c14n}"></ds:Transform>` +
    `</ds:Transforms><ds:DigestMethod Algorithm="${ALGORITHMS.digest}"></ds:DigestMethod>` +
    `<ds:DigestValue>${digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>`
  );
}

/**
 * Signs a document that is already in exclusive-canonical form (no XML declaration, written by
 * CanonicalXmlWriter). Returns the signed document with an XML declaration.
 */
export function signCanonical(canonicalXml: string, identity: SigningIdentity): string {
  if (!canonicalXml.startsWith('<ClinicalDocument ') || !canonicalXml.endsWith(ROOT_END)) throw new Error('signCanonical expects a canonical <ClinicalDocument> without XML declaration');
  const digest = crypto.createHash('sha256').update(canonicalXml, 'utf8').digest('base64');
  const signatureValue = crypto.sign('sha256', Buffer.from(signedInfo(digest, true), 'utf8'), identity.key).toString('base64');
  const signature =
    `<ds:Signature xmlns:ds="${DSIG_NS}">${signedInfo(digest, false)}<ds:SignatureValue>${signatureValue}</ds:SignatureValue>` +
    `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${identity.certBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`;
  return XML_DECLARATION + canonicalXml.slice(0, -ROOT_END.length) + signature + ROOT_END;
}

/** Signs any XML document with xml-crypto (the same algorithms and placement as signCanonical). */
export function signWithXmlCrypto(xml: string, identity: SigningIdentity): string {
  const sig = new SignedXml({
    privateKey: identity.key.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicCert: identity.certPem,
    signatureAlgorithm: ALGORITHMS.signature,
    canonicalizationAlgorithm: ALGORITHMS.c14n,
  });
  sig.addReference({ xpath: '/*', transforms: [ALGORITHMS.enveloped, ALGORITHMS.c14n], digestAlgorithm: ALGORITHMS.digest, isEmptyUri: true });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
  return sig.getSignedXml();
}

export type SignatureStatus = 'valid' | 'invalid';

export interface SignerInfo {
  subject: string;
  issuer: string;
  serialNumber: string;
  fingerprint256: string;
  validFrom: string;
  validTo: string;
}

export interface SignatureVerification {
  status: SignatureStatus;
  /** Why it is invalid (tampered content, wrong key, untrusted certificate, no signature…). */
  reason?: string;
  signer?: SignerInfo;
  checkedAt: string;
}

function signerInfo(cert: X509Certificate): SignerInfo {
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    serialNumber: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    validFrom: cert.validFrom,
    validTo: cert.validTo,
  };
}

function elementChildren(node: Node): Element[] {
  const out: Element[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) if (child.nodeType === 1) out.push(child as Element);
  return out;
}

/** The time the document says it was signed (legalAuthenticator/time, else effectiveTime). */
function signingTime(root: Element): Date | undefined {
  const pick = (el: Element | undefined) => el?.getAttribute('value') ?? undefined;
  const children = elementChildren(root);
  const legal = children.find((c) => c.localName === 'legalAuthenticator');
  const value = pick(legal ? elementChildren(legal).find((c) => c.localName === 'time') : undefined) ?? pick(children.find((c) => c.localName === 'effectiveTime'));
  const m = value && /^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?([+-]\d{4})?/.exec(value);
  if (!m) return undefined;
  const zone = m[7] ? `${m[7].slice(0, 3)}:${m[7].slice(3)}` : '+07:00';
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${zone}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Verifies the enveloped signature of a stored document: well-formed XML, exactly one ds:Signature
 * as a child of the root, one Reference covering the whole document with exactly our transforms,
 * a certificate that chains to a trusted CA and was valid when the document was signed, and the
 * digest and signature values (xml-crypto). Never throws: problems come back as `invalid` + reason.
 */
export function verifyDocument(xml: string, trust: TrustStore, now: () => Date = () => new Date()): SignatureVerification {
  const checkedAt = now().toISOString();
  const invalid = (reason: string, signer?: SignerInfo): SignatureVerification => ({ status: 'invalid', reason, signer, checkedAt });
  // xmldom recovers from broken markup; a stored document must be well-formed as it is.
  const wellFormed = XMLValidator.validate(xml);
  if (wellFormed !== true) return invalid(`not well-formed XML: ${wellFormed.err.msg} (line ${wellFormed.err.line}, column ${wellFormed.err.col})`);
  const parseErrors: string[] = [];
  let doc: Document;
  try {
    doc = new DOMParser({
      errorHandler: {
        warning: () => undefined,
        error: (message: string) => void parseErrors.push(message),
        fatalError: (message: string) => void parseErrors.push(message),
      },
    }).parseFromString(xml, 'text/xml') as unknown as Document;
  } catch (error) {
    return invalid(`not well-formed XML: ${(error as Error).message}`);
  }
  if (parseErrors.length > 0) return invalid(`not well-formed XML: ${parseErrors[0]}`);
  const root = doc.documentElement;
  if (!root || root.localName !== 'ClinicalDocument' || root.namespaceURI !== 'urn:hl7-org:v3') return invalid('the root element is not an HL7 v3 ClinicalDocument');
  const signatures = Array.from(doc.getElementsByTagNameNS(DSIG_NS, 'Signature'));
  if (signatures.length === 0) return invalid('the document carries no signature');
  if (signatures.length > 1) return invalid(`the document carries ${signatures.length} signatures; exactly one is expected`);
  const signature = signatures[0];
  if (signature.parentNode !== root) return invalid('the signature is not a child of ClinicalDocument (an enveloped signature over the whole document is expected)');

  const certText = signature.getElementsByTagNameNS(DSIG_NS, 'X509Certificate')[0]?.textContent?.replace(/\s+/g, '');
  if (!certText) return invalid('the signature has no X509Certificate in KeyInfo');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(certText, 'base64'));
  } catch (error) {
    return invalid(`the signer certificate cannot be read: ${(error as Error).message}`);
  }
  const signer = signerInfo(cert);

  const references = Array.from(signature.getElementsByTagNameNS(DSIG_NS, 'Reference'));
  if (references.length !== 1) return invalid(`the signature has ${references.length} references; exactly one (URI="") is expected`, signer);
  if (references[0].getAttribute('URI') !== '') return invalid(`the signature reference URI is "${references[0].getAttribute('URI')}", not "" (the whole document)`, signer);
  const transforms = Array.from(references[0].getElementsByTagNameNS(DSIG_NS, 'Transform')).map((t) => t.getAttribute('Algorithm'));
  if (transforms.length !== 2 || transforms[0] !== ALGORITHMS.enveloped || transforms[1] !== ALGORITHMS.c14n) return invalid(`unexpected signature transforms: ${transforms.join(', ')}`, signer);

  const verifier = new SignedXml({ publicCert: cert.toString() });
  try {
    verifier.loadSignature(signature as unknown as Node);
    const ok = verifier.checkSignature(xml);
    if (!ok) return invalid('signature or digest does not match the content: the document was changed after signing', signer);
  } catch (error) {
    const message = (error as Error).message;
    const detail = /digest|reference/i.test(message)
      ? 'the content does not match the signed digest: the document was changed after signing'
      : /signature value/i.test(message)
        ? 'the signature value does not match the certificate in KeyInfo: signed with another key, or the signature was changed after signing'
        : message;
    return invalid(detail, signer);
  }

  const at = signingTime(root) ?? now();
  const problem = chainProblem(cert, trust, at);
  if (problem) return invalid(problem, signer);
  return { status: 'valid', signer, checkedAt };
}
