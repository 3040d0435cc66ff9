// Certificates for TLS listeners and document signing. On first start the engine generates a
// development CA and, signed by it, a server certificate and a signing certificate, so TLS and
// XML signatures work out of the box; a hospital replaces them with its real ones (PKCS#12 import).
// Nothing here is ever committed: certs/ is git-ignored.
import forge from 'node-forge';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface KeyAndCertificate {
  keyPem: string;
  certPem: string;
}

export interface EngineCertificates {
  ca: KeyAndCertificate;
  server: KeyAndCertificate;
  signing: KeyAndCertificate;
  /** Where each file lives, for configuration that wants paths. */
  paths: Record<'caCert' | 'caKey' | 'serverCert' | 'serverKey' | 'signingCert' | 'signingKey', string>;
}

export type CertificateUsage = 'server' | 'client' | 'signing';

export interface IssueOptions {
  commonName: string;
  /** DNS names and IP addresses for the subjectAltName (server certificates). */
  altNames?: string[];
  usage: CertificateUsage;
  days?: number;
  organization?: string;
}

function serialNumber(): string {
  // Positive, random, 16 bytes: RFC 5280 asks for unpredictable serials.
  const bytes = forge.random.getBytesSync(16);
  return '01' + forge.util.bytesToHex(bytes).slice(2);
}

function subject(commonName: string, organization = 'hisbridge'): forge.pki.CertificateField[] {
  // Hospital names are Vietnamese: encode as UTF8String (forge defaults to PrintableString bytes).
  const utf8 = (value: string) => ({ value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class });
  return [
    { name: 'commonName', ...utf8(commonName) },
    { name: 'organizationName', ...utf8(organization) },
    { name: 'countryName', value: 'VN' },
  ];
}

function generateKeyPair(): forge.pki.rsa.KeyPair {
  // Node's native generator is ~10x faster than forge's pure-JS one.
  const { privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const key = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

export function createTestCa(commonName = 'hisbridge development CA', days = 3650): KeyAndCertificate {
  const keys = generateKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  cert.setSubject(subject(commonName));
  cert.setIssuer(subject(commonName));
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { keyPem: forge.pki.privateKeyToPem(keys.privateKey), certPem: forge.pki.certificateToPem(cert) };
}

export function issueCertificate(ca: KeyAndCertificate, options: IssueOptions): KeyAndCertificate {
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const keys = generateKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + (options.days ?? 825) * 86_400_000);
  cert.setSubject(subject(options.commonName, options.organization));
  // forge reads UTF8String values back as UTF-8 bytes: decode them, or they would be encoded twice.
  cert.setIssuer(
    caCert.subject.attributes.map((a) =>
      a.valueTagClass === (forge.asn1.Type.UTF8 as unknown) ? { ...a, value: forge.util.decodeUtf8(a.value as string) } : a,
    ),
  );
  const extensions: any[] = [{ name: 'basicConstraints', cA: false }];
  if (options.usage === 'signing') {
    extensions.push({ name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true });
  } else {
    extensions.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true });
    extensions.push({ name: 'extKeyUsage', serverAuth: options.usage === 'server', clientAuth: options.usage === 'client' });
  }
  const altNames = options.altNames ?? (options.usage === 'server' ? ['localhost', '127.0.0.1', '::1'] : []);
  if (altNames.length > 0) {
    extensions.push({
      name: 'subjectAltName',
      altNames: altNames.map((name) => (/^[\d.]+$|:/.test(name) ? { type: 7, ip: name } : { type: 2, value: name })),
    });
  }
  cert.setExtensions(extensions);
  cert.sign(caKey, forge.md.sha256.create());
  return { keyPem: forge.pki.privateKeyToPem(keys.privateKey), certPem: forge.pki.certificateToPem(cert) };
}

function readPair(dir: string, name: string): KeyAndCertificate | undefined {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  if (!fs.existsSync(keyFile) || !fs.existsSync(certFile)) return undefined;
  return { keyPem: fs.readFileSync(keyFile, 'utf8'), certPem: fs.readFileSync(certFile, 'utf8') };
}

function writePair(dir: string, name: string, pair: KeyAndCertificate): void {
  fs.writeFileSync(path.join(dir, `${name}.key`), pair.keyPem, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, `${name}.crt`), pair.certPem, { mode: 0o644 });
}

/** Loads the engine's certificates from certsDir, generating any that are missing (first start). */
export function ensureEngineCertificates(certsDir: string): EngineCertificates {
  fs.mkdirSync(certsDir, { recursive: true, mode: 0o700 });
  let ca = readPair(certsDir, 'ca');
  if (!ca) {
    ca = createTestCa(`hisbridge development CA (${os.hostname()})`);
    writePair(certsDir, 'ca', ca);
  }
  let server = readPair(certsDir, 'server');
  if (!server) {
    server = issueCertificate(ca, { commonName: os.hostname(), altNames: ['localhost', os.hostname(), '127.0.0.1', '::1'], usage: 'server' });
    writePair(certsDir, 'server', server);
  }
  let signing = readPair(certsDir, 'signing');
  if (!signing) {
    signing = issueCertificate(ca, { commonName: 'hisbridge document signing', usage: 'signing' });
    writePair(certsDir, 'signing', signing);
  }
  const p = (f: string) => path.join(certsDir, f);
  return {
    ca,
    server,
    signing,
    paths: {
      caCert: p('ca.crt'),
      caKey: p('ca.key'),
      serverCert: p('server.crt'),
      serverKey: p('server.key'),
      signingCert: p('signing.crt'),
      signingKey: p('signing.key'),
    },
  };
}

/** Imports a PKCS#12 (.p12/.pfx) file from a certificate authority into key + certificate PEM. */
export function importPkcs12(p12: Buffer, password: string): KeyAndCertificate & { chainPem: string[] } {
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary')));
  const pkcs12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  const keyBags = pkcs12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag] ?? [];
  const plainKeyBags = pkcs12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag] ?? [];
  const key = [...keyBags, ...plainKeyBags].find((b) => b.key)?.key;
  if (!key) throw new Error('PKCS#12 file holds no private key');
  const certBags = pkcs12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? [];
  const certs = certBags.map((b) => b.cert).filter((c): c is forge.pki.Certificate => !!c);
  if (certs.length === 0) throw new Error('PKCS#12 file holds no certificate');
  const publicPem = forge.pki.publicKeyToPem(forge.pki.setRsaPublicKey((key as forge.pki.rsa.PrivateKey).n, (key as forge.pki.rsa.PrivateKey).e));
  const leaf = certs.find((c) => forge.pki.publicKeyToPem(c.publicKey) === publicPem) ?? certs[0];
  return {
    keyPem: forge.pki.privateKeyToPem(key),
    certPem: forge.pki.certificateToPem(leaf),
    chainPem: certs.filter((c) => c !== leaf).map((c) => forge.pki.certificateToPem(c)),
  };
}
