// LIS2-A2 record codec: delimiters from each H, escapes, repeats and components, building records,
// and precise errors for malformed messages (standards.md §2.2, §2.3).
import assert from 'node:assert/strict';
import { MessageAssembler } from '../../connectors/astm/codec/assembler';
import { AstmSyntaxError, DEFAULT_DELIMITERS, delimitersFromHeader } from '../../connectors/astm/codec/delimiters';
import { escapeValue, unescapeValue } from '../../connectors/astm/codec/escape';
import { parseMessage } from '../../connectors/astm/codec/message';
import { AstmRecord } from '../../connectors/astm/codec/record';

const d = DEFAULT_DELIMITERS;

describe('astm record codec', () => {
  it('reads delimiters from the H record, including non-default ones (Beckman DxH \\!~)', () => {
    assert.deepEqual(delimitersFromHeader('H|\\^&|||x'), { field: '|', repeat: '\\', component: '^', escape: '&' });
    assert.deepEqual(delimitersFromHeader('H|\\!~|(0:0)||DxH'), { field: '|', repeat: '\\', component: '!', escape: '~' });
    assert.deepEqual(delimitersFromHeader('H#@$%#'), { field: '#', repeat: '@', component: '$', escape: '%' });
    assert.throws(() => delimitersFromHeader('H|\\^^|'), /component delimiter|escape delimiter "\^" repeats the component delimiter/);
    assert.throws(() => delimitersFromHeader('H|\\^&X'), /must end with the field delimiter "\|", found "X"/);
    assert.throws(() => delimitersFromHeader('H|\r^&|'), AstmSyntaxError);
    assert.throws(() => delimitersFromHeader('H|'), /too short/);
  });

  it('decodes escape sequences and keeps unknown ones literally', () => {
    assert.equal(unescapeValue('a&F&b&S&c&R&d&E&e', d), 'a|b^c\\d&e');
    assert.equal(unescapeValue('&H&bold&N& text', d), 'bold text');
    assert.equal(unescapeValue('x&X0D0A&y', d), 'x\r\ny');
    assert.equal(unescapeValue('&Zlocal&', d), '&Zlocal&');
    assert.equal(unescapeValue('R&D dept', d), 'R&D dept');
    assert.equal(unescapeValue('trailing &', d), 'trailing &');
    assert.equal(unescapeValue('PNG&R&20240628&R&x.PNG', d), 'PNG\\20240628\\x.PNG');
    assert.equal(unescapeValue('a~S~b', { ...d, component: '!', escape: '~' }), 'a!b');
  });

  it('escapes every delimiter so a built value comes back unchanged', () => {
    for (const value of ['plain', 'a|b', 'x^y\\z&w', 'line\rbreak', '&F&', 'Nguyen Van An']) {
      const escaped = escapeValue(value, d);
      assert.ok(!/[|^\\\r]/.test(escaped), escaped);
      assert.equal(unescapeValue(escaped, d), value);
    }
  });

  it('gives fields, components and repeats (1-based, field 1 = record type)', () => {
    const r = AstmRecord.parse('O|1|SID1^R1^5||^^^GLU\\^^^CREA&S&X|R', d);
    assert.equal(r.type, 'O');
    assert.equal(r.field(3), 'SID1^R1^5');
    assert.equal(r.value(3), 'SID1');
    assert.equal(r.value(3, 3), '5');
    assert.equal(r.value(5, 4, 2), 'CREA^X');
    assert.deepEqual(r.repeats(5), [['', '', '', 'GLU'], ['', '', '', 'CREA^X']]);
    assert.equal(r.value(40), '');
    assert.equal(r.value(3, 9), '');
    assert.equal(r.value(6, 1, 2), '');
    const h = AstmRecord.parse('H|\\^&|||sender', d);
    assert.equal(h.value(2), '\\^&', 'H-2 is the delimiter definition, not split');
    assert.equal(AstmRecord.parse('r|1', d).type, 'R', 'record type is case-insensitive');
  });

  it('builds records with escaping, repeats and trimmed trailing fields', () => {
    const r = AstmRecord.build('O', ['1', 'S|1', null, [['', '', '', 'GLU'], ['', '', '', 'CREA']], 'R', null, null], d);
    assert.equal(r.toString(), 'O|1|S&F&1||^^^GLU\\^^^CREA|R');
    const h = AstmRecord.build('H', [null, 'ctl', null, 'HISBRIDGE'], { ...d, component: '!', escape: '~' });
    assert.equal(h.toString(), 'H|\\!~|ctl||HISBRIDGE');
    assert.equal(AstmRecord.build('L', ['1', 'N'], d).toString(), 'L|1|N');
    assert.equal(AstmRecord.build('P', ['1', { raw: 'a^b' }], d).toString(), 'P|1|a^b');
  });

  it('reports a missing H record, unknown record types, broken hierarchy and a missing L precisely', () => {
    assert.deepEqual(parseMessage('P|1\rL|1|N\r').errors, ['missing H record: the message starts with record type "P"']);
    assert.deepEqual(parseMessage('H|\\^&\rX|1|odd\rL|1|N\r').errors, ['record 2: unknown record type "X"']);
    assert.deepEqual(parseMessage('H|\\^&\rO|1|S1\rL|1|N\r').errors, ['record 2: O record without a preceding P record']);
    assert.deepEqual(parseMessage('H|\\^&\rP|1\rR|1|^^^GLU|5\rL|1|N\r').errors, ['record 3: R record without a preceding O record']);
    assert.deepEqual(parseMessage('H|\\^&\rP|1\rO|1|S1\r').errors, ['message ends without an L record (last record is "O")']);
    assert.deepEqual(parseMessage('H|\\^&\rL|1|N\rP|1\r').errors, ['record 3 (P) follows the L record that ended the message']);
    assert.deepEqual(parseMessage('H|\\^&\rL|1|Z\r').errors, ['record 2: L-3 termination code "Z" is not one of N T R E Q I F']);
    assert.deepEqual(parseMessage('').errors, ['message has no records']);
    // C and M attach to whatever precedes them; Q and S sit at the patient level.
    assert.deepEqual(parseMessage('H|\\^&\rC|1|I|x\rQ|1|^S1||ALL\rM|1|x\rP|1\rO|1\rR|1\rC|1\rR|2\rO|2\rP|2\rL|1|N\r').errors, []);
  });

  it('reports records terminated by LF instead of CR, and accepts CR LF', () => {
    assert.deepEqual(parseMessage('H|\\^&\nP|1\nL|1|N\n').errors, ['record 1 is terminated by LF (0x0A) instead of CR (0x0D)']);
    const crlf = parseMessage('H|\\^&\r\nP|1\r\nL|1|N\r\n');
    assert.deepEqual(crlf.errors, []);
    assert.equal(crlf.records.length, 3);
  });
});

describe('astm message assembler', () => {
  it('reassembles records split across pieces and messages packed together', () => {
    const a = new MessageAssembler();
    assert.deepEqual(a.push('H|\\^&\rP|'), []);
    assert.deepEqual(a.push('1\rL|1'), []);
    assert.deepEqual(a.push('|N\rH|\\^&\rL|1|N\r'), [
      { kind: 'message', text: 'H|\\^&\rP|1\rL|1|N\r' },
      { kind: 'message', text: 'H|\\^&\rL|1|N\r' },
    ]);
    assert.equal(a.hasPending, false);
  });

  it('ends a record at the end of an ETX frame even without its CR', () => {
    const a = new MessageAssembler();
    a.push('H|\\^&', true);
    assert.deepEqual(a.push('L|1|N', true), [{ kind: 'message', text: 'H|\\^&\rL|1|N\r' }]);
  });

  it('keeps what cannot form a message, with the reason', () => {
    const a = new MessageAssembler();
    assert.deepEqual(a.push('P|1\rL|1|N\r'), [{ kind: 'incomplete', text: 'P|1\rL|1|N\r', reason: 'missing H record: the message does not start with an H record' }]);
    assert.deepEqual(a.push('H|\\^&\rP|1\rH|\\^&\rL|1|N\r'), [
      { kind: 'incomplete', text: 'H|\\^&\rP|1\r', reason: 'a new H record arrived before the L record of the previous message' },
      { kind: 'message', text: 'H|\\^&\rL|1|N\r' },
    ]);
    a.push('H|\\^&\rP|1\rO|1|S');
    assert.deepEqual(a.flush('the connection closed before the L record'), { kind: 'incomplete', text: 'H|\\^&\rP|1\rO|1|S', reason: 'the connection closed before the L record' });
    assert.equal(a.flush('again'), undefined);
  });

  it('restores a snapshot (a frame NAKed because it could not be stored is taken again)', () => {
    const a = new MessageAssembler();
    a.push('H|\\^&\r');
    const snap = a.snapshot();
    assert.equal(a.push('L|1|N\r').length, 1);
    a.restore(snap);
    assert.deepEqual(a.push('L|1|N\r'), [{ kind: 'message', text: 'H|\\^&\rL|1|N\r' }]);
  });

  it('sets aside a message that grows past its size limit without an L record', () => {
    const a = new MessageAssembler(100);
    const events = a.push('H|\\^&\r' + 'C|1|I|' + 'x'.repeat(200) + '\r');
    assert.equal(events[0].kind, 'incomplete');
    assert.match((events[0] as { reason: string }).reason, /exceeds 100 characters without an L record/);
  });
});
