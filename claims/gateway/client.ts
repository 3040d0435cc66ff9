// Client of the BHXH assessment gateway ("Cổng tiếp nhận dữ liệu Hệ thống thông tin giám định BHYT",
// research spec §4): POST /api/token/take with the upper-case MD5 password, then check-in and claim
// uploads as form posts with the accessToken/tokenId/passwordHash headers. Each call says whether a
// failure happened before the request could have reached the gateway (safe to send again) or after
// (the gateway may have it: never resent automatically).
import http from 'node:http';
import https from 'node:https';
import type { FormatVersion } from '../spec/types';
import { specFile } from '../spec/registry';
import { gatewayPasswordHash, type GatewayCredentials } from './credentials';

export const GATEWAY_HOSTS = {
  production: 'https://egw.baohiemxahoi.gov.vn',
  test: 'https://daotaoegw.baohiemxahoi.gov.vn',
} as const;

/** Endpoint of the medical-assessment table (XML12); documented for QĐ 130 only, used for every version. */
export const MEDICAL_ASSESSMENT_ENDPOINT = '/api/qd130/guiDuLieuGdykQd130';

export interface GatewayClientOptions {
  /** Base URL: GATEWAY_HOSTS.production, GATEWAY_HOSTS.test, or a simulator. */
  baseUrl: string;
  credentials: GatewayCredentials;
  /** Facility code (maCSKCB); the province (maTinh) defaults to its first two characters. */
  maCskcb: string;
  maTinh?: string;
  version?: Exclude<FormatVersion, '4210'>;
  /** Per-request timeout (connect + response), default 60 s. */
  timeoutMs?: number;
  /** Extra CA certificates for HTTPS (PEM). */
  ca?: string | string[];
  userAgent?: string;
}

/** The gateway's answer to a check-in or claim upload. */
export interface GatewayReply {
  httpStatus: number;
  maKetQua?: string;
  maGiaoDich?: string;
  thoiGianTiepNhan?: string;
  thongDiep?: string;
  /** The body as received (kept with the receipt). */
  body: string;
}

/**
 * A call that produced no gateway answer. `delivered` is `no` when the request certainly did not
 * reach the gateway (connection refused, DNS, TLS, timeout before the body was sent), `unknown`
 * when the body was sent and the answer was lost.
 */
export class GatewayTransportError extends Error {
  constructor(
    message: string,
    readonly delivered: 'no' | 'unknown',
    readonly code?: string,
  ) {
    super(message);
    this.name = 'GatewayTransportError';
  }
}

export class GatewayAuthError extends Error {
  constructor(
    message: string,
    readonly reply?: GatewayReply,
  ) {
    super(message);
    this.name = 'GatewayAuthError';
  }
}

export interface Token {
  accessToken: string;
  idToken: string;
  /** Expiry (ms since epoch). */
  expiresAt: number;
}

const REFRESH_MARGIN_MS = 60_000;

export class GatewayClient {
  private token?: Token;
  private readonly version: Exclude<FormatVersion, '4210'>;
  private readonly maTinh: string;
  readonly baseUrl: URL;

  constructor(private readonly options: GatewayClientOptions) {
    this.baseUrl = new URL(options.baseUrl);
    this.version = options.version ?? '3176';
    this.maTinh = options.maTinh ?? options.maCskcb.slice(0, 2);
  }

  get endpoints() {
    return specFile(this.version).endpoints;
  }

  private get passwordHash(): string {
    return gatewayPasswordHash(this.options.credentials.password);
  }

  /** POST /api/token/take; the token is cached and refreshed a minute before it expires. */
  async takeToken(force = false): Promise<Token> {
    if (!force && this.token && this.token.expiresAt - REFRESH_MARGIN_MS > Date.now()) return this.token;
    const reply = await this.post('/api/token/take', { username: this.options.credentials.username, password: this.passwordHash }, {});
    const body = parseJson(reply.body);
    const key = (body?.APIKey ?? body?.apiKey) as Record<string, unknown> | undefined;
    if (reply.httpStatus !== 200 || String(body?.maKetQua) !== '200' || !key?.access_token) {
      throw new GatewayAuthError(`login refused: HTTP ${reply.httpStatus}, maKetQua ${body?.maKetQua ?? '-'}${body?.thongDiep ? `, ${body.thongDiep}` : ''}`, reply);
    }
    this.token = { accessToken: String(key.access_token), idToken: String(key.id_token ?? ''), expiresAt: parseExpiry(key.expires_in) };
    return this.token;
  }

  /** Sends a check-in (XML0) document. */
  checkIn(document: Buffer | string): Promise<GatewayReply> {
    if (!this.endpoints.checkIn) throw new Error(`QĐ ${this.version} has no check-in endpoint`);
    return this.upload(this.endpoints.checkIn, '0', document);
  }

  /** Sends one GIAMDINHHS envelope (fileHSBase64 = base64 of the whole document). */
  sendClaim(envelope: Buffer | string): Promise<GatewayReply> {
    return this.upload(this.endpoints.sendClaim, this.endpoints.claimLoaiHoSo, envelope);
  }

  /**
   * Sends a medical-assessment document (XML12, CHI_TIEU_GIAM_DINH_YKHOA with its own CHUKYDONVI):
   * loaiHoSo 12 to guiDuLieuGdykQd130, the one endpoint the BHXH guidance (CV 3190 §4) documents for it.
   */
  sendMedicalAssessment(document: Buffer | string): Promise<GatewayReply> {
    return this.upload(MEDICAL_ASSESSMENT_ENDPOINT, '12', document);
  }

  /** Error details of a transaction (documented for 4210; see docs/claims.md for the 130 family). */
  async errorDetails(maGiaoDich: string): Promise<{ maKetQua?: string; dsLoi: Array<{ maLoi: string; moTaLoi: string }> }> {
    const token = await this.takeToken();
    const q = new URLSearchParams({ token: token.accessToken, id_token: token.idToken, username: this.options.credentials.username, password: this.passwordHash, maCSKCB: this.options.maCskcb, maGiaoDich });
    const reply = await this.post(`/api/egw/nhanChiTietLoiHS4210?${q}`, {}, {});
    const body = parseJson(reply.body);
    return { maKetQua: body?.maKetQua === undefined ? undefined : String(body.maKetQua), dsLoi: Array.isArray(body?.dsLoi) ? (body.dsLoi as Array<{ maLoi: string; moTaLoi: string }>) : [] };
  }

  private async upload(endpoint: string, loaiHoSo: string, document: Buffer | string): Promise<GatewayReply> {
    const fileHSBase64 = (typeof document === 'string' ? Buffer.from(document, 'utf8') : document).toString('base64');
    const form = { username: this.options.credentials.username, loaiHoSo, maTinh: this.maTinh, maCSKCB: this.options.maCskcb, fileHSBase64 };
    for (let attempt = 0; ; attempt++) {
      const token = await this.takeToken(attempt > 0);
      const reply = await this.post(endpoint, form, { accessToken: token.accessToken, tokenId: token.idToken, passwordHash: this.passwordHash });
      const parsed = toReply(reply);
      // An expired token is refused before anything is stored: log in again once and resend.
      if ((parsed.httpStatus === 401 || parsed.maKetQua === '401') && attempt === 0) {
        this.token = undefined;
        continue;
      }
      return parsed;
    }
  }

  private post(pathAndQuery: string, form: Record<string, string>, headers: Record<string, string>): Promise<GatewayReply> {
    const url = new URL(pathAndQuery, this.baseUrl);
    const body = new URLSearchParams(form).toString();
    const isHttps = url.protocol === 'https:';
    const timeout = this.options.timeoutMs ?? 60_000;
    return new Promise<GatewayReply>((resolve, reject) => {
      let bodySent = false;
      let settled = false;
      const fail = (err: Error & { code?: string }, forceUnknown = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        const delivered = bodySent || forceUnknown ? 'unknown' : 'no';
        reject(new GatewayTransportError(`${url.origin}${url.pathname}: ${err.message}${delivered === 'unknown' ? ' (after the request was sent: it may have been received)' : ''}`, delivered, err.code));
      };
      const req = (isHttps ? https : http).request(
        url,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': Buffer.byteLength(body),
            Accept: 'application/json',
            'User-Agent': this.options.userAgent ?? 'hisbridge-claims',
            ...headers,
          },
          ...(isHttps && this.options.ca ? { ca: this.options.ca } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => fail(err, true));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({ httpStatus: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('aborted', () => fail(new Error('the response was cut off'), true));
        },
      );
      const timer = setTimeout(() => fail(Object.assign(new Error(`no answer within ${timeout} ms`), { code: 'ETIMEDOUT' })), timeout);
      req.on('error', (err) => fail(err));
      req.on('finish', () => {
        bodySent = true;
      });
      req.end(body);
    });
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function toReply(raw: GatewayReply): GatewayReply {
  const body = parseJson(raw.body);
  const s = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
  return { ...raw, maKetQua: s(body?.maKetQua), maGiaoDich: s(body?.maGiaoDich), thoiGianTiepNhan: s(body?.thoiGianTiepNhan), thongDiep: s(body?.thongDiep) };
}

/** `expires_in` is documented as a UTC date-time; some deployments send seconds. */
export function parseExpiry(value: unknown, now = Date.now()): number {
  if (typeof value === 'number' && Number.isFinite(value)) return now + value * 1000;
  const text = String(value ?? '').trim();
  if (/^\d+$/.test(text)) return now + Number(text) * 1000;
  const parsed = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
  return Number.isFinite(parsed) ? parsed : now + 10 * 60_000;
}
