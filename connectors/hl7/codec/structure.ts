// Segment groups (ORU_R01 → PATIENT_RESULT → ORDER_OBSERVATION → OBSERVATION …), from message
// structures written in HL7's own abstract syntax: `[ ]` optional, `{ }` repeating, `NAME:` a group.
// Matching is lenient like HAPI's: a required segment that is missing does not stop the walk, and a
// segment that fits nowhere stays in the group where it appeared (listed in `unexpected`).
import type { Hl7Message } from './message';
import { parsePath } from './path';
import type { Hl7Segment } from './segment';

type Node =
  | { kind: 'segment'; name: string; optional: boolean; repeat: boolean }
  | { kind: 'group'; name: string; optional: boolean; repeat: boolean; children: Node[]; first: Set<string> };

/** Message structures (v2.5.1 unless noted), only the segments the engine's messages use are named. */
const definitions: Record<string, string> = {
  ACK: 'MSH [{SFT}] MSA [{ERR}]',
  ADT_A01:
    'MSH [{SFT}] EVN PID [PD1] [{ROL}] [{NK1}] PV1 [PV2] [{ROL}] [{DB1}] [{OBX}] [{AL1}] [{DG1}] [DRG] ' +
    '[{PROCEDURE: PR1 [{ROL}]}] [{GT1}] [{INSURANCE: IN1 [IN2] [{IN3}] [{ROL}]}] [ACC] [UB1] [UB2] [PDA]',
  ADT_A05:
    'MSH [{SFT}] EVN PID [PD1] [{ROL}] [{NK1}] PV1 [PV2] [{ROL}] [{DB1}] [{OBX}] [{AL1}] [{DG1}] [DRG] ' +
    '[{PROCEDURE: PR1 [{ROL}]}] [{GT1}] [{INSURANCE: IN1 [IN2] [{IN3}] [{ROL}]}] [ACC] [UB1] [UB2]',
  // v2.3.1/2.4 style, as PACS/RIS and most Vietnamese HIS still send it.
  ORM_O01:
    'MSH [{NTE}] [PATIENT: PID [PD1] [{NTE}] [PATIENT_VISIT: PV1 [PV2]] [{INSURANCE: IN1 [IN2] [IN3]}] [GT1] [{AL1}]] ' +
    '{ORDER: ORC [ORDER_DETAIL: OBR [{NTE}] [CTD] [{DG1}] [{OBSERVATION: OBX [{NTE}]}]] [{FT1}] [{CTI}] [BLG]}',
  OML_O21:
    'MSH [{SFT}] [{NTE}] [PATIENT: PID [PD1] [{NTE}] [{NK1}] [PATIENT_VISIT: PV1 [PV2]] [{INSURANCE: IN1 [IN2] [IN3]}] [GT1] [{AL1}]] ' +
    '{ORDER: ORC [{TIMING: TQ1 [{TQ2}]}] [OBSERVATION_REQUEST: OBR [TCD] [{NTE}] [CTD] [{DG1}] [{OBSERVATION: OBX [TCD] [{NTE}]}] ' +
    // PRIOR_RESULT is left out: its first segments (PID, ORC, OBR) would swallow the next ORDER.
    '[{SPECIMEN: SPM [{OBX}] [{CONTAINER: SAC [{OBX}]}]}]] [{FT1}] [{CTI}] [BLG]}',
  ORU_R01:
    'MSH [{SFT}] {PATIENT_RESULT: [PATIENT: PID [PD1] [{NTE}] [{NK1}] [VISIT: PV1 [PV2]]] ' +
    '{ORDER_OBSERVATION: [ORC] OBR [{NTE}] [{TIMING_QTY: TQ1 [{TQ2}]}] [CTD] [{OBSERVATION: OBX [{NTE}]}] [{FT1}] [{CTI}] [{SPECIMEN: SPM [{OBX}]}]}} [DSC]',
  OUL_R22:
    'MSH [{SFT}] [NTE] [PATIENT: PID [PD1] [{NTE}]] [VISIT: PV1 [PV2]] ' +
    '{SPECIMEN: SPM [{OBX}] [{CONTAINER: SAC [INV]}] {ORDER: OBR [ORC] [{NTE}] [{TIMING_QTY: TQ1 [{TQ2}]}] [{RESULT: OBX [TCD] [{SID}] [{NTE}]}] [{CTI}]}} [DSC]',
};

const compiled = new Map<string, Node[]>();

function compile(structure: string): Node[] | undefined {
  const cached = compiled.get(structure);
  if (cached) return cached;
  const text = definitions[structure];
  if (!text) return undefined;
  const tokens = text.match(/[[\]{}]|[A-Z0-9_]+:|[A-Z0-9]{3}/g) ?? [];
  let pos = 0;
  const seq = (close?: string): Node[] => {
    const nodes: Node[] = [];
    while (pos < tokens.length && tokens[pos] !== close) nodes.push(item());
    if (close) pos++;
    return nodes;
  };
  const item = (): Node => {
    const t = tokens[pos++];
    if (t === '[' || t === '{') {
      const optional = t === '[';
      let repeat = t === '{';
      if (optional && tokens[pos] === '{') {
        pos++;
        repeat = true;
        const inner = body('}');
        pos++; // the closing ]
        return { ...inner, optional, repeat };
      }
      return { ...body(optional ? ']' : '}'), optional, repeat };
    }
    return { kind: 'segment', name: t, optional: false, repeat: false };
  };
  const body = (close: string): Node => {
    if (tokens[pos].endsWith(':')) {
      const name = tokens[pos++].slice(0, -1);
      const children = seq(close);
      return { kind: 'group', name, optional: false, repeat: false, children, first: firstSet(children) };
    }
    const inner = seq(close);
    if (inner.length !== 1) throw new Error(`structure ${structure}: an unnamed [ ] or { } must hold one segment`);
    return inner[0];
  };
  const nodes = seq();
  compiled.set(structure, nodes);
  return nodes;
}

function firstSet(children: Node[]): Set<string> {
  const set = new Set<string>();
  for (const c of children) {
    if (c.kind === 'segment') set.add(c.name);
    else for (const n of c.first) set.add(n);
    if (!c.optional) break;
  }
  return set;
}

export class Hl7Group {
  readonly children: Array<Hl7Segment | Hl7Group> = [];
  /** Segments that fit nowhere in the structure at the place they appeared. */
  readonly unexpected: Hl7Segment[] = [];

  constructor(readonly name: string) {}

  /** Direct child groups with this name (`ORDER_OBSERVATION`), in order. */
  groups(name: string): Hl7Group[] {
    return this.children.filter((c): c is Hl7Group => c instanceof Hl7Group && c.name === name);
  }

  group(name: string, n = 1): Hl7Group | undefined {
    return this.groups(name)[n - 1];
  }

  /** Direct child segments (optionally with this ID). */
  segments(name?: string): Hl7Segment[] {
    return this.children.filter((c): c is Hl7Segment => !(c instanceof Hl7Group) && (name === undefined || c.name === name));
  }

  segment(name: string, n = 1): Hl7Segment | undefined {
    return this.segments(name)[n - 1];
  }

  /** Every segment in this group and its subgroups, in message order. */
  allSegments(): Hl7Segment[] {
    const out: Hl7Segment[] = [];
    for (const c of this.children) {
      if (c instanceof Hl7Group) out.push(...c.allSegments());
      else out.push(c);
    }
    return out;
  }

  /** Every group with this name at any depth below this one. */
  descendants(name: string): Hl7Group[] {
    const out: Hl7Group[] = [];
    for (const c of this.children) {
      if (c instanceof Hl7Group) {
        if (c.name === name) out.push(c);
        out.push(...c.descendants(name));
      }
    }
    return out;
  }

  /** A value by path relative to this group: `obs.get('OBX-5')`, `order.get('OBR[1]-4.2')`. */
  get(path: string): string {
    const p = parsePath(path);
    const seg = this.allSegments().filter((s) => s.name === p.segment)[(p.segmentIndex ?? 1) - 1];
    if (!seg || p.field === undefined) return '';
    return seg.get(p.field, p.component ?? 1, p.subcomponent ?? 1, p.repetition ?? 1);
  }
}

interface Frame {
  group: Hl7Group;
  nodes: Node[];
  index: number;
  count: number;
}

function place(stack: Frame[], seg: Hl7Segment): boolean {
  for (let depth = stack.length - 1; depth >= 0; depth--) {
    const f = stack[depth];
    for (let i = f.index; i < f.nodes.length; i++) {
      const node = f.nodes[i];
      const again = i === f.index && f.count > 0;
      if (again && !node.repeat) continue;
      const matches = node.kind === 'segment' ? node.name === seg.name : node.first.has(seg.name);
      if (!matches) continue;
      stack.length = depth + 1;
      f.count = again ? f.count + 1 : 1;
      f.index = i;
      if (node.kind === 'segment') {
        f.group.children.push(seg);
        return true;
      }
      const g = new Hl7Group(node.name);
      f.group.children.push(g);
      stack.push({ group: g, nodes: node.children, index: 0, count: 0 });
      return place(stack, seg);
    }
  }
  return false;
}

/** The message's segments arranged in the groups of its structure (MSH-9.3, or the type's default). */
export function groupSegments(message: Hl7Message, structure = message.structureId): Hl7Group {
  const root = new Hl7Group(structure || 'MESSAGE');
  const nodes = compile(structure);
  if (!nodes) {
    root.children.push(...message.segments);
    return root;
  }
  const stack: Frame[] = [{ group: root, nodes, index: 0, count: 0 }];
  for (const seg of message.segments) {
    if (!place(stack, seg)) {
      const top = stack[stack.length - 1].group;
      top.children.push(seg);
      top.unexpected.push(seg);
    }
  }
  return root;
}

/** Structures with group definitions. */
export const knownStructures = Object.keys(definitions);
