// REST routes for claims (the maintainer mounts the router under /api/claims behind authentication):
// list claims by period and status, the findings to fix, the receipts, validation of an uploaded
// file (streamed, never buffered whole), building a period and submitting.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { ClaimsService } from './service';
import type { ClaimStatus } from './store';
import { validateStream } from './validator/validate';
import type { FacilityLevel } from './spec/codelists';
import { isFormatVersion } from './spec/registry';

export interface ClaimsRouterDeps {
  /** The claims service (or a getter, when it is created after the router). */
  service: ClaimsService | (() => ClaimsService | undefined);
  /** Middleware guarding the routes that change things (build, submit, confirm, reopen), e.g. requirePermission('claims:submit'). */
  requireSubmit?: express.RequestHandler;
}

const statuses: ClaimStatus[] = ['invalid', 'ready', 'sending', 'accepted', 'rejected', 'failed', 'unconfirmed'];

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const q = (req: Request, name: string): string | undefined => (typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined);

export function createClaimsRouter(deps: ClaimsRouterDeps): Router {
  const router = express.Router();
  const guard: express.RequestHandler = deps.requireSubmit ?? ((_req, _res, next) => next());
  const service = (): ClaimsService => {
    const s = typeof deps.service === 'function' ? deps.service() : deps.service;
    if (!s) throw new HttpError(503, 'the claims service is not running');
    return s;
  };
  const wrap = (fn: (req: Request, res: Response) => Promise<unknown> | unknown) => (req: Request, res: Response, next: NextFunction) => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch(next);
  };
  const version = (req: Request): number | undefined => {
    const v = req.params.version ?? req.body?.version;
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(String(v))) throw new HttpError(400, `version must be a positive integer (got ${v})`);
    return Number(v);
  };

  router.get(
    '/',
    wrap((req, res) => {
      const status = q(req, 'status');
      const wanted = status?.split(',').filter(Boolean);
      const bad = wanted?.find((s) => !statuses.includes(s as ClaimStatus));
      if (bad) throw new HttpError(400, `unknown status "${bad}" (one of ${statuses.join(', ')})`);
      const date = (name: string) => {
        const v = q(req, name);
        if (v !== undefined && !/^\d{4}-?\d{2}-?\d{2}$/.test(v)) throw new HttpError(400, `${name} must be a date YYYY-MM-DD`);
        return v?.replace(/-/g, '');
      };
      const period = q(req, 'period');
      if (period !== undefined && !/^\d{4}-\d{2}$/.test(period)) throw new HttpError(400, 'period must be yyyy-MM (NAM_QT-THANG_QT)');
      const s = service();
      res.json({
        counts: s.store.countsByStatus(),
        claims: s.store.list({
          status: wanted as ClaimStatus[] | undefined,
          period,
          from: date('from'),
          to: date('to'),
          limit: Math.min(Number(q(req, 'limit') ?? 200), 5000),
          offset: Number(q(req, 'offset') ?? 0),
        }),
      });
    }),
  );

  router.get(
    '/rejected',
    wrap((_req, res) => {
      res.json(service().store.list({ status: 'rejected' }).map((c) => ({ maLk: c.maLk, version: c.version, hoTen: c.hoTen, period: c.period, message: c.lastError, receipts: service().store.receipts(c.maLk, c.version) })));
    }),
  );

  router.get(
    '/receipts',
    wrap((req, res) => {
      res.json(service().store.receipts(q(req, 'maLk')));
    }),
  );

  router.post(
    '/validate',
    wrap(async (req, res) => {
      const v = q(req, 'version');
      if (v !== undefined && !isFormatVersion(v)) throw new HttpError(400, 'version must be 4210, 130, 4750 or 3176');
      // The body streams straight into the validator: a 100 MB envelope is never held whole.
      const result = await validateStream(req, { version: v as never, facilityLevel: q(req, 'facilityLevel') as FacilityLevel | undefined, maCskcb: q(req, 'maCskcb'), keepFindings: 5000 });
      res.status(200).json(result);
    }),
  );

  router.post(
    '/build',
    guard,
    express.json(),
    wrap(async (req, res) => {
      const { from, to } = (req.body ?? {}) as { from?: string; to?: string };
      if (!from || !to || Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to))) throw new HttpError(400, 'body needs from and to (ISO dates or date-times; to is exclusive)');
      res.json(await service().build({ from, to }));
    }),
  );

  router.post(
    '/submit',
    guard,
    wrap(async (_req, res) => {
      res.json(await service().submitPending());
    }),
  );

  router.get(
    '/:maLk',
    wrap((req, res) => {
      const s = service();
      const versions = s.store.versions(String(req.params.maLk));
      if (versions.length === 0) throw new HttpError(404, `no claim ${req.params.maLk}`);
      res.json({ maLk: req.params.maLk, versions: versions.map((v) => ({ ...v, receipts: s.store.receipts(v.maLk, v.version) })) });
    }),
  );

  router.get(
    '/:maLk/:version/envelope',
    wrap((req, res) => {
      const bytes = service().store.envelope(String(req.params.maLk), version(req)!);
      if (!bytes) throw new HttpError(404, `no envelope for ${req.params.maLk} version ${req.params.version} (claims with errors are stored without one)`);
      res.type('application/xml').send(bytes);
    }),
  );

  router.post(
    '/:maLk/submit',
    guard,
    express.json(),
    wrap(async (req, res) => {
      const outcome = await service().submit(String(req.params.maLk), version(req));
      res.status(outcome.skipped && outcome.version === 0 ? 404 : 200).json(outcome);
    }),
  );

  router.post(
    '/:maLk/:version/confirm',
    guard,
    express.json(),
    wrap((req, res) => {
      const { received, maGiaoDich } = (req.body ?? {}) as { received?: boolean; maGiaoDich?: string };
      if (typeof received !== 'boolean') throw new HttpError(400, 'body needs received: true or false (what the portal shows)');
      const s = service().store;
      const ok = received ? s.confirmReceived(String(req.params.maLk), version(req)!, maGiaoDich) : s.confirmNotReceived(String(req.params.maLk), version(req)!);
      if (!ok) throw new HttpError(409, `${req.params.maLk} version ${req.params.version} is not unconfirmed`);
      res.json(s.get(String(req.params.maLk), version(req)));
    }),
  );

  router.post(
    '/:maLk/reopen',
    guard,
    wrap((req, res) => {
      const r = service().store.reopen(String(req.params.maLk));
      if (!r) throw new HttpError(409, `${req.params.maLk}: only an accepted or rejected claim can be reopened`);
      res.json(r);
    }),
  );

  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // Any error carrying an HTTP status (ours, or the engine's permission check: 401/403) keeps it.
    const carried = (error as { status?: unknown }).status;
    const status = error instanceof HttpError ? error.status : typeof carried === 'number' && carried >= 400 && carried < 600 ? carried : (error as { type?: string }).type === 'entity.parse.failed' ? 400 : 500;
    res.status(status).json({ error: (error as Error).message });
  });
  return router;
}
