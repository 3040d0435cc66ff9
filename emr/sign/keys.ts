// The hospital's document-signing identity and the certificates trusted when verifying.
// Signing key and certificate come from certs/ (signing.key / signing.crt, generated from the
// development CA at first start by engine/certs/certificates.ts); a real certificate from a
// Vietnamese CA is imported from PKCS#12 and replaces them, the old pair kept beside them so
// documents signed before stay verifiable. Trust anchors: the development CA (certs/ca.crt), the
// chain that came with the imported certificate, and any PEM in certs/trusted/.
import crypto, { X509Certificate, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensureEngineCertificates, importPkcs12 } from '../../engine/certs/certificates';

export interface SigningIdentity {
  key: KeyObject;
  certPem: string;
  certificate: X509Certificate;
  /** Base64 DER of the certificate, as written into ds:X509Certificate. */
  certBase64: string;
  /** Intermediate certificates that came with it (PKCS#12 import). */
  chainPem: string[];
}

export interface TrustStore {
  anchors: X509Certificate[];
  intermediates: X509Certificate[];
}

const CHAIN_FILE = 'signing-chain.pem';
const TRUSTED_DIR = 'trusted';

export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

export function certificateBase64(certPem: string): string {
  return new X509Certificate(certPem).raw.toString('base64');
}

export function identityFromPem(keyPem: string, certPem: string, chainPem: string[] = []): SigningIdentity {
  const key = crypto.createPrivateKey(keyPem);
  const certificate = new X509Certificate(certPem);
  if (!certificate.checkPrivateKey(key)) throw new Error('the signing certificate does not belong to the signing key');
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`signing key type ${key.asymmetricKeyType} is not supported (RSA only: rsa-sha256 signatures)`);
  return { key, certPem, certificate, certBase64: certificate.raw.toString('base64'), chainPem };
}

/** The signing identity in certsDir (generated on first start when absent). */
export function loadSigningIdentity(certsDir: string): SigningIdentity {
  const certs = ensureEngineCertificates(certsDir);
  const chainFile = path.join(certsDir, CHAIN_FILE);
  const chain = fs.existsSync(chainFile) ? splitPem(fs.readFileSync(chainFile, 'utf8')) : [];
  return identityFromPem(certs.signing.keyPem, certs.signing.certPem, chain);
}

function isSelfSigned(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.verify(cert.publicKey);
}

/** Trust anchors and intermediates for verification, read from certsDir. */
export function loadTrustStore(certsDir: string): TrustStore {
  const anchors: X509Certificate[] = [];
  const intermediates: X509Certificate[] = [];
  const add = (pem: string) => {
    const cert = new X509Certificate(pem);
    if (isSelfSigned(cert)) anchors.push(cert);
    else intermediates.push(cert);
  };
  const caFile = path.join(certsDir, 'ca.crt');
  if (fs.existsSync(caFile)) splitPem(fs.readFileSync(caFile, 'utf8')).forEach(add);
  const chainFile = path.join(certsDir, CHAIN_FILE);
  if (fs.existsSync(chainFile)) splitPem(fs.readFileSync(chainFile, 'utf8')).forEach(add);
  const trustedDir = path.join(certsDir, TRUSTED_DIR);
  if (fs.existsSync(trustedDir)) {
    for (const name of fs.readdirSync(trustedDir).sort()) {
      if (/\.(pem|crt)$/i.test(name)) splitPem(fs.readFileSync(path.join(trustedDir, name), 'utf8')).forEach(add);
    }
  }
  return { anchors, intermediates };
}

/**
 * Does `cert` chain to a trust anchor (through known intermediates), each link valid at `at`?
 * Returns undefined when it does, else the reason.
 */
export function chainProblem(cert: X509Certificate, trust: TrustStore, at: Date): string | undefined {
  const validAt = (c: X509Certificate) => Date.parse(c.validFrom) <= at.getTime() && at.getTime() <= Date.parse(c.validTo);
  let current = cert;
  for (let depth = 0; depth < 8; depth++) {
    if (!validAt(current)) return `certificate "${current.subject.replace(/\n/g, ', ')}" was not valid at ${at.toISOString()} (valid ${current.validFrom} – ${current.validTo})`;
    const anchor = trust.anchors.find((a) => current.checkIssued(a) && current.verify(a.publicKey));
    if (anchor) return validAt(anchor) ? undefined : `trust anchor "${anchor.subject.replace(/\n/g, ', ')}" was not valid at ${at.toISOString()}`;
    if (trust.anchors.some((a) => a.fingerprint256 === current.fingerprint256)) return undefined;
    const next = trust.intermediates.find((i) => current.checkIssued(i) && current.verify(i.publicKey));
    if (!next) return `signer certificate "${cert.subject.replace(/\n/g, ', ')}" (issuer "${cert.issuer.replace(/\n/g, ', ')}") does not chain to a trusted CA`;
    current = next;
  }
  return 'certificate chain too long';
}

/**
 * Imports a PKCS#12 (.p12/.pfx) signing certificate from a CA into certsDir: it becomes
 * signing.key/signing.crt (+ signing-chain.pem); the previous pair is kept as signing-<time>.*.
 */
export function importSigningPkcs12(certsDir: string, p12: Buffer, password: string, now: Date = new Date()): { subject: string; issuer: string; validTo: string; previousKeptAs?: string } {
  let imported: ReturnType<typeof importPkcs12>;
  try {
    imported = importPkcs12(p12, password);
  } catch (error) {
    throw new Error(`PKCS#12 file could not be read (wrong password or not a PKCS#12 file): ${(error as Error).message}`);
  }
  const identity = identityFromPem(imported.keyPem, imported.certPem, imported.chainPem);
  const cert = identity.certificate;
  if (Date.parse(cert.validTo) < now.getTime()) throw new Error(`the certificate in the PKCS#12 file expired on ${cert.validTo}`);
  fs.mkdirSync(certsDir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(certsDir, 'signing.key');
  const certFile = path.join(certsDir, 'signing.crt');
  let previousKeptAs: string | undefined;
  if (fs.existsSync(certFile)) {
    const stamp = now.toISOString().replace(/[:.]/g, '-');
    previousKeptAs = `signing-${stamp}`;
    fs.copyFileSync(certFile, path.join(certsDir, `${previousKeptAs}.crt`));
    if (fs.existsSync(keyFile)) fs.copyFileSync(keyFile, path.join(certsDir, `${previousKeptAs}.key`));
    const oldChain = path.join(certsDir, CHAIN_FILE);
    if (fs.existsSync(oldChain)) {
      // The old chain stays trusted for the documents it signed.
      fs.mkdirSync(path.join(certsDir, TRUSTED_DIR), { recursive: true });
      fs.copyFileSync(oldChain, path.join(certsDir, TRUSTED_DIR, `${previousKeptAs}-chain.pem`));
    }
  }
  fs.writeFileSync(keyFile, imported.keyPem, { mode: 0o600 });
  fs.writeFileSync(certFile, imported.certPem, { mode: 0o644 });
  fs.writeFileSync(path.join(certsDir, CHAIN_FILE), imported.chainPem.join('\n'), { mode: 0o644 });
  return { subject: cert.subject, issuer: cert.issuer, validTo: cert.validTo, previousKeptAs };
}
