// HL7 batch files (v2.5 §2.10): [FHS] { [BHS] { MSH … } [BTS] } [FTS]. Split at the byte level so
// every message keeps its exact bytes whatever the charset (all supported charsets keep ASCII, CR and
// LF as themselves). The trailer counts are checked and any mismatch is reported, not fatal: the
// messages that are there are still worth keeping.

export interface BatchMessage {
  bytes: Buffer;
  /** Byte offset of its MSH in the file. */
  offset: number;
  /** 1-based batch (BHS) it belongs to; 0 when the file has no BHS. */
  batch: number;
}

export interface BatchSplit {
  messages: BatchMessage[];
  /** FHS and BHS lines as written (latin1 view), for the record. */
  fileHeader?: string;
  batchHeaders: string[];
  /** Count mismatches and segments outside any message, each naming the place. */
  problems: string[];
}

function fieldOf(line: string, n: number): string {
  const fs = line.charAt(3) || '|';
  return line.split(fs)[n] ?? '';
}

export function splitBatch(bytes: Buffer): BatchSplit {
  const out: BatchSplit = { messages: [], batchHeaders: [], problems: [] };
  let messageStart = -1;
  let batch = 0;
  let inBatch = 0;
  let batches = 0;
  let pos = 0;
  const n = bytes.length;
  const close = (end: number) => {
    if (messageStart >= 0) {
      out.messages.push({ bytes: bytes.subarray(messageStart, end), offset: messageStart, batch });
      inBatch++;
      messageStart = -1;
    }
  };
  while (pos < n) {
    let end = pos;
    while (end < n && bytes[end] !== 0x0d && bytes[end] !== 0x0a) end++;
    let next = end;
    while (next < n && (bytes[next] === 0x0d || bytes[next] === 0x0a)) next++;
    const name = bytes.toString('latin1', pos, Math.min(pos + 3, end));
    const blank = bytes.subarray(pos, end).every((b) => b === 0x20 || b === 0x09);
    if (name === 'FHS' || name === 'BHS' || name === 'BTS' || name === 'FTS' || name === 'MSH') {
      close(pos);
      const line = bytes.toString('latin1', pos, end);
      if (name === 'FHS') out.fileHeader = line;
      else if (name === 'BHS') {
        batch++;
        batches++;
        inBatch = 0;
        out.batchHeaders.push(line);
      } else if (name === 'BTS') {
        const declared = fieldOf(line, 1).trim();
        if (declared !== '' && Number(declared) !== inBatch) {
          out.problems.push(`BTS-1 at byte ${pos} says ${declared} messages, batch ${batch || 1} holds ${inBatch}`);
        }
      } else if (name === 'FTS') {
        const declared = fieldOf(line, 1).trim();
        if (declared !== '' && Number(declared) !== Math.max(batches, 1)) {
          out.problems.push(`FTS-1 at byte ${pos} says ${declared} batches, the file holds ${Math.max(batches, 1)}`);
        }
      } else messageStart = pos;
    } else if (messageStart < 0 && !blank) {
      out.problems.push(`segment "${name}" at byte ${pos} is outside any message (no MSH before it)`);
    }
    pos = next;
  }
  close(n);
  return out;
}
