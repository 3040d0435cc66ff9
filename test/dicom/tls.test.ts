// DICOM over TLS (PS3.15 B.1): the `dicom` listener with the engine's generated certificates and a
// required client certificate, tried with DCMTK (echoscu, storescu, findscu +tls) and with our own
// SCU (the CLI verbs); clients without a certificate, with one from another CA, or speaking plain
// TCP are refused at the handshake. The `dicom-forward` destination sends over mutual TLS to Orthanc
// (checked through its REST API) and to DCMTK storescp +tls.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { requirePeers } from '../helpers/peers';
import { createTestCa, ensureEngineCertificates, issueCertificate, type EngineCertificates } from '../../engine/certs/certificates';
import { dicomCli } from '../../connectors/dicom/cli';
import { modalitySimVerb } from '../../devices/simulators/modality';
import { echo } from '../../connectors/dicom/scu';
import { DicomForwardDestination } from '../../connectors/dicom/forward';
import { dicomForwardSchema } from '../../connectors/dicom/config';
import { DICOM_INSTANCE_CONTENT_TYPE, type InstanceMessage } from '../../connectors/dicom/node';
import { readPart10Layout } from '../../connectors/dicom/dataset/part10';
import { personName } from '../../connectors/dicom/worklist/items';
import { newUid } from '../../connectors/dicom/dataset/uid';
import { dcmtk, nextEvent, openDemoHis, startNode, studyForOrder, tempDir, waitUntil, worklistQueryFile, worklistWindowOrders, writeStudy, OUR_AE, type DemoHis, type TestNode } from './helpers';
import { freePort, orthancBinary, startOrthanc } from './orthanc';

/** Runs a CLI verb in-process with stdout/stderr captured (our SCP runs in this process too). */
function cli(verb: keyof typeof dicomCli.commands, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return capture(() => dicomCli.commands[verb].run(args));
}

async function capture(run: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const originalOut = process.stdout.write.bind(process.stdout);
  const originalErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await run();
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = originalOut;
    process.stderr.write = originalErr;
  }
}

describe('dicom: DICOM over TLS', function () {
  this.timeout(60_000);
  let demo: DemoHis;
  let t: TestNode;
  let work: string;
  let certsDir: string;
  let engineCerts: EngineCertificates;
  const files = { clientCert: '', clientKey: '', strangerCert: '', strangerKey: '' };

  before(async function () {
    requirePeers(this, 'echoscu', 'storescu', 'findscu', 'storescp', 'dump2dcm');
    work = tempDir('hisbridge-dicom-tls-');
    certsDir = path.join(work, 'certs');
    // The certificates an engine generates at first start: the listener uses them by default.
    engineCerts = ensureEngineCertificates(certsDir);
    const modality = issueCertificate(engineCerts.ca, { commonName: 'CT_SIEMENS', usage: 'client' });
    const stranger = issueCertificate(createTestCa('not the hospital CA'), { commonName: 'CT_SIEMENS', usage: 'client' });
    const write = (name: string, pem: string) => {
      const file = path.join(work, name);
      fs.writeFileSync(file, pem);
      return file;
    };
    files.clientCert = write('modality.crt', modality.certPem);
    files.clientKey = write('modality.key', modality.keyPem);
    files.strangerCert = write('stranger.crt', stranger.certPem);
    files.strangerKey = write('stranger.key', stranger.keyPem);
    demo = await openDemoHis(200);
    t = await startNode(
      {
        tls: { enabled: true, clientCertificates: 'required' },
        // CT_SIEMENS may only call with its own certificate; the other AEs with any certificate of our CA.
        remotes: [
          ...['CT_SIEMENS', 'DR_ROOM1', 'US_ROOM2', 'MR_15T', 'MR_PHILIPS'].map((aeTitle) => ({ aeTitle, tlsSubjects: [aeTitle] })),
          { aeTitle: 'STORESCU' },
          { aeTitle: 'FINDSCU' },
          { aeTitle: 'CLI_SCU' },
        ],
        worklist: { cacheSeconds: 0 },
      },
      () => demo.his,
      { certsDir },
    );
  });
  after(async () => {
    await t?.stop();
    await demo?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const dcmtkTls = () => ['+tls', files.clientKey, files.clientCert, '+cf', engineCerts.paths.caCert];
  const ourTls = () => ['--tls', '--ca', engineCerts.paths.caCert, '--cert', files.clientCert, '--key', files.clientKey];
  const peerArgs = (aet = 'CLI_SCU') => ['--host', '127.0.0.1', '--port', String(t.port), '--aet', aet, '--called-aet', OUR_AE];

  it('DCMTK echoscu and storescu with a client certificate: echo answered, study stored and indexed', async () => {
    const e = await dcmtk('echoscu', [...dcmtkTls(), '-aet', 'CT_SIEMENS', '-aec', OUR_AE, '127.0.0.1', String(t.port)]);
    assert.equal(e.code, 0, e.stderr);
    const study = { patientId: 'BN_TLS1', patientName: 'Trần^Thị Ánh', studyInstanceUid: newUid(), accessionNumber: 'TLS0001', modality: 'CT', studyDate: '20261122' };
    const images = writeStudy(path.join(work, 'dcmtk-study'), study, 3);
    const s = await dcmtk('storescu', [...dcmtkTls(), '-aet', 'STORESCU', '-aec', OUR_AE, '127.0.0.1', String(t.port), ...images.map((i) => i.file)]);
    assert.equal(s.code, 0, s.stderr);
    for (const image of images) {
      const row = t.node.index.instance(image.sopInstanceUid);
      assert.ok(row, `indexed ${image.sopInstanceUid}`);
      const stored = readPart10Layout(fs.readFileSync(t.node.store.absolute(row.path)));
      assert.equal(stored.meta.sourceAeTitle, 'STORESCU');
      assert.equal(stored.meta.sopInstanceUid, image.sopInstanceUid);
    }
    assert.equal(t.node.index.study(study.studyInstanceUid)?.patient_name, 'Trần^Thị Ánh');
  });

  it('DCMTK findscu -W over TLS gets the worklist with Vietnamese names intact', async () => {
    const orders = await worklistWindowOrders(demo.his);
    const order = orders.find((o) => o.accessionNumber)!;
    const patient = await demo.his.patientById(order.patientId);
    const query = await worklistQueryFile(
      work,
      'tls-query',
      `(0008,0005) CS [ISO_IR 192]
(0008,0050) SH [${order.accessionNumber}]
(0010,0010) PN []
(0010,0020) LO []
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS []
(fffe,e00d) -
(fffe,e0dd) -
`,
    );
    const out = tempDir();
    try {
      const r = await dcmtk('findscu', [...dcmtkTls(), '-W', '-aet', 'FINDSCU', '-aec', OUR_AE, '-X', '-od', out, '127.0.0.1', String(t.port), query]);
      assert.equal(r.code, 0, r.stderr);
      const answers = fs.readdirSync(out);
      assert.equal(answers.length, 1, `one answer for accession ${order.accessionNumber}`);
      const dump = await dcmtk('dcmdump', ['+U8', path.join(out, answers[0])]);
      assert.ok(dump.stdout.includes(`[${personName(patient?.name)}]`), `name ${personName(patient?.name)} intact:\n${dump.stdout}`);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('refuses DCMTK clients with no certificate (anonymous TLS) or one from another CA, at the handshake', async () => {
    const echoesBefore = t.node.counters.echoes;
    const anonymous = nextEvent(t.node, 'tls-refused');
    const a = await dcmtk('echoscu', ['+tla', '+cf', engineCerts.paths.caCert, '-aet', 'CT_SIEMENS', '-aec', OUR_AE, '127.0.0.1', String(t.port)]);
    assert.notEqual(a.code, 0, 'anonymous TLS client accepted');
    assert.match((await anonymous).reason, /peer did not return a certificate/);
    const strange = nextEvent(t.node, 'tls-refused');
    const s = await dcmtk('echoscu', ['+tls', files.strangerKey, files.strangerCert, '+cf', engineCerts.paths.caCert, '-aet', 'CT_SIEMENS', '-aec', OUR_AE, '127.0.0.1', String(t.port)]);
    assert.notEqual(s.code, 0, 'a certificate from another CA accepted');
    assert.match((await strange).reason, /client certificate CN=CT_SIEMENS not accepted: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    assert.equal(t.node.counters.echoes, echoesBefore, 'no refused client reached the DICOM layer');
  });

  it('an AE bound to certificate subjects is rejected when it calls with another certificate', async () => {
    // The modality certificate (CN=CT_SIEMENS) is valid, but MR_PHILIPS may only use its own.
    const rejected = nextEvent(t.node, 'rejected');
    const r = await dcmtk('echoscu', [...dcmtkTls(), '-aet', 'MR_PHILIPS', '-aec', OUR_AE, '127.0.0.1', String(t.port)]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Calling AE Title Not Recognized/i);
    assert.match((await rejected).why, /calling AE title "MR_PHILIPS" came with certificate CN=CT_SIEMENS \(allowed: MR_PHILIPS\)/);
    const ok = await dcmtk('echoscu', [...dcmtkTls(), '-aet', 'CT_SIEMENS', '-aec', OUR_AE, '127.0.0.1', String(t.port)]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('our SCU over mutual TLS: hisbridge dicom echo, find-worklist and store with --tls', async () => {
    const e = await cli('echo', [...peerArgs(), ...ourTls()]);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /C-ECHO HISBRIDGE@127\.0\.0\.1:\d+ \(TLS\): success/);

    const [order] = await worklistWindowOrders(demo.his);
    const patient = await demo.his.patientById(order.patientId);
    const f = await cli('find-worklist', [...peerArgs(), ...ourTls(), '--accession', order.accessionNumber, '--json']);
    assert.equal(f.code, 0, f.stderr);
    const items = JSON.parse(f.stdout) as Array<{ PatientName: Array<{ Alphabetic: string }>; AccessionNumber: string }>;
    assert.equal(items.length, 1);
    assert.equal(items[0].AccessionNumber, order.accessionNumber);
    assert.equal(items[0].PatientName[0].Alphabetic, personName(patient?.name));

    const study = studyForOrder(order, patient);
    const images = writeStudy(path.join(work, 'cli-study'), study, 2);
    const s = await cli('store', [...peerArgs(), ...ourTls(), ...images.map((i) => i.file)]);
    assert.equal(s.code, 0, s.stderr + s.stdout);
    for (const image of images) {
      const row = t.node.index.instance(image.sopInstanceUid)!;
      // Our SCU sends the dataset as it is in the file: stored byte for byte.
      const stored = fs.readFileSync(t.node.store.absolute(row.path));
      const original = image.bytes;
      assert.ok(stored.subarray(readPart10Layout(stored).datasetOffset).equals(original.subarray(readPart10Layout(original).datasetOffset)), 'dataset byte for byte');
    }
  });

  it('hisbridge sim modality over TLS: worklist, MPPS and images with the station certificate', async () => {
    let station = '';
    for (const s of ['CT_SIEMENS', 'DR_ROOM1', 'US_ROOM2', 'MR_15T']) if ((await demo.his.scheduledImagingOrders({ stationAeTitle: s })).length > 0) station = s;
    assert.ok(station, 'some station has work today');
    const stationCert = issueCertificate(engineCerts.ca, { commonName: station, usage: 'client' });
    fs.writeFileSync(path.join(work, 'station.crt'), stationCert.certPem);
    fs.writeFileSync(path.join(work, 'station.key'), stationCert.keyPem);
    const result = await capture(() =>
      modalitySimVerb.run(['--host', '127.0.0.1', '--port', String(t.port), '--called-aet', OUR_AE, '--aet', station, '--images', '2', '--small', '--tls', '--ca', engineCerts.paths.caCert, '--cert', path.join(work, 'station.crt'), '--key', path.join(work, 'station.key')]),
    );
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.orders[0].stored, 2);
    assert.equal(report.orders[0].mppsSetStatus, 0);
  });

  it('our SCU is refused without a client certificate, and fails clearly when it does not trust the server', async () => {
    const refused = nextEvent(t.node, 'tls-refused');
    const noCert = await cli('echo', [...peerArgs(), '--tls', '--ca', engineCerts.paths.caCert]);
    assert.equal(noCert.code, 1);
    assert.match(noCert.stderr, /C-ECHO failed: .*(certificate required|closed|reset|hang up)/i);
    assert.match((await refused).reason, /peer did not return a certificate/);

    const untrusted = await cli('echo', [...peerArgs(), '--tls', '--cert', files.clientCert, '--key', files.clientKey]);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /could not connect to TLS 127\.0\.0\.1:\d+: (self-signed certificate in certificate chain|unable to get local issuer certificate)/);

    const flags = await cli('echo', [...peerArgs(), '--cert', files.clientCert]);
    assert.equal(flags.code, 1);
    assert.match(flags.stderr, /--cert needs --tls/);
  });

  it('a plain TCP client on the TLS port gets nowhere, and TLS associations go on', async () => {
    await assert.rejects(echo({ host: '127.0.0.1', port: t.port, callingAeTitle: 'CLI_SCU', calledAeTitle: OUR_AE, connectTimeoutMs: 5000 }), /connection closed before the association was accepted/);
    const ms = await echo({
      host: '127.0.0.1',
      port: t.port,
      callingAeTitle: 'CLI_SCU',
      calledAeTitle: OUR_AE,
      tls: { ca: engineCerts.ca.certPem, cert: fs.readFileSync(files.clientCert, 'utf8'), key: fs.readFileSync(files.clientKey, 'utf8'), servername: 'localhost' },
    });
    assert.ok(ms > 0);
  });

  it("with clientCertificates 'optional', an unverified certificate does not satisfy an AE's tlsSubjects", async () => {
    const optional = await startNode({ tls: { enabled: true, clientCertificates: 'optional' }, remotes: [{ aeTitle: 'CT_SIEMENS', tlsSubjects: ['CT_SIEMENS'] }, { aeTitle: 'CLI_SCU' }] }, () => undefined, { certsDir });
    try {
      const args = (aet: string) => ['-aet', aet, '-aec', OUR_AE, '127.0.0.1', String(optional.port)];
      // Same CN, another CA: the handshake passes (optional), the AE binding does not.
      const rejected = nextEvent(optional.node, 'rejected');
      const stranger = await dcmtk('echoscu', ['+tls', files.strangerKey, files.strangerCert, '+cf', engineCerts.paths.caCert, ...args('CT_SIEMENS')]);
      assert.notEqual(stranger.code, 0);
      assert.match((await rejected).why, /"CT_SIEMENS" came without a client certificate/);
      const genuine = await dcmtk('echoscu', [...dcmtkTls(), ...args('CT_SIEMENS')]);
      assert.equal(genuine.code, 0, genuine.stderr);
      const anonymous = await dcmtk('echoscu', ['+tla', '+cf', engineCerts.paths.caCert, ...args('CLI_SCU')]);
      assert.equal(anonymous.code, 0, `an AE without tlsSubjects needs no certificate in optional mode: ${anonymous.stderr}`);
    } finally {
      await optional.stop();
    }
  });

  it('a listener whose certificate file is missing fails to start with the file named', async () => {
    await assert.rejects(startNode({ tls: { enabled: true, certFile: 'no-such.crt' } }, () => undefined, { certsDir }), /TLS certificate file .*no-such\.crt cannot be read/);
  });

  it('dicom-forward sends to Orthanc over mutual TLS; Orthanc has the instance (REST API), and refuses a forwarder without a certificate', async function () {
    requirePeers(this, orthancBinary());
    const orthanc = await startOrthanc({ tls: { certificate: engineCerts.paths.serverCert, privateKey: engineCerts.paths.serverKey, trustedCertificates: engineCerts.paths.caCert } });
    const forwarderCert = issueCertificate(engineCerts.ca, { commonName: 'HISBRIDGE', usage: 'client' });
    fs.writeFileSync(path.join(certsDir, 'orthanc-client.crt'), forwarderCert.certPem);
    fs.writeFileSync(path.join(certsDir, 'orthanc-client.key'), forwarderCert.keyPem);
    const forward = (tlsConfig: Record<string, unknown>) =>
      new DicomForwardDestination(dicomForwardSchema.parse({ host: '127.0.0.1', port: orthanc.dicomPort, calledAeTitle: orthanc.aeTitle, callingAeTitle: OUR_AE, connectTimeoutMs: 5000, tls: { enabled: true, caFile: 'ca.crt', servername: 'localhost', ...tlsConfig } }));
    const services = { log: undefined as never, dataDir: work, certsDir, lookup: () => undefined };
    const delivery = { idempotencyKey: 'k', attempt: 1, destination: 'pacs', signal: new AbortController().signal };
    const message = (file: string) => ({ content: Buffer.from(JSON.stringify({ type: 'dicom-instance', file })), contentType: DICOM_INSTANCE_CONTENT_TYPE, messageId: 1, channelId: 'imaging', correlation: {} });
    try {
      const [image] = writeStudy(path.join(work, 'orthanc-tls'), { patientId: 'BN_OTLS', patientName: 'Phạm^Thị Hương', studyInstanceUid: newUid(), modality: 'CT' }, 1);
      const withCert = forward({ certFile: 'orthanc-client.crt', keyFile: 'orthanc-client.key' });
      await withCert.start(services);
      try {
        const result = await withCert.send(message(image.file), delivery);
        assert.match(result.response ?? '', /to ORTHANC: 0x0000/);
      } finally {
        await withCert.stop();
      }
      const found = await orthanc.post<string[]>('/tools/find', { Level: 'Instance', Query: { SOPInstanceUID: image.sopInstanceUid } });
      assert.equal(found.length, 1, 'Orthanc stored the instance sent over TLS');
      const tags = await orthanc.get<Record<string, string>>(`/instances/${found[0]}/simplified-tags`);
      assert.equal(tags.PatientName, 'Phạm^Thị Hương');

      const withoutCert = forward({});
      await withoutCert.start(services);
      try {
        const [other] = writeStudy(path.join(work, 'orthanc-tls-nocert'), { patientId: 'BN_OTLS2', patientName: 'Phạm^Văn Nam', studyInstanceUid: newUid(), modality: 'CT' }, 1);
        await assert.rejects(withoutCert.send(message(other.file), delivery), (err: Error) => err.name === 'Error' && /closed|certificate|reset|handshake/i.test(err.message));
      } finally {
        await withoutCert.stop();
      }
    } finally {
      await orthanc.stop();
    }
  });

  describe('dicom-forward over mutual TLS to DCMTK storescp +tls', () => {
    let storescp: ChildProcess | undefined;
    let port: number;
    let received: string;

    before(async () => {
      received = path.join(work, 'pacs');
      fs.mkdirSync(received);
      port = await freePort();
      // storescp requires the peer's certificate by default (-rc).
      storescp = spawn('storescp', ['+tls', engineCerts.paths.serverKey, engineCerts.paths.serverCert, '+cf', engineCerts.paths.caCert, '-aet', 'TLS_PACS', '-od', received, String(port)], { stdio: 'ignore' });
      await waitUntil(async () => (await dcmtk('echoscu', [...dcmtkTls(), '-aec', 'TLS_PACS', '127.0.0.1', String(port)])).code === 0, 15_000, 'storescp +tls');
      // The forwarder's own certificate, in the certs folder: relative names resolve there.
      const forwarder = issueCertificate(engineCerts.ca, { commonName: 'HISBRIDGE', usage: 'client' });
      fs.writeFileSync(path.join(certsDir, 'pacs-client.crt'), forwarder.certPem);
      fs.writeFileSync(path.join(certsDir, 'pacs-client.key'), forwarder.keyPem);
    });
    after(() => {
      storescp?.kill();
    });

    function instanceMessage(file: string, sopInstanceUid: string) {
      const body: Partial<InstanceMessage> = { type: 'dicom-instance', file, sopInstanceUid };
      return { content: Buffer.from(JSON.stringify(body)), contentType: DICOM_INSTANCE_CONTENT_TYPE, messageId: 1, channelId: 'imaging', correlation: {} };
    }
    const delivery = () => ({ idempotencyKey: 'k', attempt: 1, destination: 'pacs', signal: new AbortController().signal });
    const services = () => ({ log: undefined as never, dataDir: work, certsDir, lookup: () => undefined });

    it('sends an instance with the certificates from the certs folder; the PACS receives it byte for byte', async () => {
      const destination = new DicomForwardDestination(dicomForwardSchema.parse({ host: '127.0.0.1', port, calledAeTitle: 'TLS_PACS', callingAeTitle: OUR_AE, tls: { enabled: true, caFile: 'ca.crt', certFile: 'pacs-client.crt', keyFile: 'pacs-client.key', servername: 'localhost' } }));
      await destination.start(services());
      try {
        const [image] = writeStudy(path.join(work, 'fwd'), { patientId: 'BN_FWD', patientName: 'Lê^Văn Đức', studyInstanceUid: newUid(), modality: 'CT' }, 1);
        const result = await destination.send(instanceMessage(image.file, image.sopInstanceUid), delivery());
        assert.match(result.response ?? '', /C-STORE .* to TLS_PACS: 0x0000/);
        const file = await waitUntil(() => fs.readdirSync(received).find((n) => n.includes(image.sopInstanceUid)) ?? '', 10_000, 'the file at storescp');
        const got = fs.readFileSync(path.join(received, file));
        assert.ok(got.subarray(readPart10Layout(got).datasetOffset).equals(image.bytes.subarray(readPart10Layout(image.bytes).datasetOffset)));
      } finally {
        await destination.stop();
      }
    });

    it('without a client certificate the PACS refuses it: a retryable error naming the TLS failure', async () => {
      const destination = new DicomForwardDestination(dicomForwardSchema.parse({ host: '127.0.0.1', port, calledAeTitle: 'TLS_PACS', callingAeTitle: OUR_AE, connectTimeoutMs: 5000, tls: { enabled: true, caFile: 'ca.crt', servername: 'localhost' } }));
      await destination.start(services());
      try {
        const [image] = writeStudy(path.join(work, 'fwd-nocert'), { patientId: 'BN_FWD2', patientName: 'Lê^Văn Đức', studyInstanceUid: newUid(), modality: 'CT' }, 1);
        await assert.rejects(destination.send(instanceMessage(image.file, image.sopInstanceUid), delivery()), (err: Error) => {
          assert.equal(err.name, 'Error', 'not a PermanentDeliveryError: the queue retries');
          assert.match(err.message, /closed|certificate|handshake|reset/i);
          return true;
        });
      } finally {
        await destination.stop();
      }
    });
  });
});
