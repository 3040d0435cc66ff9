// Claims settings: an optional YAML file (claims.config.yaml beside hisbridge.config.yaml, or
// --claims-config) with the facility signer, the format version, the gateway host and the
// credentials profile. Passwords are never in this file: `hisbridge claims credentials` stores them
// encrypted in the data folder.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { GATEWAY_HOSTS } from './gateway/client';

export const claimsConfigSchema = z.object({
  /** Facility code (MA_CSKCB) for the gateway's maCSKCB; default: the HIS facility. */
  maCskcb: z.string().regex(/^\d{5}$/, 'a 5-digit facility code').optional(),
  /** Format version of new claims (3176 since 01/01/2025). */
  version: z.enum(['130', '4750', '3176']).default('3176'),
  /** Health ID (social-insurance number) of the facility head or authorised signatory: MA_TTDV. */
  signerHealthId: z.string().regex(/^\d{10}$/, 'MA_TTDV is a 10-digit health ID').optional(),
  /** Overrides the facility level the HIS reports (off-route rate of MUC_HUONG). */
  facilityLevel: z.enum(['central', 'provincial', 'district', 'commune']).optional(),
  signing: z
    .object({
      /** PEM key and certificate of the hospital; default: the engine's signing certificate in certs/. */
      keyFile: z.string().optional(),
      certFile: z.string().optional(),
    })
    .default({}),
  build: z
    .object({
      /**
       * Worker threads that build, validate and sign during `claims build` (0: on the main thread).
       * Worth it for large periods: each thread takes about a second to start.
       */
      workers: z.number().int().min(0).max(64).default(0),
    })
    .default({ workers: 0 }),
  gateway: z
    .object({
      /** `test` (daotaoegw), `production` (egw) or a URL (e.g. the simulator). */
      host: z.string().default('test'),
      /** Credentials profile stored with `hisbridge claims credentials`. */
      profile: z.string().default('default'),
      timeoutMs: z.number().int().min(1000).default(60_000),
      maxAttempts: z.number().int().min(1).max(20).default(3),
      backoffMs: z.number().int().min(1).default(5000),
    })
    .default({ host: 'test', profile: 'default', timeoutMs: 60_000, maxAttempts: 3, backoffMs: 5000 }),
});

export type ClaimsConfig = z.infer<typeof claimsConfigSchema>;

export function gatewayUrl(host: string): string {
  if (host === 'test' || host === 'production') return GATEWAY_HOSTS[host];
  try {
    return new URL(host).toString();
  } catch {
    throw new Error(`gateway.host "${host}" is neither test, production nor a URL`);
  }
}

export function loadClaimsConfig(file: string | undefined, baseDir: string): ClaimsConfig {
  const candidate = file ?? path.join(baseDir, 'claims.config.yaml');
  let raw: unknown = {};
  if (fs.existsSync(candidate)) {
    try {
      raw = YAML.parse(fs.readFileSync(candidate, 'utf8')) ?? {};
    } catch (error) {
      throw new Error(`${candidate}: not valid YAML: ${(error as Error).message}`);
    }
  } else if (file) throw new Error(`claims configuration file ${file} does not exist`);
  const parsed = claimsConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${candidate}: ${i.path.join('.')}: ${i.message}`).join('\n'));
  return parsed.data;
}
