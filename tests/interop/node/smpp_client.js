// An independent SMPP client (npm `smpp`, pinned in package.json) driven by smsgw's interop tests.
//
// Usage: node smpp_client.js PORT SCENARIO [SYSTEM_ID PASSWORD]
//   bind      bind_transceiver and report the answer (wrong password, unknown login)
//   full      short ASCII, Chinese (UCS2) and a long message in two UDH parts, query_sm, enquire_link,
//             then wait for a receipt for every message
//   multi     submit_multi (two numbers, a bad one, a distribution list), one where every destination
//             fails, and data_sm (message_payload), then wait for their receipts
//   throttle  40 submit_sm at once, report every status
// Prints one JSON object per line (what the client saw); exits by itself within DEADLINE_MS.
// The texts are given as JS strings: the library chooses the data_coding (GSM/IA5 or UCS2) itself.
'use strict';
const smpp = require('smpp');

const DEADLINE_MS = Number(process.env.SMPP_CLIENT_DEADLINE_MS || 25000);
const [port, scenario, systemId = 'demo', password = 'demo'] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const session = smpp.connect({ host: '127.0.0.1', port: Number(port) });
const deadline = setTimeout(() => { out({ event: 'timeout' }); process.exit(2); }, DEADLINE_MS);

function finish(code) {
  clearTimeout(deadline);
  session.unbind((resp) => {
    out({ event: 'unbind', status: resp.command_status });
    session.close();
    process.exit(code);
  });
  setTimeout(() => process.exit(code), 2000);
}

// send a request, resolve with its response PDU
function call(command, fields) {
  return new Promise((resolve) => session[command](fields, resolve));
}

async function submit(kind, fields) {
  const resp = await call('submit_sm', { registered_delivery: 1, ...fields });
  const result = { event: 'submit', kind, status: resp.command_status, message_id: resp.message_id || null };
  out(result);
  return result;
}

// receipts: record every deliver_sm, answer it, and resolve once every id in `want` has one
function receipts() {
  const seen = new Map();
  let want = null;
  let done;
  const all = new Promise((resolve) => { done = resolve; });
  const check = () => { if (want && [...want].every((id) => seen.has(id))) done(seen); };
  session.on('deliver_sm', (pdu) => {
    session.send(pdu.response());
    const sm = pdu.short_message;
    const text = sm && sm.message !== undefined ? String(sm.message) : String(sm || '');
    const id = pdu.receipted_message_id || null;
    out({ event: 'deliver_sm', esm_class: pdu.esm_class, receipted_message_id: id,
          message_state: pdu.message_state === undefined ? null : pdu.message_state, text });
    if (id) seen.set(id, pdu);
    check();
  });
  return { wait: (ids) => { want = new Set(ids); check(); return all; } };
}

const scenarios = {
  bind: async () => finish(0),

  throttle: async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => call('submit_sm', {
      destination_addr: '1380013' + String(8000 + i).padStart(4, '0'), short_message: 'burst ' + i })));
    out({ event: 'throttle', statuses: results.map((r) => r.command_status) });
    finish(0);
  },

  full: async () => {
    const dlr = receipts();
    const ascii = await submit('ascii', { destination_addr: '13800138000', short_message: 'Hello from node' });
    const chinese = await submit('chinese', { destination_addr: '8618612345678', short_message: '您好，这是一条测试短信' });
    const text = '长短信测试'.repeat(20); // 100 characters: two UCS2 parts of 67 and 33
    const parts = [text.slice(0, 67), text.slice(67)];
    const longIds = [];
    for (let i = 0; i < parts.length; i++) {
      const udh = Buffer.from([0x05, 0x00, 0x03, 0x2e, parts.length, i + 1]);
      const r = await submit('long-part-' + (i + 1), { destination_addr: '13300000000', data_coding: 8,
        short_message: { udh, message: parts[i] } });
      longIds.push(r.message_id);
    }
    const q = await call('query_sm', { message_id: ascii.message_id, source_addr: '' });
    out({ event: 'query', status: q.command_status, message_id: q.message_id, message_state: q.message_state });
    const e = await call('enquire_link', {});
    out({ event: 'enquire_link', status: e.command_status });
    await dlr.wait([ascii.message_id, chinese.message_id, ...longIds].filter(Boolean));
    finish(0);
  },

  multi: async () => {
    const dlr = receipts();
    const m = await call('submit_multi', { source_addr: '', registered_delivery: 1, short_message: '群发测试',
      dest_address: [
        { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '8613800138000' },
        { destination_addr: '18612345678' },
        { destination_addr: '+15555550100' },
        { dl_name: 'friends' },
      ] });
    out({ event: 'submit_multi', status: m.command_status, message_id: m.message_id || null,
          unsuccess: (m.unsuccess_sme || []).map((u) => [u.destination_addr, u.error_status_code]) });
    const none = await call('submit_multi', { source_addr: '', short_message: 'nobody',
      dest_address: [{ destination_addr: '+15555550100' }, { dl_name: 'friends' }] });
    out({ event: 'submit_multi_refused', status: none.command_status, message_id: none.message_id || null,
          unsuccess: (none.unsuccess_sme || []).map((u) => [u.destination_addr, u.error_status_code]) });
    const d = await call('data_sm', { source_addr: '', destination_addr: '13300000000', registered_delivery: 1,
      message_payload: '数据短消息的长内容，'.repeat(10) });
    out({ event: 'data_sm', status: d.command_status, message_id: d.message_id || null });
    await dlr.wait([m.message_id, d.message_id].filter(Boolean));
    finish(0);
  },
};

session.on('error', (e) => { out({ event: 'error', message: String(e) }); process.exit(3); });

session.on('connect', () => {
  session.bind_transceiver({ system_id: systemId, password }, (bind) => {
    out({ event: 'bind', status: bind.command_status, system_id: bind.system_id || null });
    if (bind.command_status !== 0) { clearTimeout(deadline); session.close(); process.exit(0); }
    const run = scenarios[scenario];
    if (!run) { out({ event: 'error', message: 'unknown scenario ' + scenario }); process.exit(4); }
    run().catch((e) => { out({ event: 'error', message: String(e && e.stack || e) }); process.exit(5); });
  });
});
