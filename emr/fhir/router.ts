// A small read-only FHIR R4 REST API over the EMR store: read by id, search by patient and date,
// and a CapabilityStatement. Every read is audited like document reads. Errors are OperationOutcome.
import type { Bundle, CapabilityStatement, OperationOutcome } from '@medplum/fhirtypes';
import express, { type NextFunction, type Request, type Response } from 'express';
import { fromHospitalParts } from '../../model/datetime';
import type { AuditSink, DocumentStore } from '../store/document-store';
import { bundle, fhirId } from './map';

export const FHIR_TYPES = ['Patient', 'Encounter', 'Observation', 'DiagnosticReport', 'ImagingStudy', 'DocumentReference'] as const;
const FHIR_JSON = 'application/fhir+json; charset=utf-8';

class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly code: 'not-found' | 'invalid' | 'not-supported',
    message: string,
  ) {
    super(message);
  }
}

function outcome(code: string, message: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: code as any, diagnostics: message }] };
}

/** A FHIR date search value: prefix (eq, ge, gt, le, lt) + date or date-time. */
export function parseDateParam(value: string): { prefix: 'eq' | 'ge' | 'gt' | 'le' | 'lt'; start: Date; end: Date } {
  const m = /^(eq|ge|gt|le|lt)?(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?$/.exec(value);
  if (!m) throw new FhirError(400, 'invalid', `date: "${value}" is not a FHIR date (e.g. ge2026-11-20 or 2026-11-20T08:00:00+07:00)`);
  const [, prefix = 'eq', y, mo, d, time] = m;
  if (time) {
    const instant = new Date(`${y}-${mo}-${d}${time}${/Z|[+-]\d{2}:\d{2}$/.test(time) ? '' : '+07:00'}`);
    if (Number.isNaN(instant.getTime())) throw new FhirError(400, 'invalid', `date: "${value}" is not a valid date-time`);
    return { prefix: prefix as any, start: instant, end: new Date(instant.getTime() + 1000) };
  }
  // A date without time is a day (or month, year) in hospital time.
  const year = Number(y);
  const month = Number(mo ?? 1);
  const day = Number(d ?? 1);
  const start = fromHospitalParts(year, month, day);
  if (Number.isNaN(start.getTime()) || month < 1 || month > 12 || day < 1 || day > 31) throw new FhirError(400, 'invalid', `date: "${value}" is not a valid date`);
  const end = d ? fromHospitalParts(year, month, day + 1) : mo ? fromHospitalParts(year, month + 1, 1) : fromHospitalParts(year + 1, 1, 1);
  return { prefix: prefix as any, start, end };
}

function asList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

export interface FhirRouterDeps {
  store: DocumentStore;
  audit: AuditSink;
  username(req: Request): string;
}

export function createFhirRouter(deps: FhirRouterDeps): express.Router {
  const router = express.Router();
  const base = (req: Request) => `${req.protocol}://${req.get('host')}${req.baseUrl}`;
  const send = (res: Response, status: number, body: unknown) => res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
  const audit = (req: Request, action: string, target: string, patientId?: string | null, detail?: string) =>
    deps.audit.audit({ username: deps.username(req), action, target, patientId, detail, remote: req.socket.remoteAddress ?? undefined });
  /** DocumentReference attachments point at the signed CDA under the EMR API. */
  const absolutize = (req: Request, resource: any) => {
    if (resource?.resourceType === 'DocumentReference') {
      for (const c of resource.content ?? []) if (c.attachment?.url && !/^https?:/.test(c.attachment.url)) c.attachment.url = `${base(req).replace(/\/fhir$/, '')}/${c.attachment.url}`;
    }
    return resource;
  };

  router.get('/metadata', (req, res) => {
    const statement: CapabilityStatement = {
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: new Date().toISOString(),
      kind: 'instance',
      fhirVersion: '4.0.1',
      format: ['json'],
      software: { name: 'hisbridge EMR' },
      implementation: { description: 'Read-only FHIR R4 view of the signed EMR documents', url: base(req) },
      rest: [
        {
          mode: 'server',
          resource: [
            ...FHIR_TYPES.map((type) => ({
              type,
              interaction: [{ code: 'read' as const }, { code: 'search-type' as const }],
              searchParam: [
                ...(type === 'Patient'
                  ? [
                      { name: 'identifier', type: 'token' as const },
                      { name: 'name', type: 'string' as const },
                      { name: '_id', type: 'token' as const },
                    ]
                  : [
                      { name: 'patient', type: 'reference' as const },
                      { name: 'subject', type: 'reference' as const },
                      { name: 'date', type: 'date' as const },
                    ]),
                { name: '_count', type: 'number' as const },
              ],
            })),
            { type: 'Bundle', interaction: [{ code: 'read' as const }], documentation: 'Bundle/<document id>: the resources derived from one signed document (type collection)' },
          ],
        },
      ],
    };
    send(res, 200, statement);
  });

  router.get('/Bundle/:id', (req, res) => {
    const id = String(req.params.id);
    const meta = deps.store.meta(id);
    if (!meta) throw new FhirError(404, 'not-found', `Bundle/${id} not found (Bundle ids are document ids)`);
    const resources = deps.store.fhirOfDocument(id).map((r) => absolutize(req, r));
    audit(req, 'emr-fhir-read', `Bundle/${id}`, meta.patientId);
    const result: Bundle = bundle('collection', resources as any, base(req), { id: fhirId(id), identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${id}` } });
    send(res, 200, result);
  });

  router.get('/:type/:id', (req, res) => {
    const type = String(req.params.type);
    const id = String(req.params.id);
    if (!(FHIR_TYPES as readonly string[]).includes(type)) throw new FhirError(404, 'not-supported', `resource type "${type}" is not served here (served: ${FHIR_TYPES.join(', ')}, Bundle)`);
    const resource = deps.store.fhirRead(type, id) as any;
    audit(req, 'emr-fhir-read', `${type}/${id}`, resource ? (type === 'Patient' ? id : resource.subject?.reference?.replace('Patient/', '')) : null, resource ? undefined : 'not found');
    if (!resource) throw new FhirError(404, 'not-found', `${type}/${id} not found`);
    send(res, 200, absolutize(req, resource));
  });

  router.get('/:type', (req, res) => {
    const type = String(req.params.type);
    if (!(FHIR_TYPES as readonly string[]).includes(type)) throw new FhirError(404, 'not-supported', `resource type "${type}" is not served here (served: ${FHIR_TYPES.join(', ')})`);
    const q = req.query as Record<string, unknown>;
    const known = new Set(['patient', 'subject', 'date', '_count', '_offset', 'identifier', 'name', '_id', '_format']);
    const unknown = Object.keys(q).filter((k) => !known.has(k));
    if (unknown.length) throw new FhirError(400, 'not-supported', `search parameter "${unknown[0]}" is not supported for ${type}`);
    const count = Math.min(Math.max(Number(q._count ?? 50) || 50, 1), 500);
    const offset = Math.max(Number(q._offset ?? 0) || 0, 0);
    let patientId: string | undefined;
    const patientParam = asList(q.patient ?? q.subject)[0];
    if (patientParam) patientId = patientParam.replace(/^Patient\//, '');
    let from: Date | undefined;
    let to: Date | undefined;
    for (const value of asList(q.date)) {
      const d = parseDateParam(value);
      if (d.prefix === 'eq') {
        from = d.start;
        to = d.end;
      } else if (d.prefix === 'ge') from = d.start;
      // gt: after the whole day (or instant) named; le: up to its end. Bounds are [from, to).
      else if (d.prefix === 'gt') from = d.end;
      else if (d.prefix === 'lt') to = d.start;
      else if (d.prefix === 'le') to = d.end;
    }
    let result: { total: number; resources: unknown[] };
    if (type === 'Patient') {
      if (q.date !== undefined) throw new FhirError(400, 'not-supported', 'date is not a Patient search parameter');
      const ids = new Set<string>();
      for (const id of asList(q._id)) ids.add(id);
      for (const token of asList(q.identifier)) {
        const value = token.includes('|') ? token.slice(token.indexOf('|') + 1) : token;
        for (const p of deps.store.searchPatients(value, count)) ids.add(fhirId(p.id));
      }
      for (const name of asList(q.name)) for (const p of deps.store.searchPatients(name, count)) ids.add(fhirId(p.id));
      if (patientId) ids.add(patientId);
      const anyFilter = q._id !== undefined || q.identifier !== undefined || q.name !== undefined;
      const resources = anyFilter ? [...ids].map((id) => deps.store.fhirRead('Patient', id)).filter(Boolean) : deps.store.fhirSearch('Patient', { limit: count, offset }).resources;
      result = { total: anyFilter ? resources.length : deps.store.fhirSearch('Patient', { limit: 1 }).total, resources: resources as unknown[] };
    } else {
      result = deps.store.fhirSearch(type, { patientId, from, to, limit: count, offset });
    }
    audit(req, 'emr-fhir-search', `${type}?${new URLSearchParams(q as Record<string, string>).toString()}`.slice(0, 500), patientId ?? null, `${result.total} match(es)`);
    const searchset = bundle('searchset', result.resources.map((r) => absolutize(req, r)) as any, base(req), { total: result.total });
    const self = `${base(req)}/${type}${req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : ''}`;
    searchset.link = [{ relation: 'self', url: self }];
    if (offset + count < result.total) {
      const next = new URLSearchParams(q as Record<string, string>);
      next.set('_offset', String(offset + count));
      next.set('_count', String(count));
      searchset.link.push({ relation: 'next', url: `${base(req)}/${type}?${next.toString()}` });
    }
    send(res, 200, searchset);
  });

  router.use((req: Request, _res: Response, next: NextFunction) => next(new FhirError(404, 'not-supported', `no FHIR route ${req.method} ${req.originalUrl}`)));
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof FhirError) return send(res, error.status, outcome(error.code, error.message));
    send(res, 500, outcome('exception', (error as Error).message));
  });
  return router;
}
