// The facility signature in CHUKYDONVI: xml-crypto and the canonical fast path give the same bytes,
// our verifier and Debian's xmlsec1 accept it, and any change to the envelope breaks it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildEpisode } from '../../claims/builder/build';
import { buildCheckInRecord } from '../../claims/builder/checkin';
import { ClaimSigner, verifyDocument } from '../../claims/signer/sign';
import { buildCheckIn, buildEnvelope, buildEnvelopeBytes, episodeFiles } from '../../claims/xml/writer';
import { createTestCa, issueCertificate, type KeyAndCertificate } from '../../engine/certs/certificates';
import { requirePeers } from '../helpers/peers';
import { emergencySource, inpatientSource } from './sources';

describe('claims signature (XML-DSig in CHUKYDONVI)', () => {
  let ca: KeyAndCertificate;
  let signer: ClaimSigner;
  let dir: string;
  const envelope = () => buildEnvelope({ maCskcb: '01999', ngayLap: '20250314', hoso: [episodeFiles(buildEpisode(inpatientSource(), { signerHealthId: '0101234567' }).episode)] });

  before(() => {
    ca = createTestCa('claims test CA');
    signer = new ClaimSigner(issueCertificate(ca, { commonName: 'Benh vien Demo 01999', usage: 'signing' }));
    dir = mkdtempSync(path.join(os.tmpdir(), 'claims-sign-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('the fast path is byte-identical to xml-crypto', async () => {
    for (const env of [envelope(), buildEnvelope({ maCskcb: '01999', ngayLap: '20250314', hoso: [episodeFiles(buildEpisode(emergencySource()).episode)] })]) {
      assert.equal(await signer.signCanonical(env), signer.sign(env));
    }
  });

  it('the byte path (buildEnvelopeBytes + signEnvelopeBytes[Sync]) gives the same bytes as the text path, Vietnamese header included', async () => {
    const hoso = [episodeFiles(buildEpisode(inpatientSource(), { signerHealthId: '0101234567' }).episode), episodeFiles(buildEpisode(emergencySource()).episode)];
    for (const input of [{ maCskcb: '01999', ngayLap: '20250314', hoso }, { maCskcb: 'Bệnh viện & <A>', ngayLap: '20250314', hoso: hoso.slice(1) }]) {
      const text = buildEnvelope(input);
      const bytes = buildEnvelopeBytes(input);
      assert.ok(bytes.equals(Buffer.from(text, 'utf8')));
      const signedText = Buffer.from(signer.sign(text), 'utf8');
      assert.ok(signer.signEnvelopeBytesSync(bytes).equals(signedText));
      assert.ok((await signer.signEnvelopeBytes(bytes)).equals(signedText));
    }
    assert.throws(() => signer.signEnvelopeBytesSync(Buffer.from(envelope().replace('<CHUKYDONVI></CHUKYDONVI>', ''), 'utf8')), /not an envelope written by buildEnvelopeBytes/);
  });

  it('falls back to xml-crypto for a document that is not canonical (a check-in with <FIELD/>)', async () => {
    const xml0 = buildCheckIn([buildCheckInRecord(inpatientSource())]);
    const signed = await signer.signCanonical(xml0);
    assert.equal(signed, signer.sign(xml0));
    assert.equal(verifyDocument(signed, { trustedCaPem: [ca.certPem] }).valid, true);
    assert.match(signed, /<DSACH_TRANG_THAI_KCB>[\s\S]*<\/DSACH_TRANG_THAI_KCB><CHUKYDONVI><Signature xmlns="http:\/\/www.w3.org\/2000\/09\/xmldsig#">/);
  });

  it('verifies, names the signer, and detects tampering and untrusted issuers', async () => {
    const signed = await signer.signCanonical(envelope());
    assert.deepEqual(verifyDocument(signed, { trustedCaPem: [ca.certPem] }), { valid: true, subject: 'CN=Benh vien Demo 01999, O=hisbridge, C=VN', issuer: 'CN=claims test CA, O=hisbridge, C=VN' });
    const tampered = signed.replace('<SOLUONGHOSO>1</SOLUONGHOSO>', '<SOLUONGHOSO>2</SOLUONGHOSO>');
    assert.equal(verifyDocument(tampered, { trustedCaPem: [ca.certPem] }).reason, 'the signature does not match the document (it was changed after signing, or signed with another key)');
    const other = createTestCa('another CA');
    assert.match(verifyDocument(signed, { trustedCaPem: [other.certPem] }).reason!, /is not issued by a trusted CA/);
    assert.equal(verifyDocument(envelope()).reason, 'CHUKYDONVI holds no XML-DSig Signature');
  });

  it('refuses a key that does not match the certificate', () => {
    const a = issueCertificate(ca, { commonName: 'a', usage: 'signing' });
    const b = issueCertificate(ca, { commonName: 'b', usage: 'signing' });
    assert.throws(() => new ClaimSigner({ keyPem: a.keyPem, certPem: b.certPem }), /does not belong to the signing key/);
  });

  it('xmlsec1 (libxmlsec, independent of our code) verifies the signed envelope and rejects a changed one', async function () {
    requirePeers(this, 'xmlsec1');
    const file = path.join(dir, 'signed.xml');
    const caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, ca.certPem);
    writeFileSync(file, await signer.signCanonical(envelope()));
    const out = execFileSync('xmlsec1', ['--verify', '--trusted-pem', caFile, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    void out;
    const bad = path.join(dir, 'bad.xml');
    writeFileSync(bad, (await signer.signCanonical(envelope())).replace('<NGAYLAP>20250314</NGAYLAP>', '<NGAYLAP>20250315</NGAYLAP>'));
    assert.throws(() => execFileSync('xmlsec1', ['--verify', '--trusted-pem', caFile, bad], { stdio: ['ignore', 'pipe', 'pipe'] }));
  });
});
