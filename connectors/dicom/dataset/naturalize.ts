// Small datasets (C-FIND identifiers, MPPS, commitment requests) to and from the naturalized form,
// through our own codec (dataset/codec.ts): dcmjs is far too slow for the worklist's query rate.
import { decodeDataset, encodeDataset, type Naturalized } from './codec';

export function decodeNaturalized(bytes: Buffer, transferSyntax: string): Naturalized {
  return decodeDataset(bytes, transferSyntax);
}

export function encodeNaturalized(elements: Naturalized, transferSyntax: string): Buffer {
  return encodeDataset(elements, transferSyntax);
}

/** First item of a sequence value, or undefined. */
export function firstItem(value: unknown): Naturalized | undefined {
  return Array.isArray(value) && value.length > 0 && value[0] && typeof value[0] === 'object' ? (value[0] as Naturalized) : undefined;
}

export function items(value: unknown): Naturalized[] {
  return Array.isArray(value) ? value.filter((v): v is Naturalized => !!v && typeof v === 'object' && !Array.isArray(v)) : [];
}
