// A SIMULATOR of the BHXH assessment gateway for tests and demos: a local HTTP server with the
// documented endpoints (token/take, check-in, claim upload for 130/4750/3176, the medical-assessment
// table XML12, 4210 error details),
// the documented request shapes (form posts, accessToken/tokenId/passwordHash headers, upper-case
// MD5 password) and answers (maKetQua, maGiaoDich, thoiGianTiepNhan, thongDiep). It validates what
// it receives with the project's validator and can be told to accept, reject, fail or drop.
// It is not the real gateway: its rejection codes and messages are ours.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatFinding } from '../model';
import { validateBuffer } from '../validator/validate';
import { gatewayPasswordHash } from './credentials';

export interface ReceivedClaim {
  maGiaoDich: string;
  endpoint: string;
  loaiHoSo: string;
  maCskcb: string;
  maTinh: string;
  maLks: string[];
  accepted: boolean;
  maKetQua: string;
  thongDiep: string;
  bytes: number;
  at: string;
}

export type Decision = { accept: true } | { accept: false; maKetQua?: string; thongDiep: string };

export interface SimulatorOptions {
  username?: string;
  password?: string;
  /** Token lifetime (seconds). */
  tokenSeconds?: number;
  /** Validate uploads and reject those with errors (default true). */
  validate?: boolean;
  /** Decide per upload after validation (e.g. reject one MA_LK). */
  decide?(claim: { maLks: string[]; envelope: Buffer }): Decision | undefined;
  /** Delay every answer by this many ms. */
  delayMs?: number;
}

export class GatewaySimulator {
  private server?: http.Server;
  readonly received: ReceivedClaim[] = [];
  readonly checkIns: ReceivedClaim[] = [];
  /** Medical-assessment documents (XML12) received on guiDuLieuGdykQd130. */
  readonly assessments: ReceivedClaim[] = [];
  private readonly tokens = new Map<string, { idToken: string; expiresAt: number }>();
  /** The next N uploads get HTTP 503 (the gateway is overloaded; nothing is stored). */
  failNext = 0;
  /** The next N uploads are read completely, stored as received, and the connection is cut without an answer. */
  dropNext = 0;
  /** Answer the next N token requests with an expired token. */
  expireNextTokens = 0;
  logins = 0;
  readonly options: Required<Omit<SimulatorOptions, 'decide'>> & Pick<SimulatorOptions, 'decide'>;

  constructor(options: SimulatorOptions = {}) {
    this.options = { username: '01999_BV', password: 'secret', tokenSeconds: 3600, validate: true, delayMs: 0, ...options };
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) this.json(res, 500, { maKetQua: '500', thongDiep: `simulator error: ${(err as Error).message}` });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    const addr = this.server.address() as AddressInfo;
    return `http://${host}:${addr.port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** Uploads of one MA_LK that the simulator stored (accepted or not). */
  receivedFor(maLk: string): ReceivedClaim[] {
    return this.received.filter((r) => r.maLks.includes(maLk));
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (this.options.delayMs) await new Promise((r) => setTimeout(r, this.options.delayMs));
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (req.method !== 'POST') return this.json(res, 405, { maKetQua: '405', thongDiep: 'POST only' });
    const form = new URLSearchParams(raw);
    const path = url.pathname;
    if (path === '/api/token/take') return this.token(res, form);
    const claimMatch = /^\/api\/qd130\/guiHoSoXmlQD(130|4750|3176)$/.exec(path);
    const checkInMatch = /^\/api\/qd130\/checkInKcbQd(130|4750|3176)$/.exec(path);
    const assessment = path === '/api/qd130/guiDuLieuGdykQd130';
    if (path === '/api/egw/nhanChiTietLoiHS4210') return this.errorDetails(res, url.searchParams);
    if (!claimMatch && !checkInMatch && !assessment) return this.json(res, 404, { maKetQua: '404', thongDiep: `unknown endpoint ${path}` });
    if (!this.authorised(req)) return this.json(res, 401, { maKetQua: '401', thongDiep: 'Chưa xác thực: accessToken, tokenId hoặc passwordHash không hợp lệ' });
    for (const f of ['username', 'loaiHoSo', 'maTinh', 'maCSKCB', 'fileHSBase64']) {
      if (!form.get(f)) return this.json(res, 200, { maKetQua: '205', thongDiep: `thiếu tham số ${f}` });
    }
    const expectedLoai = claimMatch ? '130' : assessment ? '12' : '0';
    if (form.get('loaiHoSo') !== expectedLoai) return this.json(res, 200, { maKetQua: '205', thongDiep: `loaiHoSo phải là ${expectedLoai}` });
    if (this.failNext > 0) {
      this.failNext--;
      return this.json(res, 503, { maKetQua: '503', thongDiep: 'Hệ thống đang bận, vui lòng gửi lại sau' });
    }
    const fileBase64 = form.get('fileHSBase64')!;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(fileBase64)) return this.json(res, 200, { maKetQua: '201', thongDiep: 'fileHSBase64 không phải base64' });
    const envelope = Buffer.from(fileBase64, 'base64');
    const maGiaoDich = randomUUID().replace(/-/g, '').toUpperCase();
    const result = await validateBuffer(envelope, { version: ((claimMatch ?? checkInMatch)?.[1] ?? '3176') as '3176', keepFindings: 20 });
    if (assessment && !result.fatal && result.envelope.rootName !== 'CHI_TIEU_GIAM_DINH_YKHOA') {
      return this.json(res, 200, { maKetQua: '205', thongDiep: `guiDuLieuGdykQd130 nhận bảng XML12 (CHI_TIEU_GIAM_DINH_YKHOA), không phải ${result.envelope.rootName ?? 'tài liệu này'}` });
    }
    const maLks = [...new Set(result.episodes.flatMap((e) => e.maLks))];
    let decision: Decision = { accept: true };
    if (result.fatal || (this.options.validate && result.errors > 0)) {
      const first = result.findings.filter((f) => f.severity === 'error').slice(0, 5).map(formatFinding);
      decision = { accept: false, maKetQua: result.fatal ? '201' : '202', thongDiep: `Hồ sơ có ${result.errors} lỗi: ${first.join(' | ')}` };
    } else {
      decision = this.options.decide?.({ maLks, envelope }) ?? decision;
    }
    const maKetQua = decision.accept ? '200' : (decision.maKetQua ?? '202');
    const thongDiep = decision.accept ? 'Tiếp nhận thành công' : decision.thongDiep;
    const record: ReceivedClaim = {
      maGiaoDich,
      endpoint: path,
      loaiHoSo: form.get('loaiHoSo')!,
      maCskcb: form.get('maCSKCB')!,
      maTinh: form.get('maTinh')!,
      maLks,
      accepted: decision.accept,
      maKetQua,
      thongDiep,
      bytes: envelope.length,
      at: new Date().toISOString(),
    };
    (claimMatch ? this.received : assessment ? this.assessments : this.checkIns).push(record);
    if (this.dropNext > 0) {
      this.dropNext--;
      req.socket.destroy();
      return;
    }
    this.json(res, 200, { maKetQua, maGiaoDich, thoiGianTiepNhan: timestamp(), thongDiep });
  }

  private token(res: http.ServerResponse, form: URLSearchParams): void {
    this.logins++;
    const ok = form.get('username') === this.options.username && form.get('password') === gatewayPasswordHash(this.options.password);
    if (!ok) return this.json(res, 200, { maKetQua: '401', thongDiep: 'Sai tên đăng nhập hoặc mật khẩu' });
    const accessToken = randomUUID();
    const idToken = randomUUID();
    const expired = this.expireNextTokens > 0;
    if (expired) this.expireNextTokens--;
    const expiresAt = Date.now() + (expired ? -1000 : this.options.tokenSeconds * 1000);
    this.tokens.set(accessToken, { idToken, expiresAt });
    this.json(res, 200, {
      maKetQua: '200',
      APIKey: { access_token: accessToken, id_token: idToken, token_type: 'Bearer', username: this.options.username, expires_in: new Date(expiresAt).toISOString() },
    });
  }

  private authorised(req: http.IncomingMessage): boolean {
    const accessToken = String(req.headers.accesstoken ?? '');
    const t = this.tokens.get(accessToken);
    return !!t && t.expiresAt > Date.now() && req.headers.tokenid === t.idToken && req.headers.passwordhash === gatewayPasswordHash(this.options.password);
  }

  private errorDetails(res: http.ServerResponse, q: URLSearchParams): void {
    const t = this.tokens.get(q.get('token') ?? '');
    if (!t || t.expiresAt < Date.now()) return this.json(res, 200, { maKetQua: '401', dsLoi: [] });
    const r = this.received.find((x) => x.maGiaoDich === q.get('maGiaoDich'));
    if (!r) return this.json(res, 200, { maKetQua: '204', dsLoi: [] });
    this.json(res, 200, { maKetQua: '200', dsLoi: r.accepted ? [] : [{ maLoi: r.maKetQua, moTaLoi: r.thongDiep }] });
  }
}

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const v = new Date(d.getTime() + 7 * 3600_000);
  return `${v.getUTCFullYear()}${p(v.getUTCMonth() + 1)}${p(v.getUTCDate())}${p(v.getUTCHours())}${p(v.getUTCMinutes())}${p(v.getUTCSeconds())}`;
}
