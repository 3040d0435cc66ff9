// Small datasets (C-FIND identifiers, MPPS, commitment requests) to and from dcmjs's naturalized
// form. dcmjs's reader is lenient (it skips what it cannot read), so a dataset is first walked by
// dicom-parser, which fails on any bad length with the byte offset.
import { Dataset } from '../dimse/library';
import { DatasetParseError, parseDataset } from './metadata';
import type { Naturalized } from '../worklist/matching';

export function decodeNaturalized(bytes: Buffer, transferSyntax: string): Naturalized {
  parseDataset(bytes, transferSyntax);
  try {
    const elements = new Dataset(bytes, transferSyntax, { ignoreErrors: false }).getElements() as Naturalized;
    return elements;
  } catch (err) {
    throw new DatasetParseError(`malformed dataset: ${(err as Error).message}`);
  }
}

export function encodeNaturalized(elements: Naturalized, transferSyntax: string): Buffer {
  return new Dataset(elements, transferSyntax).getDenaturalizedDataset();
}

/** First item of a sequence value, or undefined. */
export function firstItem(value: unknown): Naturalized | undefined {
  return Array.isArray(value) && value.length > 0 && value[0] && typeof value[0] === 'object' ? (value[0] as Naturalized) : undefined;
}

export function items(value: unknown): Naturalized[] {
  return Array.isArray(value) ? value.filter((v): v is Naturalized => !!v && typeof v === 'object' && !Array.isArray(v)) : [];
}
