// Settings of the `mqtt` source and the `mqtt-publish` destination.
import fs from 'node:fs';
import path from 'node:path';
import type { IClientOptions } from 'mqtt';
import { z } from 'zod';

const tlsSchema = z
  .object({
    /** CA bundle that signed the broker's certificate (PEM file). */
    caFile: z.string().optional(),
    /** Client certificate and key (PEM files) for brokers that require certificate authentication. */
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    /** Use the engine's own CA (certs/ca.crt) and client certificate (certs/client.crt + client.key) when present. */
    useEngineCertificates: z.boolean().default(false),
    rejectUnauthorized: z.boolean().default(true),
    /** Name to check the broker's certificate against, when it differs from the URL host. */
    servername: z.string().optional(),
  })
  .refine((t) => !!t.certFile === !!t.keyFile, { message: 'certFile and keyFile go together' });

const connection = {
  /** `mqtt://host:1883` or `mqtts://host:8883` (TLS). */
  url: z.string().regex(/^(mqtt|mqtts|tcp|ssl|tls):\/\/[^/]+/, 'use mqtt://host:port or mqtts://host:port'),
  /** 4 = MQTT 3.1.1, 5 = MQTT 5.0. The embedded aedes broker speaks 3.1.1 only. */
  protocolVersion: z.union([z.literal(4), z.literal(5)]).default(4),
  clientId: z.string().min(1).max(128).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  /** Read the password from this environment variable (keeps secrets out of channel files). */
  passwordEnv: z.string().optional(),
  tls: tlsSchema.optional(),
  keepaliveSeconds: z.number().int().min(0).max(65535).default(30),
  reconnectMs: z.number().int().min(100).default(1000),
  connectTimeoutMs: z.number().int().min(100).default(10_000),
};

export const mqttSourceConfigSchema = z.object({
  ...connection,
  /**
   * Topic filters (`+`/`#`) or templates whose `{name}` levels are read into the message origin, e.g.
   * `hospital/{site}/ward/{ward}/bed/{bed}/device/{deviceId}/{format}`. `{deviceId}` becomes the
   * message's deviceId correlation key.
   */
  topics: z.array(z.string().min(1)).min(1, 'subscribe to at least one topic'),
  /** Subscribe as a shared subscription `$share/<group>/<filter>` (several engines share the load). */
  shareGroup: z.string().regex(/^[^/+#]+$/).optional(),
  qos: z.union([z.literal(0), z.literal(1)]).default(1),
  /**
   * false (default) = persistent session: the broker keeps our subscriptions and queues QoS 1 messages
   * while the engine is down, and re-sends anything we had not acknowledged.
   */
  clean: z.boolean().default(false),
  /** MQTT 5: how long the broker keeps the session after a disconnect (default 7 days). */
  sessionExpirySeconds: z.number().int().min(0).max(0xffffffff).default(7 * 24 * 3600),
  /** Messages handed to the engine but not yet acknowledged; past this the socket is not read (backpressure). */
  maxInFlight: z.number().int().min(1).max(65535).default(1000),
  /** Content type of the payloads (an MQTT 5 content-type property overrides it per message). */
  contentType: z.string().default('application/json'),
  /** Larger payloads are not stored: they are acknowledged and reported (set the broker's max_packet_size too). */
  maxPayloadBytes: z.number().int().min(1).default(1024 * 1024),
  /** `stored` (default): acknowledge once durable; `delivered`: once every destination delivered it. */
  ackMode: z.enum(['stored', 'delivered']).default('stored'),
});
export type MqttSourceConfig = z.infer<typeof mqttSourceConfigSchema>;

export const mqttPublishConfigSchema = z.object({
  ...connection,
  /**
   * Topic to publish to; `{name}` is filled from the message's correlation keys, then from fields of a
   * JSON body (e.g. `hospital/{site}/ward/{ward}/alerts`).
   */
  topic: z.string().min(1),
  qos: z.union([z.literal(0), z.literal(1)]).default(1),
  retain: z.boolean().default(false),
  /** How long one publish may wait for the broker's PUBACK before the delivery is retried. */
  publishTimeoutMs: z.number().int().min(100).default(10_000),
});
export type MqttPublishConfig = z.infer<typeof mqttPublishConfigSchema>;

type ConnectionConfig = Pick<MqttSourceConfig, 'url' | 'protocolVersion' | 'clientId' | 'username' | 'password' | 'passwordEnv' | 'tls' | 'keepaliveSeconds' | 'reconnectMs' | 'connectTimeoutMs'>;

/** mqtt.js options for a connection (TLS files read now, so a missing file fails at start with its path). */
export function clientOptions(config: ConnectionConfig, defaults: { clientId: string; certsDir?: string }): IClientOptions {
  const options: IClientOptions = {
    protocolVersion: config.protocolVersion,
    clientId: config.clientId ?? defaults.clientId,
    keepalive: config.keepaliveSeconds,
    reconnectPeriod: config.reconnectMs,
    connectTimeout: config.connectTimeoutMs,
    username: config.username,
  };
  // mqtt.js logs every packet through `debug`; even disabled that costs a few % per message. Keep it
  // available with DEBUG=mqttjs*.
  if (!/mqttjs/.test(process.env.DEBUG ?? '')) options.log = () => {};
  const password = config.passwordEnv ? process.env[config.passwordEnv] : config.password;
  if (config.passwordEnv && password === undefined) throw new Error(`mqtt: environment variable ${config.passwordEnv} (passwordEnv) is not set`);
  if (password !== undefined) options.password = password;
  const tls = config.tls;
  if (tls) {
    const read = (file: string, setting: string) => {
      try {
        return fs.readFileSync(file);
      } catch (err) {
        throw new Error(`mqtt: cannot read ${setting} ${file}: ${(err as Error).message}`);
      }
    };
    let caFile = tls.caFile;
    let certFile = tls.certFile;
    let keyFile = tls.keyFile;
    if (tls.useEngineCertificates && defaults.certsDir) {
      caFile ??= path.join(defaults.certsDir, 'ca.crt');
      if (!certFile && fs.existsSync(path.join(defaults.certsDir, 'client.crt'))) {
        certFile = path.join(defaults.certsDir, 'client.crt');
        keyFile = path.join(defaults.certsDir, 'client.key');
      }
    }
    if (caFile) options.ca = read(caFile, 'tls.caFile');
    if (certFile) options.cert = read(certFile, 'tls.certFile');
    if (keyFile) options.key = read(keyFile, 'tls.keyFile');
    options.rejectUnauthorized = tls.rejectUnauthorized;
    if (tls.servername) options.servername = tls.servername;
  }
  return options;
}

/** The URL without credentials, for logs and the dashboard. */
export function displayUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}
