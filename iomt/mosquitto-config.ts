// The Mosquitto settings hisbridge needs, as a config file. Mosquitto's defaults lose vitals:
// `max_queued_messages 1000` silently drops QoS 1 messages queued for a slow or offline subscriber
// (library-evaluation.md §5), and without persistence a broker restart forgets queued messages and
// persistent sessions. Printed by `hisbridge iomt mosquitto-conf`; the tests run Mosquitto with it.

export interface MosquittoConfigOptions {
  port: number;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Folder for mosquitto.db (must be writable by the mosquitto user). */
  persistenceDir: string;
  /** Seconds between persistence saves (besides the save at shutdown). */
  autosaveSeconds?: number;
  /** Per-client QoS 1 messages queued while it is offline or slow; 0 = no limit (default). */
  maxQueuedMessages?: number;
  /** Unacknowledged QoS 1 messages in flight to one MQTT 3.1.1 client (MQTT 5 clients say their own). */
  maxInflightMessages?: number;
  /** Largest accepted PUBLISH in bytes (0 = Mosquitto's own limit); oversized vitals are refused at the broker. */
  maxPacketSize?: number;
  allowAnonymous?: boolean;
  passwordFile?: string;
  tls?: { port: number; cafile: string; certfile: string; keyfile: string; requireCertificate?: boolean };
  logDest?: string;
}

export function mosquittoConfig(o: MosquittoConfigOptions): string {
  const lines = [
    '# hisbridge IoMT broker settings (generated)',
    `listener ${o.port} ${o.host ?? '127.0.0.1'}`,
    `allow_anonymous ${o.allowAnonymous === false || o.passwordFile ? 'false' : 'true'}`,
    ...(o.passwordFile ? [`password_file ${o.passwordFile}`] : []),
    '',
    '# Keep sessions and queued QoS 1 messages across broker restarts.',
    'persistence true',
    `persistence_location ${o.persistenceDir.endsWith('/') ? o.persistenceDir : o.persistenceDir + '/'}`,
    `autosave_interval ${o.autosaveSeconds ?? 60}`,
    '',
    '# Never drop QoS 1 messages for a subscriber that is slow or restarting (default 1000 drops silently).',
    `max_queued_messages ${o.maxQueuedMessages ?? 0}`,
    'max_queued_bytes 0',
    `max_inflight_messages ${o.maxInflightMessages ?? 1000}`,
    ...(o.maxPacketSize ? [`max_packet_size ${o.maxPacketSize}`] : []),
    '',
    `log_dest ${o.logDest ?? 'stderr'}`,
    'log_type error',
    'log_type warning',
    'log_type notice',
    'connection_messages false',
  ];
  if (o.tls) {
    lines.push(
      '',
      '# TLS listener (devices and the engine authenticate with certificates or username/password).',
      `listener ${o.tls.port} ${o.host ?? '127.0.0.1'}`,
      `cafile ${o.tls.cafile}`,
      `certfile ${o.tls.certfile}`,
      `keyfile ${o.tls.keyfile}`,
      `require_certificate ${o.tls.requireCertificate ? 'true' : 'false'}`,
      ...(o.tls.requireCertificate ? ['use_identity_as_username true'] : []),
    );
  }
  return lines.join('\n') + '\n';
}
