// REST routes of the IoMT area (mounted by the engine under /api/iomt): devices, bindings, HIS bed
// assignments, vitals series, NEWS2, alerts, held (unassigned) readings and the quarantine.
// Each route checks the caller's role itself: reading needs devices:manage, emr:read or channels:read;
// registering devices and binding needs devices:manage; clinical actions (acknowledging an alert,
// choosing SpO2 scale 2, charting ACVPU/oxygen) need devices:manage or emr:read.
import express, { type NextFunction, type Request, type Response } from 'express';
import { z, ZodError } from 'zod';
import { can, type Permission, type Role } from '../engine/auth/security-store';
import { AlertNotFoundError, AlertStateError } from './alerts';
import { toBedAssignment } from './channel';
import { BindingError } from './registry';
import type { IomtService } from './service';
import { VitalsInputError } from './types';
import { VITAL_SIGNS, type VitalSign } from './vitals';

export type IomtAction = 'read' | 'manage' | 'clinical';

export interface IomtRouterDeps {
  service: IomtService;
  /** Decides whether the request may do the action (default: the role rules above on `req.user`). */
  authorize?: (req: Request, action: IomtAction) => boolean;
  /** Records who did what (the engine's audit log). */
  audit?: (req: Request, action: string, target: string, patientId?: string | null, detail?: string) => void;
}

const ACTION_PERMISSIONS: Record<IomtAction, Permission[]> = {
  read: ['devices:manage', 'emr:read', 'channels:read'],
  manage: ['devices:manage'],
  clinical: ['devices:manage', 'emr:read'],
};

export function defaultAuthorize(req: Request, action: IomtAction): boolean {
  const user = (req as Request & { user?: { role: Role } }).user;
  if (!user) return false;
  return ACTION_PERMISSIONS[action].some((p) => can(user.role, p));
}

class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue.path.join('.');
    throw new ApiError(400, `${field || 'body'}: ${issue.message}`, field || undefined);
  }
  return r.data;
}

/** ISO 8601 or epoch milliseconds → epoch ms. */
const instant = z.union([z.number(), z.string().min(1)]).transform((v, ctx) => {
  const t = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (Number.isNaN(t)) {
    ctx.addIssue({ code: 'custom', message: `"${String(v)}" is not an ISO 8601 date-time or epoch milliseconds` });
    return z.NEVER;
  }
  return t;
});
const sign = z.enum(VITAL_SIGNS as [VitalSign, ...VitalSign[]]);
const RESOLUTIONS: Record<string, number> = { raw: 0, '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000 };

const deviceBody = z.object({
  name: z.string().max(200).optional(),
  model: z.string().max(200).optional(),
  site: z.string().max(64).optional(),
  ward: z.string().max(64).optional(),
  bed: z.string().max(64).optional(),
  bindMode: z.enum(['manual', 'bed']).optional(),
  silentAfterMs: z.number().int().min(1000).nullable().optional(),
  ratePerSecond: z.number().positive().nullable().optional(),
});
const bindBody = z.object({
  deviceId: z.string().min(1),
  visitId: z.string().min(1).max(100),
  patientId: z.string().min(1).max(64),
  patientName: z.string().max(200).optional(),
  from: instant.optional(),
  replace: z.boolean().optional(),
});

export function createIomtRouter(deps: IomtRouterDeps): express.Router {
  const { service } = deps;
  const authorize = deps.authorize ?? defaultAuthorize;
  const router = express.Router();
  router.use(express.json({ limit: '256kb' }));
  const who = (req: Request) => (req as Request & { user?: { username: string } }).user?.username ?? 'anonymous';
  const allow = (action: IomtAction) => (req: Request, _res: Response, next: NextFunction) => {
    if (authorize(req, action)) return next();
    const user = (req as Request & { user?: { role: string } }).user;
    next(user ? new ApiError(403, `role "${user.role}" may not ${action === 'read' ? 'read IoMT data' : action === 'manage' ? 'manage devices and bindings' : 'take clinical IoMT actions'}`) : new ApiError(401, 'authentication required'));
  };
  const audit = (req: Request, action: string, target: string, patientId?: string | null, detail?: string) => deps.audit?.(req, action, target, patientId, detail);

  // ---------------------------------------------------------------- devices
  router.get('/devices', allow('read'), (req, res) => {
    const q = parse(z.object({ ward: z.string().optional(), status: z.enum(['registered', 'discovered', 'retired']).optional() }), req.query);
    const devices = service.registry.listDevices(q).map((d) => ({ ...d, binding: service.registry.openBinding(d.id) ?? null }));
    res.json({ devices });
  });
  router.get('/devices/:id', allow('read'), (req, res) => {
    const id = String(req.params.id);
    const device = service.registry.device(id);
    if (!device) throw new ApiError(404, `device ${id} is not registered`);
    res.json({ device, bindings: service.registry.listBindings({ deviceId: device.id }) });
  });
  router.put('/devices/:id', allow('manage'), (req, res) => {
    const id = parse(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'device id: 1-64 characters A-Z a-z 0-9 . _ : -'), req.params.id);
    const body = parse(deviceBody, req.body ?? {});
    const device = service.registry.upsertDevice({ id, ...body });
    audit(req, 'iomt-device-save', id);
    res.json({ device });
  });
  router.delete('/devices/:id', allow('manage'), (req, res) => {
    const device = service.registry.retireDevice(String(req.params.id));
    audit(req, 'iomt-device-retire', device.id);
    res.json({ device });
  });

  // ---------------------------------------------------------------- bindings
  router.get('/bindings', allow('read'), (req, res) => {
    const q = parse(z.object({ deviceId: z.string().optional(), visitId: z.string().optional(), active: z.enum(['true', 'false']).optional() }), req.query);
    res.json({ bindings: service.registry.listBindings({ deviceId: q.deviceId, visitId: q.visitId, activeOnly: q.active === 'true' }) });
  });
  router.post('/bindings', allow('clinical'), (req, res) => {
    const body = parse(bindBody, req.body);
    const binding = service.registry.bind({ ...body, source: 'console', by: who(req) });
    audit(req, 'iomt-bind', body.deviceId, body.patientId, `visit ${body.visitId}`);
    res.status(201).json({ binding });
  });
  router.post('/devices/:id/unbind', allow('clinical'), (req, res) => {
    const body = parse(z.object({ at: instant.optional(), reason: z.string().max(500).optional() }), req.body ?? {});
    const binding = service.registry.unbind(String(req.params.id), { at: body.at, reason: body.reason ?? `unbound by ${who(req)}`, by: who(req) });
    audit(req, 'iomt-unbind', binding.deviceId, binding.patientId, `visit ${binding.visitId}`);
    res.json({ binding });
  });
  router.post('/bed-assignments', allow('manage'), (req, res) => {
    const list = Array.isArray(req.body) ? req.body : [req.body];
    const results = list.map((item: unknown, i: number) => {
      let a;
      try {
        a = toBedAssignment(item);
      } catch (err) {
        throw new ApiError(400, `[${i}] ${(err as Error).message}`);
      }
      const r = service.registry.applyBedAssignment({ ...a, by: a.by ?? who(req) });
      audit(req, 'iomt-bed-assignment', `${a.ward}/${a.bed}`, a.patientId, `${a.event} visit ${a.visitId}`);
      return { visitId: a.visitId, bound: r.bound, unbound: r.unbound };
    });
    res.json({ results });
  });

  // ---------------------------------------------------------------- vitals and NEWS2
  router.get('/visits/:visitId/vitals', allow('read'), (req, res) => {
    const q = parse(
      z.object({
        sign: sign.optional(),
        from: instant.optional(),
        to: instant.optional(),
        resolution: z.enum(Object.keys(RESOLUTIONS) as [string, ...string[]]).default('1m'),
      }),
      req.query,
    );
    const visitId = String(req.params.visitId);
    const to = q.to ?? Date.now() + 60_000;
    const from = q.from ?? to - 24 * 3600_000;
    if (from >= to) throw new ApiError(400, 'from must be before to', 'from');
    const signs = q.sign ? [q.sign] : (['heart-rate', 'respiratory-rate', 'spo2', 'temperature', 'systolic-bp', 'diastolic-bp'] as VitalSign[]);
    const series = Object.fromEntries(signs.map((s) => [s, service.series(visitId, s, from, to, RESOLUTIONS[q.resolution])]));
    audit(req, 'iomt-vitals-read', visitId, service.registry.listBindings({ visitId })[0]?.patientId ?? null);
    res.json({ visitId, from, to, resolution: q.resolution, series });
  });
  router.get('/visits/:visitId/news2', allow('read'), (req, res) => {
    const q = parse(z.object({ from: instant.optional(), to: instant.optional() }), req.query);
    const visitId = String(req.params.visitId);
    const to = q.to ?? Date.now() + 60_000;
    res.json({ visitId, spo2Scale: service.spo2Scale(visitId), current: service.currentNews2(visitId), history: service.news2History(visitId, q.from ?? to - 24 * 3600_000, to) });
  });
  router.put('/visits/:visitId/spo2-scale', allow('clinical'), (req, res) => {
    const body = parse(z.object({ scale: z.union([z.literal(1), z.literal(2)]), patientId: z.string().optional() }), req.body);
    const visitId = String(req.params.visitId);
    service.setSpo2Scale(visitId, body.scale, who(req), body.patientId);
    audit(req, 'iomt-spo2-scale', visitId, body.patientId ?? null, `scale ${body.scale}`);
    res.json({ visitId, spo2Scale: body.scale, current: service.currentNews2(visitId) });
  });
  router.post('/visits/:visitId/observations', allow('clinical'), async (req, res) => {
    const body = parse(z.object({ entries: z.array(z.object({ sign, value: z.union([z.number(), z.string(), z.boolean()]), t: instant.optional() })).min(1).max(20) }), req.body);
    const visitId = String(req.params.visitId);
    const outcome = await service.recordManual(visitId, body.entries, who(req));
    audit(req, 'iomt-observation', visitId, null, body.entries.map((e) => `${e.sign}=${String(e.value)}`).join(', '));
    res.status(outcome.status === 'stored' ? 201 : 422).json({ outcome, current: service.currentNews2(visitId) });
  });

  // ---------------------------------------------------------------- alerts
  router.get('/alerts', allow('read'), (req, res) => {
    const q = parse(
      z.object({
        status: z.enum(['open', 'acknowledged', 'resolved', 'active']).optional(),
        ward: z.string().optional(),
        visitId: z.string().optional(),
        deviceId: z.string().optional(),
        category: z.enum(['clinical', 'technical']).optional(),
        limit: z.coerce.number().int().min(1).max(5000).default(200),
      }),
      req.query,
    );
    res.json({ alerts: service.alerts.list(q) });
  });
  router.post('/alerts/:id/acknowledge', allow('clinical'), (req, res) => {
    const id = parse(z.coerce.number().int().positive(), req.params.id);
    const alert = service.alerts.acknowledge(id, who(req));
    audit(req, 'iomt-alert-ack', `alert ${id}`, alert.patientId ?? null, alert.message);
    res.json({ alert });
  });

  // ---------------------------------------------------------------- held and refused data
  router.get('/unassigned', allow('read'), (req, res) => {
    const q = parse(z.object({ deviceId: z.string().optional(), from: instant.optional(), to: instant.optional(), limit: z.coerce.number().int().min(1).max(10_000).default(500) }), req.query);
    res.json({ readings: service.listUnassigned(q) });
  });
  router.post('/unassigned/assign', allow('manage'), (req, res) => {
    const body = parse(z.object({ deviceId: z.string().min(1), from: instant, to: instant, visitId: z.string().min(1), patientId: z.string().min(1) }), req.body);
    if (body.from >= body.to) throw new ApiError(400, 'from must be before to', 'from');
    const assigned = service.assignUnassigned({ ...body, by: who(req) });
    audit(req, 'iomt-assign-held', body.deviceId, body.patientId, `${assigned} reading(s) to visit ${body.visitId}`);
    res.json({ assigned });
  });
  router.get('/quarantine', allow('read'), (req, res) => {
    const q = parse(z.object({ deviceId: z.string().optional(), kind: z.string().optional(), limit: z.coerce.number().int().min(1).max(5000).default(200) }), req.query);
    res.json({ entries: service.listQuarantine(q) });
  });
  router.get('/stats', allow('read'), (_req, res) => {
    res.json({ counters: service.counters, devices: service.registry.listDevices().length, activeBindings: service.registry.activeBindings().length, activeAlerts: service.alerts.list({ status: 'active', limit: 5000 }).length });
  });

  router.use((req: Request, _res: Response, next: NextFunction) => next(new ApiError(404, `no IoMT route ${req.method} ${req.originalUrl}`)));
  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    let status = 500;
    let field: string | undefined;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ApiError) (status = error.status), (field = error.field);
    else if (error instanceof BindingError) status = error.status;
    else if (error instanceof AlertNotFoundError || error instanceof AlertStateError) status = error.status;
    else if (error instanceof VitalsInputError) status = 422;
    else if (error instanceof ZodError) status = 400;
    else if ((error as { type?: string })?.type === 'entity.parse.failed') status = 400;
    res.status(status).json({ error: message, ...(field ? { field } : {}) });
  });
  return router;
}
