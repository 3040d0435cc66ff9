// XML-DSig enveloped signatures: the canonical fast path and xml-crypto make the same signature;
// xmlsec1 (a second, independent implementation) verifies it with the CA as trust anchor; a one-byte
// change anywhere in the content, a wrong or untrusted certificate, a moved or doubled signature are
// INVALID; a PKCS#12 certificate from a CA is imported and used, and older documents stay valid.
import forge from 'node-forge';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestCa, issueCertificate } from '../../engine/certs/certificates';
import { buildDischargeSummary } from '../../emr/cda/discharge-summary';
import { buildImagingReport } from '../../emr/cda/imaging-report';
import { buildLabReport } from '../../emr/cda/lab-report';
import { buildVitalSigns } from '../../emr/cda/vital-signs';
import { emrCli } from '../../emr/cli';
import { identityFromPem, importSigningPkcs12, loadSigningIdentity, loadTrustStore } from '../../emr/sign/keys';
import { signCanonical, signWithXmlCrypto, verifyDocument } from '../../emr/sign/signer';
import { requirePeers } from '../helpers/peers';
import { assessments, context, imagingOrder, imagingReport, labOrder, labResults, medications, oids, radiologist, tempDir, testCerts, visit, vitals } from './helpers';

const run = promisify(execFile);
const now = () => new Date();

function documents() {
  return [
    buildLabReport(oids, context(), { order: labOrder, results: labResults() }, { now }),
    buildImagingReport(oids, context({ author: radiologist }), { report: imagingReport, order: imagingOrder }, { now }),
    buildVitalSigns(oids, context(), { observations: vitals(), assessments }, { now }),
    buildDischargeSummary(oids, context(), { visit, results: labResults(), reports: [imagingReport], medications }, { now }),
  ];
}

const valueOf = (xml: string, element: string) => new RegExp(`<ds:${element}>([^<]+)</ds:${element}>`).exec(xml)?.[1];

async function xmlsecVerify(xml: string, trustedPem: string, dir: string): Promise<{ ok: boolean; output: string }> {
  const file = path.join(dir, `signed-${Math.random().toString(36).slice(2)}.xml`);
  fs.writeFileSync(file, xml);
  try {
    const { stdout, stderr } = await run('xmlsec1', ['--verify', '--trusted-pem', trustedPem, file]);
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Changes one byte at `index` to a different byte (digits and letters stay in their class). */
function flipByte(bytes: Buffer, index: number): Buffer {
  const copy = Buffer.from(bytes);
  const b = copy[index];
  if (b >= 0x30 && b <= 0x39) copy[index] = b === 0x39 ? 0x30 : b + 1;
  else if (b >= 0x61 && b <= 0x7a) copy[index] = b === 0x7a ? 0x61 : b + 1;
  else if (b >= 0x41 && b <= 0x5a) copy[index] = b === 0x5a ? 0x41 : b + 1;
  else copy[index] = b === 0x78 ? 0x79 : 0x78;
  return copy;
}

describe('emr: XML signatures', function () {
  this.timeout(180_000);
  let certs: ReturnType<typeof testCerts>;
  let dir: string;
  before(() => {
    certs = testCerts();
    dir = tempDir('hisbridge-emr-sig-');
  });
  after(() => {
    certs.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the canonical signer and xml-crypto produce the same digest and signature for every document type', () => {
    for (const doc of documents()) {
      const fast = signCanonical(doc.xml, certs.identity);
      const reference = signWithXmlCrypto(doc.xml, certs.identity);
      assert.equal(valueOf(fast, 'DigestValue'), valueOf(reference, 'DigestValue'), doc.type);
      assert.equal(valueOf(fast, 'SignatureValue'), valueOf(reference, 'SignatureValue'), doc.type);
      assert.equal(verifyDocument(fast, certs.trust()).status, 'valid');
      assert.equal(verifyDocument(reference, certs.trust()).status, 'valid');
    }
  });

  it('xmlsec1 verifies the signatures with the development CA as trust anchor, and rejects a changed document', async function () {
    requirePeers(this, 'xmlsec1');
    const ca = path.join(certs.dir, 'ca.crt');
    for (const doc of documents()) {
      const signed = signCanonical(doc.xml, certs.identity);
      const verdict = await xmlsecVerify(signed, ca, dir);
      assert.ok(verdict.ok, `${doc.type}: ${verdict.output}`);
      assert.match(verdict.output, /^OK/m);
      const changed = signed.replace('Nguyễn Thị Thu Hương', 'Nguyễn Thị Thu Hướng').replace('<family>Nguyễn</family>', '<family>Nguyến</family>');
      assert.notEqual(changed, signed);
      const rejected = await xmlsecVerify(changed, ca, dir);
      assert.equal(rejected.ok, false, `${doc.type}: xmlsec1 accepted a changed document`);
      assert.equal(verifyDocument(changed, certs.trust()).status, 'invalid');
    }
    // A certificate from another CA is not trusted by xmlsec1 either.
    const other = testCerts();
    try {
      const foreign = signCanonical(documents()[0].xml, other.identity);
      assert.equal((await xmlsecVerify(foreign, ca, dir)).ok, false);
      assert.ok((await xmlsecVerify(foreign, path.join(other.dir, 'ca.crt'), dir)).ok);
    } finally {
      other.cleanup();
    }
  });

  it('detects a one-byte change at every sampled position of the signed content (200 positions)', () => {
    const trust = certs.trust();
    const signed = signCanonical(documents()[0].xml, certs.identity);
    const bytes = Buffer.from(signed, 'utf8');
    // Positions inside character data and attribute values of the signed content: what a changed
    // result, name or code looks like. (Whitespace inside tags and the quote style are not content:
    // XML-DSig canonicalizes them away by design; the store's hash catches those: store.test.ts.)
    const start = bytes.indexOf('<ClinicalDocument');
    const end = bytes.indexOf('<ds:Signature');
    const candidates: number[] = [];
    let inTag = false;
    let inValue = false;
    for (let i = start; i < end; i++) {
      const c = bytes[i];
      if (!inTag && c === 0x3c) inTag = true;
      else if (inTag && !inValue && c === 0x3e) inTag = false;
      else if (inTag && c === 0x22) inValue = !inValue;
      else if ((!inTag || inValue) && c !== 0x20) candidates.push(i);
    }
    assert.ok(candidates.length > 3000, `${candidates.length} content bytes`);
    const step = candidates.length / 200;
    let detected = 0;
    for (let k = 0; k < 200; k++) {
      const index = candidates[Math.floor(k * step)];
      const result = verifyDocument(flipByte(bytes, index).toString('utf8'), trust);
      assert.equal(result.status, 'invalid', `byte ${index} (${JSON.stringify(signed.slice(index - 20, index + 20))}) changed but the signature still verifies`);
      detected++;
    }
    assert.equal(detected, 200);
    // Bytes of the signature itself: digest, signature value, certificate.
    for (const element of ['DigestValue', 'SignatureValue', 'X509Certificate']) {
      const at = bytes.indexOf(`<ds:${element}>`) + element.length + 10;
      assert.equal(verifyDocument(flipByte(bytes, at).toString('utf8'), trust).status, 'invalid', element);
    }
  });

  it('refuses unsigned, doubly signed, moved-signature and untrusted documents, with the reason', () => {
    const trust = certs.trust();
    const doc = documents()[0];
    const signed = signCanonical(doc.xml, certs.identity);
    assert.match(verifyDocument(doc.xml, trust).reason!, /no signature/);
    const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0];
    assert.match(verifyDocument(signed.replace('</ClinicalDocument>', `${signature}</ClinicalDocument>`), trust).reason!, /2 signatures/);
    const moved = signed.replace(signature, '').replace('<component><structuredBody>', `<component><structuredBody>${signature}`);
    assert.match(verifyDocument(moved, trust).reason!, /not a child of ClinicalDocument/);
    assert.match(verifyDocument(signed.replace('<ds:Reference URI="">', '<ds:Reference URI="#x">'), trust).reason!, /URI is "#x"/);
    assert.match(verifyDocument('<ClinicalDocument xmlns="urn:hl7-org:v3"><id', trust).reason!, /not well-formed/);
    const untrusted = verifyDocument(signed, { anchors: [], intermediates: [] });
    assert.equal(untrusted.status, 'invalid');
    assert.match(untrusted.reason!, /does not chain to a trusted CA/);
    assert.ok(untrusted.signer?.subject.includes('hisbridge document signing'));
    // Signed with a key whose certificate is not the one in KeyInfo.
    const ca = createTestCa('other CA');
    const stranger = issueCertificate(ca, { commonName: 'stranger', usage: 'signing' });
    const mixed = signCanonical(doc.xml, { ...identityFromPem(stranger.keyPem, stranger.certPem), certBase64: certs.identity.certBase64 });
    assert.match(verifyDocument(mixed, trust).reason!, /does not match the certificate in KeyInfo/);
  });

  it('refuses a certificate that was not valid when the document was signed', () => {
    const ca = createTestCa('short-lived CA');
    const expired = issueCertificate(ca, { commonName: 'expired signer', usage: 'signing', days: 1 });
    const identity = identityFromPem(expired.keyPem, expired.certPem);
    // The document says it was signed in 2031, after the certificate expired.
    const doc = buildLabReport(oids, context({ createdAt: '2031-01-01T08:00:00+07:00' }), { order: labOrder, results: labResults() }, { now });
    const verdict = verifyDocument(signCanonical(doc.xml, identity), { anchors: [new (require('node:crypto').X509Certificate)(ca.certPem)], intermediates: [] });
    assert.equal(verdict.status, 'invalid');
    assert.match(verdict.reason!, /was not valid at 2031-01-01/);
  });

  it('imports a PKCS#12 certificate from a CA, signs with it, and keeps older documents verifiable', async function () {
    const certsDir = tempDir('hisbridge-emr-p12-');
    try {
      const before = loadSigningIdentity(certsDir);
      const oldDoc = signCanonical(documents()[0].xml, before);
      // A "Vietnamese CA": root → issuing CA → the hospital's signing certificate, in a .p12.
      const root = createTestCa('VN Test Root CA');
      const issuing = issueCertificate(root, { commonName: 'VN Test Issuing CA', usage: 'signing' });
      // (ASCII subject: engine/certs issues through node-forge, which takes Latin-1 strings.)
      const leaf = issueCertificate(root, { commonName: 'Benh vien Demo - ky so ho so', usage: 'signing', organization: 'Benh vien Trung uong Demo Hisbridge' });
      const p12 = forge.asn1
        .toDer(forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(leaf.keyPem), [forge.pki.certificateFromPem(leaf.certPem), forge.pki.certificateFromPem(root.certPem)], 'mật khẩu-p12', { algorithm: '3des' }))
        .getBytes();
      const file = path.join(certsDir, 'hospital.p12');
      fs.writeFileSync(file, Buffer.from(p12, 'binary'));
      assert.ok(issuing.certPem);

      assert.throws(() => importSigningPkcs12(certsDir, fs.readFileSync(file), 'wrong password'), /PKCS#12 file could not be read/);
      const result = importSigningPkcs12(certsDir, fs.readFileSync(file), 'mật khẩu-p12');
      assert.match(result.subject, /ky so ho so/);
      assert.ok(result.previousKeptAs && fs.existsSync(path.join(certsDir, `${result.previousKeptAs}.crt`)));

      const after = loadSigningIdentity(certsDir);
      assert.notEqual(after.certificate.fingerprint256, before.certificate.fingerprint256);
      const trust = loadTrustStore(certsDir);
      const newDoc = signCanonical(documents()[1].xml, after);
      assert.equal(verifyDocument(newDoc, trust).status, 'valid');
      assert.equal(verifyDocument(oldDoc, trust).status, 'valid', 'documents signed before the import stay valid');
      if (process.env.REQUIRE_PEERS === '1' || require('../helpers/peers').commandAvailable('xmlsec1')) {
        const rootFile = path.join(certsDir, 'root.pem');
        fs.writeFileSync(rootFile, root.certPem);
        const verdict = await xmlsecVerify(newDoc, rootFile, certsDir);
        assert.ok(verdict.ok, verdict.output);
      }

      // The CLI does the same, and `verify` checks a file offline.
      const docFile = path.join(certsDir, 'doc.xml');
      fs.writeFileSync(docFile, newDoc);
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      const writeErr = process.stderr.write.bind(process.stderr);
      (process.stdout as any).write = (s: string) => (out.push(s), true);
      (process.stderr as any).write = (s: string) => (out.push(s), true);
      let codes: number[];
      try {
        process.env.HB_TEST_P12_PASSWORD = 'mật khẩu-p12';
        codes = [
          await emrCli.commands['import-p12'].run([file, '--password-env', 'HB_TEST_P12_PASSWORD', '--certs', certsDir]),
          await emrCli.commands.verify.run([docFile, '--certs', certsDir]),
          await emrCli.commands.signer.run(['--certs', certsDir]),
        ];
        fs.writeFileSync(docFile, newDoc.replace('Kỹ thuật thực hiện', 'Kỹ thuật thực hiên'));
        codes.push(await emrCli.commands.verify.run([docFile, '--certs', certsDir]));
        codes.push(await emrCli.commands['import-p12'].run([file, '--certs', certsDir]));
      } finally {
        (process.stdout as any).write = write;
        (process.stderr as any).write = writeErr;
        delete process.env.HB_TEST_P12_PASSWORD;
      }
      assert.deepEqual(codes, [0, 0, 0, 1, 2], out.join(''));
      assert.match(out.join(''), /INVALID: .*changed after signing/);
    } finally {
      fs.rmSync(certsDir, { recursive: true, force: true });
    }
  });
});
