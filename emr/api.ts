// The EMR viewer's API, an express Router the engine mounts at /api/emr behind permission
// 'emr:read' (login required; clinicians and admins have it). Patients are found by name, CCCD,
// BHYT card or MA_BN; a document is returned with its signature checked at that moment and rendered
// as HTML; lab trends, vitals with NEWS2 and imaging studies feed the charts; /fhir is the FHIR R4
// view. Every read writes an audit row (who, when, what, which patient).
import express, { type NextFunction, type Request, type Response } from 'express';
import fs from 'node:fs';
import type { HisLookups } from '../his/lookups';
import { guessIdentifierSystem } from '../model';
import { createFhirRouter } from './fhir/router';
import type { StudyLookup } from './imaging';
import { bandsForJson } from './news2-bands';
import { printPage, renderDocumentHtml, type Lang } from './render/html';
import type { EmrService } from './service';
import { DocumentNotFoundError, type AuditSink, type Reader } from './store/document-store';
import { documentTypes, EmrInputError, type EmrDocumentType } from './types';

export interface EmrRouterDeps {
  service: EmrService;
  audit: AuditSink;
  /** The HIS, when registered: a patient not yet in the EMR is still found by identifier. */
  his?: () => HisLookups | undefined;
  studies?: StudyLookup;
  /** Progress of the first-start demo build, shown by GET /status. */
  status?: () => Record<string, unknown>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function readerOf(req: Request): Reader {
  const user = (req as Request & { user?: { username: string } }).user;
  return { username: user?.username ?? '(anonymous)', remote: req.socket.remoteAddress ?? undefined };
}

function langOf(req: Request): Lang {
  return req.query.lang === 'en' ? 'en' : 'vi';
}

function dateParam(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const date = new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new ApiError(400, `${field}: "${value}" is not a date`, field);
  return date;
}

export function createEmrRouter(deps: EmrRouterDeps): express.Router {
  const { service, audit } = deps;
  const store = service.store;
  const router = express.Router();
  const log = (req: Request, action: string, target?: string, patientId?: string | null, detail?: string) => {
    const reader = readerOf(req);
    audit.audit({ username: reader.username, action, target, patientId, detail, remote: reader.remote });
  };
  const patientOr404 = (id: string) => {
    const patient = store.patient(id);
    if (!patient) throw new ApiError(404, `patient ${id} has no EMR documents`);
    return patient;
  };

  router.get('/status', (_req, res) => {
    res.json({ documents: store.count(), facility: service.facility, signer: service.signer(), ...(deps.status?.() ?? {}) });
  });

  router.get('/patients', async (req, res) => {
    const q = String(req.query.q ?? '').trim();
    if (q.length < 2) throw new ApiError(400, 'q: give at least 2 characters (name, CCCD, BHYT card or MA_BN)', 'q');
    const limit = Math.min(Math.max(Number(req.query.limit ?? 20) || 20, 1), 100);
    const patients: Array<Record<string, unknown>> = store.searchPatients(q, limit).map((p) => ({ ...p, inEmr: true }));
    // An identifier the EMR has no documents for yet: ask the HIS, so the clinician sees the patient exists.
    const his = deps.his?.();
    if (patients.length === 0 && his && (guessIdentifierSystem(q) || /^[A-Z]{0,4}\d{4,}$/i.test(q))) {
      const found = await his.patientByIdentifier({ value: q }).catch(() => undefined);
      if (found) {
        patients.push({
          id: found.id,
          name: found.name.full,
          cccd: found.identifiers.find((i) => i.system === 'CCCD')?.value ?? null,
          bhyt: found.identifiers.find((i) => i.system === 'BHYT')?.value ?? null,
          birthDate: found.birthDate,
          sex: found.sex,
          documents: 0,
          lastServiceAt: null,
          inEmr: false,
        });
      }
    }
    log(req, 'emr-search-patients', undefined, patients.length === 1 ? String(patients[0].id) : null, `q=${q}; ${patients.length} found`);
    res.json({ patients });
  });

  router.get('/patients/:id', (req, res) => {
    const patient = patientOr404(String(req.params.id));
    log(req, 'emr-read-patient', `patient:${patient.id}`, patient.id);
    res.json({ patient });
  });

  router.get('/patients/:id/timeline', (req, res) => {
    const patient = patientOr404(String(req.params.id));
    const types = req.query.types ? String(req.query.types).split(',').filter(Boolean) : undefined;
    for (const t of types ?? []) if (!(documentTypes as readonly string[]).includes(t)) throw new ApiError(400, `types: unknown document type "${t}" (known: ${documentTypes.join(', ')})`, 'types');
    let timeline;
    try {
      timeline = store.timeline(patient.id, {
        types: types as EmrDocumentType[] | undefined,
        from: dateParam(req.query.from, 'from'),
        to: dateParam(req.query.to, 'to'),
        before: req.query.before ? String(req.query.before) : undefined,
        limit: req.query.limit ? Number(req.query.limit) : undefined,
        includeSuperseded: req.query.all === '1' || req.query.all === 'true',
      });
    } catch (error) {
      if (error instanceof RangeError) throw new ApiError(400, error.message, 'before');
      throw error;
    }
    log(req, 'emr-timeline', `patient:${patient.id}`, patient.id, `${timeline.documents.length} document(s)`);
    res.json({ patient, ...timeline });
  });

  router.get('/documents/:id', (req, res) => {
    const { meta, xml, verification } = store.read(String(req.params.id), readerOf(req));
    res.json({
      document: meta,
      signature: verification,
      html: renderDocumentHtml(xml, verification, service.oids, langOf(req)),
      versions: store.versions(meta.setId),
    });
  });

  router.get('/documents/:id/cda', (req, res) => {
    const { meta, xml, verification } = store.read(String(req.params.id), readerOf(req), 'emr-export-cda');
    res.setHeader('x-signature-status', verification.status);
    if (verification.reason) res.setHeader('x-signature-reason', encodeURIComponent(verification.reason));
    res.setHeader('content-disposition', `attachment; filename="${meta.type}-${meta.id}-v${meta.version}.xml"`);
    res.type('application/xml; charset=utf-8').send(xml);
  });

  router.get('/documents/:id/print', (req, res) => {
    const { meta, xml, verification } = store.read(String(req.params.id), readerOf(req), 'emr-print-document');
    res.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.type('text/html; charset=utf-8').send(printPage(renderDocumentHtml(xml, verification, service.oids, langOf(req)), `${meta.title} v${meta.version}`));
  });

  router.get('/patients/:id/labs', (req, res) => {
    const patient = patientOr404(String(req.params.id));
    const code = req.query.code ? String(req.query.code) : undefined;
    const series = store.labSeries(patient.id, code);
    log(req, 'emr-lab-trends', `patient:${patient.id}`, patient.id, code ? `code ${code}` : `${series.length} test(s)`);
    res.json({ patient, series });
  });

  router.get('/patients/:id/vitals', (req, res) => {
    const patient = patientOr404(String(req.params.id));
    const from = dateParam(req.query.from, 'from');
    const points = store.vitalSeries(patient.id, from);
    const byLoinc: Record<string, Array<{ at: string; value: number; documentId: string }>> = {};
    for (const p of points) (byLoinc[p.loinc] ??= []).push({ at: p.at, value: p.value, documentId: p.documentId });
    log(req, 'emr-vitals', `patient:${patient.id}`, patient.id, `${points.length} value(s)`);
    res.json({ patient, series: byLoinc, news2: store.news2Series(patient.id, from), bands: bandsForJson() });
  });

  router.get('/patients/:id/imaging', (req, res) => {
    const patient = patientOr404(String(req.params.id));
    const { resources } = store.fhirSearch('ImagingStudy', { patientId: patient.id, limit: 200 });
    const reports = store.timeline(patient.id, { types: ['imaging-report'], limit: 500 }).documents;
    const studies = (resources as any[]).map((study) => {
      const uid = String(study.identifier?.find((i: any) => i.system === 'urn:dicom:uid')?.value ?? '').replace(/^urn:oid:/, '');
      const accession = study.identifier?.find((i: any) => i.type?.coding?.[0]?.code === 'ACSN')?.value;
      const documentId = String(study.id).replace(/-study$/, '');
      const report = store.fhirRead('DiagnosticReport', documentId) as any;
      const known = deps.studies?.byUid(uid) ?? (accession ? deps.studies?.byAccession(accession) : undefined);
      return {
        studyInstanceUid: uid,
        accessionNumber: accession,
        modality: study.modality?.[0]?.code ?? known?.modality,
        description: study.description ?? known?.description,
        started: study.started ?? known?.startedAt,
        seriesCount: known?.seriesCount ?? study.numberOfSeries ?? null,
        instanceCount: known?.instanceCount ?? study.numberOfInstances ?? null,
        conclusion: report?.conclusion ?? null,
        documentId,
        reportTitle: reports.find((r) => r.id === documentId)?.title ?? null,
        thumbnail: known?.thumbnailFile ? `imaging/${encodeURIComponent(uid)}/thumbnail` : null,
        inPacs: !!known,
      };
    });
    log(req, 'emr-imaging', `patient:${patient.id}`, patient.id, `${studies.length} stud(ies)`);
    res.json({ patient, studies });
  });

  router.get('/imaging/:uid/thumbnail', (req, res) => {
    const uid = String(req.params.uid);
    const known = deps.studies?.byUid(uid);
    if (!known?.thumbnailFile) throw new ApiError(404, `no thumbnail for study ${uid}`);
    log(req, 'emr-imaging-thumbnail', `study:${uid}`, null);
    res.setHeader('cache-control', 'private, max-age=300');
    res.type('image/png').send(fs.readFileSync(known.thumbnailFile));
  });

  router.use('/fhir', createFhirRouter({ store, audit, username: (req) => readerOf(req).username }));

  router.use((req: Request, _res: Response, next: NextFunction) => next(new ApiError(404, `no EMR route ${req.method} ${req.originalUrl}`)));
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof ApiError) return res.status(error.status).json({ error: error.message, ...(error.field ? { field: error.field } : {}) });
    if (error instanceof DocumentNotFoundError) return res.status(404).json({ error: error.message });
    if (error instanceof EmrInputError) return res.status(422).json({ error: error.message, field: error.element });
    res.status(500).json({ error: (error as Error).message });
  });
  return router;
}
