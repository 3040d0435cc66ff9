// The facility's signature in CHUKYDONVI: an enveloped XML-DSig (RSA-SHA256, Exclusive C14N,
// Reference URI="" over the whole document) with the hospital certificate in KeyInfo, as the BHXH
// 3176 guidance and the reviewed implementations do. xml-crypto signs any document. For envelopes
// our writer produced, which are already in canonical form, `signCanonical` computes the very same
// signature without re-parsing the document (and runs RSA on libuv's thread pool), because signing
// one envelope per episode with a DOM round trip would cap throughput far below what a hospital's
// month-end batch needs. Tests prove both paths give identical bytes.
import crypto, { type KeyObject, X509Certificate } from 'node:crypto';
import { SignedXml } from 'xml-crypto';

const C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';

export interface SigningIdentity {
  keyPem: string;
  certPem: string;
}

export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureError';
  }
}

const slot = '<CHUKYDONVI></CHUKYDONVI>';

export class ClaimSigner {
  private readonly key: KeyObject;
  private readonly certBase64: string;
  readonly certificate: X509Certificate;

  constructor(private readonly identity: SigningIdentity) {
    this.key = crypto.createPrivateKey(identity.keyPem);
    if (this.key.asymmetricKeyType !== 'rsa') throw new SignatureError(`the signing key is ${this.key.asymmetricKeyType}; BHYT signatures use RSA (rsa-sha256)`);
    this.certificate = new X509Certificate(identity.certPem);
    if (!this.certificate.checkPrivateKey(this.key)) throw new SignatureError('the signing certificate does not belong to the signing key');
    this.certBase64 = identity.certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  }

  /** Signs any claim document with xml-crypto; the signature goes inside its (first, top-level) CHUKYDONVI. */
  sign(xml: string): string {
    if (!/<CHUKYDONVI(\s*\/>|>\s*<\/CHUKYDONVI>)/.test(xml)) throw new SignatureError('the document has no empty CHUKYDONVI element to hold the signature');
    const sig = new SignedXml({ privateKey: this.identity.keyPem, publicCert: this.identity.certPem, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: C14N });
    sig.addReference({ xpath: '/*', uri: '', isEmptyUri: true, digestAlgorithm: SHA256, transforms: [ENVELOPED, C14N] });
    sig.computeSignature(xml, { location: { reference: "/*/*[local-name(.)='CHUKYDONVI']", action: 'append' } });
    return sig.getSignedXml();
  }

  /**
   * Signs a document our writer produced (canonical: no attributes, no self-closing tags, no
   * comments, a single `<CHUKYDONVI></CHUKYDONVI>` as the root's last child). Falls back to
   * xml-crypto for anything else. The result is byte-identical to `sign()`.
   */
  async signCanonical(xml: string, options: { fromWriter?: boolean } = {}): Promise<string> {
    const prepared = this.canonicalParts(xml, options.fromWriter ?? false);
    if (!prepared) return this.sign(xml);
    const signature = await new Promise<Buffer>((resolve, reject) =>
      crypto.sign('sha256', prepared.signedInfo, this.key, (err, sig) => (err ? reject(err) : resolve(sig))),
    );
    return this.assemble(xml, prepared, signature);
  }

  /**
   * The same signature computed on the calling thread: for worker threads, which are the parallelism
   * (a hop to libuv's pool per signature would only add latency there).
   */
  signCanonicalSync(xml: string, options: { fromWriter?: boolean } = {}): string {
    const prepared = this.canonicalParts(xml, options.fromWriter ?? false);
    if (!prepared) return this.sign(xml);
    return this.assemble(xml, prepared, crypto.sign('sha256', prepared.signedInfo, this.key));
  }

  /**
   * Signs the bytes buildEnvelopeBytes() wrote (canonical by construction) and returns the signed
   * envelope as bytes: the digest is taken over the bytes themselves and the signature is spliced in,
   * without turning the envelope into a string. Same result as signCanonical() on the same text.
   */
  signEnvelopeBytesSync(envelope: Buffer): Buffer {
    const at = this.envelopeSlot(envelope);
    const digest = crypto.createHash('sha256').update(envelope.subarray(at.rootStart)).digest('base64');
    return this.spliceSignature(envelope, at.slotAt, digest, crypto.sign('sha256', Buffer.from(canonicalSignedInfo(digest), 'utf8'), this.key));
  }

  /** signEnvelopeBytesSync with RSA on libuv's thread pool. */
  async signEnvelopeBytes(envelope: Buffer): Promise<Buffer> {
    const at = this.envelopeSlot(envelope);
    const digest = crypto.createHash('sha256').update(envelope.subarray(at.rootStart)).digest('base64');
    const signature = await new Promise<Buffer>((resolve, reject) =>
      crypto.sign('sha256', Buffer.from(canonicalSignedInfo(digest), 'utf8'), this.key, (err, sig) => (err ? reject(err) : resolve(sig))),
    );
    return this.spliceSignature(envelope, at.slotAt, digest, signature);
  }

  private envelopeSlot(envelope: Buffer): { rootStart: number; slotAt: number } {
    const declarationEnd = envelope.indexOf('?>');
    const rootStart = envelope.indexOf('<', declarationEnd < 0 ? 0 : declarationEnd + 2);
    const slotAt = envelope.lastIndexOf(slot);
    if (rootStart < 0 || slotAt < 0 || slotAt + slot.length + 2 + 10 + 1 !== envelope.length || !envelope.subarray(slotAt + slot.length).equals(Buffer.from('</GIAMDINHHS>'))) {
      throw new SignatureError('not an envelope written by buildEnvelopeBytes(): no empty CHUKYDONVI at the end of GIAMDINHHS');
    }
    return { rootStart, slotAt };
  }

  private spliceSignature(envelope: Buffer, slotAt: number, digest: string, signature: Buffer): Buffer {
    const element =
      `<CHUKYDONVI><Signature xmlns="${DSIG_NS}">${signedInfoXml(digest)}<SignatureValue>${signature.toString('base64')}</SignatureValue>` +
      `<KeyInfo><X509Data><X509Certificate>${this.certBase64}</X509Certificate></X509Data></KeyInfo></Signature></CHUKYDONVI>`;
    return Buffer.concat([envelope.subarray(0, slotAt), Buffer.from(element, 'latin1'), envelope.subarray(slotAt + slot.length)]);
  }

  /**
   * Digest and canonical SignedInfo of a canonical document; undefined when it is not one of ours.
   * `fromWriter`: the caller vouches the text is a buildEnvelope() result untouched (its body is
   * canonical by construction: element names, escaped header text and base64), which spares the
   * scans that prove it for text from elsewhere.
   */
  private canonicalParts(xml: string, fromWriter: boolean): { digest: string; signedInfo: Buffer; slotAt: number } | undefined {
    const rootStart = xml.indexOf('<', xml.startsWith('<?xml') ? xml.indexOf('?>') + 2 : 0);
    const slotAt = xml.lastIndexOf(slot);
    if (rootStart < 0 || slotAt < 0 || (!fromWriter && !isCanonicalBody(xml, rootStart, slotAt))) return undefined;
    const digest = crypto.createHash('sha256').update(xml.slice(rootStart), 'utf8').digest('base64');
    return { digest, signedInfo: Buffer.from(canonicalSignedInfo(digest), 'utf8'), slotAt };
  }

  private assemble(xml: string, parts: { digest: string; slotAt: number }, signature: Buffer): string {
    const element =
      `<Signature xmlns="${DSIG_NS}">${signedInfoXml(parts.digest)}<SignatureValue>${signature.toString('base64')}</SignatureValue>` +
      `<KeyInfo><X509Data><X509Certificate>${this.certBase64}</X509Certificate></X509Data></KeyInfo></Signature>`;
    return `${xml.slice(0, parts.slotAt)}<CHUKYDONVI>${element}</CHUKYDONVI>${xml.slice(parts.slotAt + slot.length)}`;
  }
}

/** SignedInfo as xml-crypto writes it inside the Signature element. */
function signedInfoXml(digest: string): string {
  return (
    `<SignedInfo><CanonicalizationMethod Algorithm="${C14N}"/><SignatureMethod Algorithm="${RSA_SHA256}"/>` +
    `<Reference URI=""><Transforms><Transform Algorithm="${ENVELOPED}"/><Transform Algorithm="${C14N}"/></Transforms>` +
    `<DigestMethod Algorithm="${SHA256}"/><DigestValue>${digest}</DigestValue></Reference></SignedInfo>`
  );
}

/** The Exclusive-C14N form of that SignedInfo (the bytes RSA signs). */
function canonicalSignedInfo(digest: string): string {
  return (
    `<SignedInfo xmlns="${DSIG_NS}"><CanonicalizationMethod Algorithm="${C14N}"></CanonicalizationMethod><SignatureMethod Algorithm="${RSA_SHA256}"></SignatureMethod>` +
    `<Reference URI=""><Transforms><Transform Algorithm="${ENVELOPED}"></Transform><Transform Algorithm="${C14N}"></Transform></Transforms>` +
    `<DigestMethod Algorithm="${SHA256}"></DigestMethod><DigestValue>${digest}</DigestValue></Reference></SignedInfo>`
  );
}

/** True when the document body is its own Exclusive-C14N form and has exactly one signature slot, at the end of the root. */
function isCanonicalBody(xml: string, rootStart: number, slotAt: number): boolean {
  const body = xml.slice(rootStart);
  if (body.includes('/>') || body.includes('<!') || body.includes('<?') || body.includes('\r') || body.includes('"') || body.includes("'")) return false;
  if (/<[^>/]*\s[^>]*>/.test(body)) return false; // an attribute or whitespace inside a tag
  if (xml.indexOf(slot) !== slotAt) return false;
  const rootName = /^<([^>]+)>/.exec(body)?.[1];
  return rootName !== undefined && xml.endsWith(`${slot}</${rootName}>`) && xml.slice(0, rootStart).trim().startsWith('<?xml') !== false;
}

export interface VerifyOptions {
  /** CA certificate(s) the signing certificate must chain to (directly). */
  trustedCaPem?: string[];
  /** Accept a certificate outside its validity period (e.g. checking an archived claim). */
  ignoreValidityPeriod?: boolean;
  at?: Date;
}

export interface VerifyResult {
  valid: boolean;
  reason?: string;
  subject?: string;
  issuer?: string;
}

/** Verifies the CHUKYDONVI signature of a document (xml-crypto), and that it covers the whole document. */
export function verifyDocument(xml: string, options: VerifyOptions = {}): VerifyResult {
  const m = /<CHUKYDONVI>\s*(<(?:\w+:)?Signature[\s>][\s\S]*<\/(?:\w+:)?Signature>)\s*<\/CHUKYDONVI>/.exec(xml);
  if (!m) return { valid: false, reason: 'CHUKYDONVI holds no XML-DSig Signature' };
  const certMatch = /<(?:\w+:)?X509Certificate>([^<]+)<\/(?:\w+:)?X509Certificate>/.exec(m[1]);
  if (!certMatch) return { valid: false, reason: 'the signature has no X509Certificate in KeyInfo' };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(certMatch[1].replace(/\s+/g, ''), 'base64'));
  } catch (err) {
    return { valid: false, reason: `the certificate in KeyInfo cannot be read: ${(err as Error).message}` };
  }
  const who = { subject: cert.subject.replace(/\n/g, ', '), issuer: cert.issuer.replace(/\n/g, ', ') };
  const sig = new SignedXml({ publicCert: cert.toString() });
  try {
    sig.loadSignature(m[1]);
    if (!sig.checkSignature(xml)) return { valid: false, reason: 'the signature does not match the document (it was changed after signing, or signed with another key)', ...who };
  } catch (err) {
    return { valid: false, reason: `the signature cannot be checked: ${(err as Error).message}`, ...who };
  }
  const refs = sig.getSignedReferences();
  if (refs.length !== 1 || !/<Reference URI=""/.test(m[1].replace(/<\w+:/g, '<'))) return { valid: false, reason: 'the signature does not cover the whole document (Reference URI="")', ...who };
  if (!options.ignoreValidityPeriod) {
    const at = options.at ?? new Date();
    if (at < new Date(cert.validFrom) || at > new Date(cert.validTo)) return { valid: false, reason: `the certificate is valid from ${cert.validFrom} to ${cert.validTo}`, ...who };
  }
  if (options.trustedCaPem?.length) {
    const trusted = options.trustedCaPem.some((pem) => {
      const ca = new X509Certificate(pem);
      return cert.checkIssued(ca) && cert.verify(ca.publicKey);
    });
    if (!trusted) return { valid: false, reason: `the certificate (issuer ${who.issuer}) is not issued by a trusted CA`, ...who };
  }
  return { valid: true, ...who };
}
