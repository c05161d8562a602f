// An independent SMPP client (npm `smpp`) driven by smsgw's interop tests.
// Usage: node smpp_client.js PORT SCENARIO [SYSTEM_ID PASSWORD]
// Prints one JSON object per line: what the client saw. Exits by itself.
'use strict';
const smpp = require('smpp');

const [port, scenario, systemId = 'demo', password = 'demo'] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const session = smpp.connect({ host: '127.0.0.1', port: Number(port) });
const deadline = setTimeout(() => { out({ event: 'timeout' }); process.exit(2); }, 20000);

function finish(code) {
  clearTimeout(deadline);
  session.unbind(() => { session.close(); process.exit(code); });
  setTimeout(() => process.exit(code), 2000);
}

function submit(fields) {
  return new Promise((resolve) => session.submit_sm(fields, (pdu) =>
    resolve({ status: pdu.command_status, message_id: pdu.message_id })));
}

session.on('error', (e) => { out({ event: 'error', message: String(e) }); process.exit(3); });

session.on('connect', () => {
  session.bind_transceiver({ system_id: systemId, password: password }, async (bind) => {
    out({ event: 'bind', status: bind.command_status, system_id: bind.system_id || null });
    if (bind.command_status !== 0) { session.close(); clearTimeout(deadline); process.exit(0); }
    if (scenario === 'bind') return finish(0);
    if (scenario === 'throttle') {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => submit({
        source_addr: '', destination_addr: '1380013' + String(8000 + i).padStart(4, '0'),
        short_message: 'burst ' + i,
      })));
      out({ event: 'throttle', statuses: results.map((r) => r.status) });
      return finish(0);
    }
    // scenario "full": short ASCII, Chinese (UCS2) and a long message in two UDH parts, then receipts
    const want = new Set();
    const receipts = [];
    session.on('deliver_sm', (pdu) => {
      session.send(pdu.response());
      const text = pdu.short_message && pdu.short_message.message !== undefined ? pdu.short_message.message : String(pdu.short_message);
      receipts.push({ esm_class: pdu.esm_class, receipted_message_id: pdu.receipted_message_id || null,
                      message_state: pdu.message_state === undefined ? null : pdu.message_state, text: String(text) });
      out({ event: 'deliver_sm', esm_class: pdu.esm_class, receipted_message_id: pdu.receipted_message_id || null,
            message_state: pdu.message_state === undefined ? null : pdu.message_state, text: String(text) });
      if (pdu.receipted_message_id) want.delete(pdu.receipted_message_id);
      if (want.size === 0) finish(0);
    });
    const ascii = await submit({ destination_addr: '13800138000', short_message: 'Hello from node', registered_delivery: 1 });
    out({ event: 'submit', kind: 'ascii', ...ascii });
    const chinese = await submit({ destination_addr: '8618612345678', data_coding: 8,
      short_message: { message: Buffer.from('您好，这是一条测试短信', 'utf16le').swap16() }, registered_delivery: 1 });
    out({ event: 'submit', kind: 'chinese', ...chinese });
    const ucs = Buffer.from('长短信测试'.repeat(20), 'utf16le').swap16();
    const parts = [ucs.subarray(0, 134), ucs.subarray(134)];
    const longIds = [];
    for (let i = 0; i < parts.length; i++) {
      const udh = Buffer.from([0x05, 0x00, 0x03, 0x2e, 0x02, i + 1]);
      const r = await submit({ destination_addr: '13300000000', data_coding: 8, esm_class: 0x40,
        short_message: { udh: udh, message: parts[i] }, registered_delivery: 1 });
      out({ event: 'submit', kind: 'long-part-' + (i + 1), ...r });
      longIds.push(r.message_id);
    }
    session.query_sm({ message_id: ascii.message_id, source_addr: '' }, (q) => {
      out({ event: 'query', status: q.command_status, message_id: q.message_id, message_state: q.message_state });
    });
    for (const id of [ascii.message_id, chinese.message_id, ...longIds]) if (id) want.add(id);
  });
});
