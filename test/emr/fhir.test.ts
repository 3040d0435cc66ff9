// FHIR R4 view of the EMR: the resources built from the same data as the CDA documents, and the
// read-only REST API (read by id, search by patient and date, Bundle of a document, metadata), each
// read audited. Also: the NEWS2 chart bands agree with the IoMT scoring for every value.
import type { Bundle, DiagnosticReport, DocumentReference, ImagingStudy, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import express from 'express';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { scorePulse, scoreRespiratoryRate, scoreSpO2Scale1, scoreSystolicBp, scoreTemperature } from '../../iomt/news2';
import { SecurityStore } from '../../engine/auth/security-store';
import { createEmrRouter } from '../../emr/api';
import { parseDateParam } from '../../emr/fhir/router';
import { bandScore, NEWS2_BANDS } from '../../emr/news2-bands';
import { EmrService } from '../../emr/service';
import { verifyDocument } from '../../emr/sign/signer';
import { DocumentStore } from '../../emr/store/document-store';
import { assessments, context, facility, imagingOrder, imagingReport, labOrder, labResults, medications, oids, radiologist, tempDir, testCerts, visit, vitals } from './helpers';

describe('emr: FHIR R4', function () {
  this.timeout(120_000);
  let dir: string;
  let certs: ReturnType<typeof testCerts>;
  let security: SecurityStore;
  let store: DocumentStore;
  let server: http.Server;
  let base: string;
  const ids: Record<string, string> = {};

  before(async () => {
    dir = tempDir('hisbridge-emr-fhir-');
    certs = testCerts();
    security = new SecurityStore(path.join(dir, 'security.db'));
    const trust = certs.trust();
    store = new DocumentStore(path.join(dir, 'emr.db'), security, (xml) => verifyDocument(xml, trust));
    const service = new EmrService({ store, oids, identity: certs.identity, facility });
    ids.lab = service.publish('lab-report', context(), { order: labOrder, results: labResults() }, 'lab').document!.id;
    ids.imaging = service.publish('imaging-report', context({ author: radiologist }), { report: imagingReport, order: imagingOrder }, 'imaging').document!.id;
    ids.vitals = service.publish('vital-signs', context(), { observations: vitals(), assessments }, 'vitals').document!.id;
    ids.discharge = service.publish('discharge-summary', context(), { visit, results: labResults(), medications }, 'discharge').document!.id;
    const app = express();
    app.use((req, _res, next) => {
      (req as any).user = { username: 'fhir-client' };
      next();
    });
    app.use('/api/emr', createEmrRouter({ service, audit: security }));
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as any).port}/api/emr/fhir`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    store.close();
    security.close();
    certs.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function get<T>(url: string): Promise<{ status: number; body: T; type: string | null }> {
    const res = await fetch(url.startsWith('http') ? url : base + url);
    return { status: res.status, body: (await res.json()) as T, type: res.headers.get('content-type') };
  }

  it('Patient carries MA_BN, CCCD (VN Core system) and BHYT identifiers', async () => {
    const { status, body, type } = await get<Patient>('/Patient/BN-TEST-001');
    assert.equal(status, 200);
    assert.match(type!, /application\/fhir\+json/);
    assert.equal(body.resourceType, 'Patient');
    assert.deepEqual(
      body.identifier!.map((i) => [i.system, i.value]),
      [
        [`urn:oid:${oids.maBn}`, 'BN-TEST-001'],
        ['http://fhir.hl7.org.vn/core/sid/cccd', '001085012345'],
        [`urn:oid:${oids.bhyt}`, 'DN4010123456789'],
      ],
    );
    assert.equal(body.name![0].text, 'Nguyễn Thị Thu Hương');
    assert.equal(body.gender, 'female');
    assert.equal(body.birthDate, '1985-03-07');
  });

  it('lab report: DiagnosticReport whose results resolve to LOINC/UCUM Observations with interpretation', async () => {
    const report = (await get<DiagnosticReport>(`/DiagnosticReport/${ids.lab}`)).body;
    assert.equal(report.status, 'final');
    assert.equal(report.category![0].coding![0].code, 'LAB');
    assert.equal(report.code.coding![0].code, '11502-2');
    assert.equal(report.result!.length, 4);
    const glucose = (await get<Observation>(`/${report.result![0].reference}`)).body;
    assert.equal(glucose.code.coding![0].system, 'http://loinc.org');
    assert.equal(glucose.code.coding![0].code, '2345-7');
    assert.deepEqual(glucose.valueQuantity, { value: 7.8, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' });
    assert.equal(glucose.interpretation![0].coding![0].code, 'H');
    assert.equal(glucose.referenceRange![0].high!.value, 6.4);
    assert.equal(glucose.subject!.reference, 'Patient/BN-TEST-001');
    assert.equal(glucose.encounter!.reference, 'Encounter/LK-TEST-0001');
    const hbsag = (await get<Observation>(`/${report.result![3].reference}`)).body;
    assert.equal(hbsag.valueString, 'Âm tính');
  });

  it('imaging: ImagingStudy with the Study Instance UID and accession, DiagnosticReport with the conclusion', async () => {
    const report = (await get<DiagnosticReport>(`/DiagnosticReport/${ids.imaging}`)).body;
    assert.equal(report.category![0].coding![0].code, 'RAD');
    assert.match(report.conclusion!, /Kết luận: Theo dõi viêm phổi thùy dưới phải\./);
    const study = (await get<ImagingStudy>(`/${report.imagingStudy![0].reference}`)).body;
    assert.equal(study.identifier![0].value, `urn:oid:${imagingOrder.studyInstanceUid}`);
    assert.equal(study.identifier![1].value, 'ACC-T-0001');
    assert.equal(study.modality![0].code, 'DX');
  });

  it('vital signs: Observations (BP as a panel) and NEWS2 only where it is complete', async () => {
    const search = (await get<Bundle>(`/Observation?patient=BN-TEST-001&date=ge2026-11-15&date=lt2026-11-16`)).body;
    const codes = search.entry!.map((e) => (e.resource as Observation).code.coding![0].code).sort();
    assert.deepEqual(codes, ['1104051000000101', '59408-5', '8310-5', '85354-9', '8867-4', '9279-1']);
    const news2 = search.entry!.map((e) => e.resource as Observation).find((o) => o.code.coding![0].code === '1104051000000101')!;
    assert.equal(news2.valueInteger, 14);
    const bp = search.entry!.map((e) => e.resource as Observation).find((o) => o.code.coding![0].code === '85354-9')!;
    assert.deepEqual(bp.component!.map((c) => c.valueQuantity!.value), [98, 60]);
    const third = (await get<Bundle>(`/Observation?patient=BN-TEST-001&date=2026-11-17`)).body;
    assert.ok(third.entry!.every((e) => (e.resource as Observation).code.coding![0].code !== '1104051000000101'), 'no NEWS2 when parameters are missing');
  });

  it('DocumentReference points at the signed CDA: the URL serves it, size and SHA-1 match', async () => {
    const ref = (await get<DocumentReference>(`/DocumentReference/${ids.discharge}`)).body;
    assert.equal(ref.status, 'current');
    assert.equal(ref.type!.coding![0].code, '18842-5');
    assert.equal(ref.custodian!.identifier!.value, '01999');
    const attachment = ref.content[0].attachment;
    assert.equal(attachment.contentType, 'application/hl7-cda+xml');
    assert.ok(attachment.url!.startsWith('http://127.0.0.1:'), attachment.url);
    const res = await fetch(attachment.url!);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-signature-status'), 'valid');
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.length, attachment.size);
    assert.equal(crypto.createHash('sha1').update(bytes).digest('base64'), attachment.hash);
  });

  it('searches by patient and date, pages, and answers errors with OperationOutcome', async () => {
    const reports = (await get<Bundle>('/DiagnosticReport?patient=Patient/BN-TEST-001')).body;
    assert.equal(reports.type, 'searchset');
    assert.equal(reports.total, 2);
    assert.equal((await get<Bundle>('/DiagnosticReport?patient=BN-NOBODY')).body.total, 0);
    assert.equal((await get<Bundle>('/DocumentReference?subject=BN-TEST-001')).body.total, 4);
    const paged = (await get<Bundle>('/Observation?patient=BN-TEST-001&_count=5')).body;
    assert.equal(paged.entry!.length, 5);
    const next = paged.link!.find((l) => l.relation === 'next')!.url;
    const page2 = (await get<Bundle>(next)).body;
    assert.notEqual(page2.entry![0].fullUrl, paged.entry![0].fullUrl);
    assert.equal((await get<Bundle>('/Patient?identifier=http://fhir.hl7.org.vn/core/sid/cccd|001085012345')).body.total, 1);
    assert.equal((await get<Bundle>('/Patient?name=nguyen thi')).body.total, 1);
    assert.equal((await get<Bundle>('/Encounter/LK-TEST-0001')).status, 200);

    const missing = await get<OperationOutcome>('/Observation/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.resourceType, 'OperationOutcome');
    const badDate = await get<OperationOutcome>('/Observation?date=yesterday');
    assert.equal(badDate.status, 400);
    assert.match(badDate.body.issue[0].diagnostics!, /date: "yesterday" is not a FHIR date/);
    assert.equal((await get<OperationOutcome>('/Observation?code=1234')).status, 400);
    assert.equal((await get<OperationOutcome>('/Medication/1')).status, 404);
  });

  it('Bundle/<document id> collects the resources of one document; metadata describes the server', async () => {
    const b = (await get<Bundle>(`/Bundle/${ids.lab}`)).body;
    assert.equal(b.type, 'collection');
    const types = b.entry!.map((e) => e.resource!.resourceType);
    assert.deepEqual([...new Set(types)].sort(), ['DiagnosticReport', 'DocumentReference', 'Encounter', 'Observation', 'Patient']);
    const meta = (await get<any>('/metadata')).body;
    assert.equal(meta.resourceType, 'CapabilityStatement');
    assert.equal(meta.fhirVersion, '4.0.1');
  });

  it('audits every FHIR read and search', async () => {
    const before = security.auditLog({ limit: 1000 }).length;
    await get('/Patient/BN-TEST-001');
    await get('/Observation?patient=BN-TEST-001');
    const entries = security.auditLog({ limit: 2 });
    assert.equal(security.auditLog({ limit: 1000 }).length, before + 2);
    assert.deepEqual(
      entries.map((e) => [e.username, e.action, e.patientId]),
      [
        ['fhir-client', 'emr-fhir-search', 'BN-TEST-001'],
        ['fhir-client', 'emr-fhir-read', 'BN-TEST-001'],
      ],
    );
  });

  it('parses FHIR date parameters in hospital time', () => {
    assert.deepEqual(parseDateParam('ge2026-11-20'), { prefix: 'ge', start: new Date('2026-11-19T17:00:00Z'), end: new Date('2026-11-20T17:00:00Z') });
    assert.equal(parseDateParam('2026-11').end.toISOString(), '2026-11-30T17:00:00.000Z');
    assert.equal(parseDateParam('lt2026-11-20T08:00:00+07:00').start.toISOString(), '2026-11-20T01:00:00.000Z');
  });
});

describe('emr: NEWS2 chart bands', () => {
  it('agree with the IoMT NEWS2 scoring for every value at device resolution', () => {
    const check = (bands: (typeof NEWS2_BANDS)['pulse'], score: (v: number) => number, from: number, to: number, step: number) => {
      for (let v = from; v <= to + 1e-9; v += step) {
        const value = Math.round(v * 10) / 10;
        assert.equal(bandScore(bands.bands, value), score(value), `${bands.label.en} ${value}`);
      }
    };
    check(NEWS2_BANDS.respiratoryRate, scoreRespiratoryRate, 0, 60, 1);
    check(NEWS2_BANDS.spo2, scoreSpO2Scale1, 50, 100, 1);
    check(NEWS2_BANDS.systolic, scoreSystolicBp, 40, 260, 1);
    check(NEWS2_BANDS.pulse, scorePulse, 20, 200, 1);
    check(NEWS2_BANDS.temperature, scoreTemperature, 32, 43, 0.1);
  });
});
