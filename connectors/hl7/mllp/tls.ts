// TLS settings for MLLP listeners and senders. Files are resolved against the engine's certs folder,
// so `{ tls: { enabled: true } }` on a listener uses the certificates the engine generated at first
// start (server.crt / server.key, clients checked against ca.crt).
import fs from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import { z } from 'zod';

export const tlsOptionsSchema = z.object({
  enabled: z.boolean().default(true),
  /** PEM files (absolute, or relative to the engine's certs folder). */
  certFile: z.string().optional(),
  keyFile: z.string().optional(),
  caFile: z.string().optional(),
  /** Inline PEM text (wins over the files). */
  certPem: z.string().optional(),
  keyPem: z.string().optional(),
  caPem: z.string().optional(),
  /** Listener: ask for client certificates (mutual TLS). `required` refuses clients without a valid one. */
  clientCertificates: z.enum(['none', 'optional', 'required']).default('none'),
  /** Sender: verify the receiver's certificate (default true). */
  rejectUnauthorized: z.boolean().default(true),
  /** Sender: server name to verify (default the host). */
  servername: z.string().optional(),
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
});

export type TlsOptions = z.infer<typeof tlsOptionsSchema>;

function read(certsDir: string, file: string | undefined, what: string): string | undefined {
  if (!file) return undefined;
  const full = path.isAbsolute(file) ? file : path.join(certsDir, file);
  try {
    return fs.readFileSync(full, 'utf8');
  } catch (err) {
    throw new Error(`TLS ${what} file ${full} cannot be read: ${(err as Error).message}`);
  }
}

function readIfExists(certsDir: string, file: string): string | undefined {
  const full = path.join(certsDir, file);
  return fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : undefined;
}

export function serverTlsOptions(options: TlsOptions, certsDir: string): tls.TlsOptions {
  const cert = options.certPem ?? read(certsDir, options.certFile ?? 'server.crt', 'certificate');
  const key = options.keyPem ?? read(certsDir, options.keyFile ?? 'server.key', 'key');
  const ca = options.caPem ?? (options.caFile ? read(certsDir, options.caFile, 'CA') : readIfExists(certsDir, 'ca.crt'));
  const mutual = options.clientCertificates !== 'none';
  if (mutual && !ca) throw new Error('TLS clientCertificates needs a CA to check them against (caFile or caPem, or ca.crt in the certs folder)');
  return {
    cert,
    key,
    ca: mutual ? ca : undefined,
    requestCert: mutual,
    rejectUnauthorized: options.clientCertificates === 'required',
    minVersion: options.minVersion,
  };
}

export function clientTlsOptions(options: TlsOptions, certsDir: string, host: string): tls.ConnectionOptions {
  const cert = options.certPem ?? read(certsDir, options.certFile, 'certificate');
  const key = options.keyPem ?? read(certsDir, options.keyFile, 'key');
  const ca = options.caPem ?? (options.caFile ? read(certsDir, options.caFile, 'CA') : undefined);
  const isIp = /^[\d.]+$|:/.test(host);
  return {
    cert,
    key,
    ca,
    rejectUnauthorized: options.rejectUnauthorized,
    servername: options.servername ?? (isIp ? undefined : host),
    minVersion: options.minVersion,
  };
}
