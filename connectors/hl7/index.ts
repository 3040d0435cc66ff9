// The HL7 v2 area: codec, typed views, MLLP connectors, CLI. Channel code imports from here.
import type { ChannelMessage } from '../../engine/channel/definition';
import { Hl7Message, type ParseOptions } from './codec/message';

export { Hl7Message, encodeText, type ParseOptions } from './codec/message';
export { Hl7Segment } from './codec/segment';
export { Hl7Group } from './codec/structure';
export { createMessage, newControlId, type MessageHeader } from './codec/builder';
export { buildAck, readAck, acknowledgementFor, type AckCode } from './codec/ack';
export { Hl7Error, Hl7ErrorCodes, type Hl7ErrorLocation } from './codec/errors';
export { parseHl7DateTime, toHl7DateTime, formatHl7DateTime } from './codec/datetime';
export { splitBatch } from './codec/batch';
export { charsetByName, supportedCharsetNames } from './codec/charset';
export * from './views';
export { mllpConnector, hl7BatchFileConnector } from './connectors';
export { MllpClient } from './mllp/client';
export { MllpDecoder, encodeFrame } from './mllp/framer';
export { hl7Cli } from './cli';

/**
 * The HL7 message of a channel message: the one the MLLP source parsed, or parsed from the stored raw
 * bytes (after a reprocess, or from any other source).
 */
export function hl7Of(message: Pick<ChannelMessage, 'parsed' | 'raw'>, options?: ParseOptions): Hl7Message {
  return message.parsed instanceof Hl7Message ? message.parsed : Hl7Message.parse(message.raw, options);
}
