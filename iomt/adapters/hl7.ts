// Adapter for HL7 v2 ORU^R01 from monitor gateways: IHE PCD-01 (Philips IntelliVue / PIC iX: MDC codes
// and units, device EUI-64 in OBR-3) and Mindray eGateway (v2.3.1, proprietary numeric codes, no units).
// Parsed with the project's HL7 codec. Only numeric (NM) observation rows are measurements; device
// hierarchy rows (OBX-11 X) and text rows (rhythm, alarms) are not.
import { Hl7Message } from '../../connectors/hl7/codec/message';
import { splitBatch } from '../../connectors/hl7/codec/batch';
import { DEVICE_ID_PATTERN } from '../contract';
import { VitalsInputError, type DeviceMeasurement, type DeviceMessage } from '../types';
import { LOCAL, MDC, MDC_UNITS, MINDRAY_CODES, normaliseSystem } from '../vitals';
import { registerHl7Reader } from './index';

/** A device id from what the message carries, shaped to the device-id pattern. */
function deviceIdOf(msg: Hl7Message): string {
  const obr3 = msg.get('OBR-3.1');
  if (obr3) {
    const scheme = msg.get('OBR-3.4').toUpperCase().replace(/[^A-Z0-9]/g, '');
    return clean(scheme === 'EUI64' ? `EUI64:${obr3.toUpperCase()}` : obr3);
  }
  // Gateways without a device id (Mindray): the sending application and the bed it reports.
  const pv13 = msg.get('PV1-3.3') || msg.get('PV1-3.1');
  const location = msg.getRaw('PV1-3').split(/[\^&]/).filter(Boolean).slice(0, 2).join('-');
  const sender = msg.get('MSH-3').trim() || 'HL7';
  if (pv13 || location) return clean(`${sender}:${location || pv13}`);
  throw new VitalsInputError('HL7 ORU: no device id (OBR-3 is empty and PV1-3 names no bed)', 'schema');
}

function clean(id: string): string {
  const out = id.trim().replace(/[^A-Za-z0-9._:-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  if (!DEVICE_ID_PATTERN.test(out)) throw new VitalsInputError(`HL7 ORU: cannot make a device id from "${id}"`, 'schema');
  return out;
}

function readOne(bytes: Buffer): DeviceMessage {
  let msg: Hl7Message;
  try {
    // From bytes, so MSH-18 (e.g. 8859/1 from Philips gateways) decides how text is read.
    msg = Hl7Message.parse(bytes);
  } catch (err) {
    throw new VitalsInputError(`HL7: ${(err as Error).message}`, 'syntax');
  }
  const type = `${msg.get('MSH-9.1')}^${msg.get('MSH-9.2')}`;
  if (type !== 'ORU^R01') throw new VitalsInputError(`HL7 MSH-9 is ${type || '(empty)'}: a monitor observation is ORU^R01`, 'schema');
  const sender = msg.get('MSH-3').trim();
  const mindray = /mindray/i.test(sender);
  const measurements: DeviceMeasurement[] = [];
  msg.segmentsNamed('OBX').forEach((obx, i) => {
    const valueType = obx.get(2).trim();
    const status = obx.get(11).trim();
    if (status === 'X' || valueType !== 'NM') return; // device hierarchy, rhythm text, alarms
    const path = `OBX[${i + 1}]`;
    const code = obx.get(3, 1).trim();
    const label = obx.get(3, 2).trim() || undefined;
    const declaredSystem = obx.get(3, 3).trim();
    const value = obx.get(5).trim();
    const unitCode = obx.get(6, 1).trim();
    const unitSystem = obx.get(6, 3).trim();
    let system = declaredSystem ? normaliseSystem(declaredSystem) : undefined;
    let unit: string | undefined;
    let measurementCode = code;
    if (system === MDC || (unitSystem && normaliseSystem(unitSystem) === MDC)) {
      unit = MDC_UNITS[unitCode] ?? (unitCode ? `MDC:${unitCode}` : undefined);
    } else if (unitCode) {
      unit = unitCode;
    }
    if (!system && mindray && MINDRAY_CODES[code]) {
      // Mindray sends its own numbers and no units; the catalogue's canonical unit is implied.
      measurementCode = MINDRAY_CODES[code];
      system = LOCAL;
      unit ??= impliedUnit(measurementCode);
    }
    measurements.push({ path, code: measurementCode, system, label, value, unit, time: obx.get(14).trim() || undefined });
  });
  if (measurements.length === 0) throw new VitalsInputError('HL7 ORU: no numeric (NM) observation in any OBX', 'schema');
  const pid = msg.get('PID-3.1').trim();
  return {
    format: 'hl7-pcd01',
    deviceId: deviceIdOf(msg),
    messageId: msg.controlId.trim() || undefined,
    time: msg.get('OBR-7').trim() || msg.get('MSH-7').trim() || undefined,
    patientId: pid || undefined,
    measurements,
  };
}

function impliedUnit(sign: string): string | undefined {
  switch (sign) {
    case 'heart-rate':
    case 'pulse-rate':
    case 'respiratory-rate':
      return '/min';
    case 'spo2':
      return '%';
    case 'temperature':
      return 'Cel';
    case 'systolic-bp':
    case 'diastolic-bp':
    case 'mean-bp':
      return 'mm[Hg]';
    default:
      return undefined;
  }
}

/** One ORU, or a batch (FHS/BHS or several MSH in a row), from bytes (or text, taken as UTF-8). */
export function readHl7Oru(input: Buffer | string): DeviceMessage[] {
  let bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  // Tolerate MLLP framing bytes and blank lines around the message.
  let start = 0;
  while (start < bytes.length && (bytes[start] === 0x0b || bytes[start] === 0x20 || bytes[start] === 0x0d || bytes[start] === 0x0a)) start++;
  let end = bytes.length;
  while (end > start && (bytes[end - 1] === 0x1c || bytes[end - 1] === 0x0d || bytes[end - 1] === 0x0a || bytes[end - 1] === 0x20)) end--;
  bytes = bytes.subarray(start, end);
  const head = bytes.subarray(0, 3).toString('latin1');
  const headers = (bytes.toString('latin1').match(/(^|[\r\n])MSH/g) ?? []).length;
  if (head === 'FHS' || head === 'BHS' || headers > 1) return splitBatch(bytes).messages.map((m) => readOne(m.bytes));
  return [readOne(bytes)];
}

registerHl7Reader(readHl7Oru);
