// Debian's Orthanc as the real PACS in tests and benchmarks: started on loopback ports with a
// generated configuration in a temporary folder, checked through its REST API, stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { commandAvailable } from '../helpers/peers';

/** `Orthanc` when it is on PATH, else Debian's /usr/sbin/Orthanc (sbin is not on every user's PATH). */
export function orthancBinary(): string {
  return commandAvailable('Orthanc') ? 'Orthanc' : '/usr/sbin/Orthanc';
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface OrthancInstance {
  aeTitle: string;
  /** The Orthanc process id (for CPU accounting in benchmarks). */
  pid: number;
  dicomPort: number;
  httpPort: number;
  dir: string;
  get<T = any>(urlPath: string): Promise<T>;
  post<T = any>(urlPath: string, body: unknown): Promise<T>;
  stop(): Promise<void>;
}

export interface OrthancOptions {
  aeTitle?: string;
  /** Remote AEs Orthanc knows (e.g. to send storage commitment reports back): name → [AET, host, port]. */
  modalities?: Record<string, [string, string, number]>;
  /** DICOM over TLS on Orthanc's DICOM port (PEM files); clients must present a certificate from `trustedCertificates`. */
  tls?: { certificate: string; privateKey: string; trustedCertificates: string };
}

export async function startOrthanc(options: OrthancOptions = {}): Promise<OrthancInstance> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-orthanc-'));
  const aeTitle = options.aeTitle ?? 'ORTHANC';
  const dicomPort = await freePort();
  const httpPort = await freePort();
  const config = {
    Name: 'hisbridge-test-pacs',
    StorageDirectory: path.join(dir, 'storage'),
    IndexDirectory: path.join(dir, 'index'),
    StorageCompression: false,
    DicomAet: aeTitle,
    DicomPort: dicomPort,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    SslEnabled: false,
    DicomAlwaysAllowStore: true,
    DicomAlwaysAllowEcho: true,
    DicomCheckCalledAet: false,
    DicomCheckModalityHost: false,
    DicomModalities: options.modalities ?? {},
    Plugins: [],
    ConcurrentJobs: 1,
    HttpVerbose: false,
    LogExportedResources: false,
    StorageAccessOnFind: 'Never',
    ...(options.tls
      ? {
          DicomTlsEnabled: true,
          DicomTlsCertificate: options.tls.certificate,
          DicomTlsPrivateKey: options.tls.privateKey,
          DicomTlsTrustedCertificates: options.tls.trustedCertificates,
          DicomTlsRemoteCertificateRequired: true,
        }
      : {}),
  };
  const configFile = path.join(dir, 'orthanc.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child: ChildProcess = spawn(orthancBinary(), [configFile, `--logdir=${dir}`], {
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const request = <T>(method: string, urlPath: string, body?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const req = http.request({ host: '127.0.0.1', port: httpPort, path: urlPath, method, headers: payload ? { 'content-length': payload.length } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 400) return reject(new Error(`Orthanc ${method} ${urlPath}: HTTP ${res.statusCode} ${text}`));
          try {
            resolve(text ? JSON.parse(text) : (undefined as T));
          } catch {
            resolve(text as unknown as T);
          }
        });
      });
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });

  // Ready when the REST API answers (or fail with Orthanc's own words when it exits).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const exitedEarly = await Promise.race([exited.then((c) => ({ code: c })), new Promise<undefined>((r) => setTimeout(r, 100))]);
    if (exitedEarly) throw new Error(`Orthanc exited (${exitedEarly.code}) before it was ready: ${stderr}`);
    try {
      await request('GET', '/system');
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`Orthanc did not answer on port ${httpPort} within 30 s: ${stderr}`);
      }
    }
  }
  return {
    aeTitle,
    pid: child.pid!,
    dicomPort,
    httpPort,
    dir,
    get: (p) => request('GET', p),
    post: (p, body) => request('POST', p, body),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
