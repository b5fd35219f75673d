// The trust-event stream (`GET /v1/events`, server-sent events) read with fetch() and a
// ReadableStream, because EventSource cannot send the Authorization header. Reconnects
// with Last-Event-ID after a drop, so that no change is missed (docs/api.md).

import { authHeaders, Unauthorized } from './api.js';

const MAX_MESSAGE = 4 * 1024 * 1024;

// Splits a stream's text into messages: {event, data, id}. Lines starting with ':' are
// comments (keep-alives); a message ends at a blank line.
export function parseMessages(buffer) {
  const messages = [];
  let rest = buffer;
  for (;;) {
    const m = /\r?\n\r?\n/.exec(rest);
    if (!m) break;
    const block = rest.slice(0, m.index);
    rest = rest.slice(m.index + m[0].length);
    const msg = { event: 'message', data: [], id: null };
    for (const line of block.split(/\r?\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') msg.event = value;
      else if (field === 'data') msg.data.push(value);
      else if (field === 'id') msg.id = value;
    }
    if (msg.data.length || msg.id !== null) {
      messages.push({ event: msg.event, data: msg.data.join('\n'), id: msg.id });
    }
  }
  return { messages, rest };
}

// Follows the stream from `lastId` until `signal` aborts. `on.event(name, data, id)` for
// each message, `on.status(up)` as the connection comes and goes, `on.unauthorized()`
// when the token is refused (the stream then stops).
export async function follow(lastId, on, signal) {
  let delay = 500;
  while (!signal.aborted) {
    try {
      const headers = authHeaders();
      headers.Accept = 'text/event-stream';
      if (lastId !== null && lastId !== undefined) headers['Last-Event-ID'] = String(lastId);
      const res = await fetch('/v1/events', { headers, signal, cache: 'no-store', credentials: 'omit', redirect: 'error' });
      if (res.status === 401) throw new Unauthorized();
      if (!res.ok || !res.body) throw new Error('event stream: HTTP ' + res.status);
      on.status(true);
      delay = 500;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        if (buffer.length > MAX_MESSAGE) throw new Error('event stream: message too large');
        const parsed = parseMessages(buffer);
        buffer = parsed.rest;
        for (const m of parsed.messages) {
          if (m.id !== null && /^\d+$/.test(m.id)) lastId = m.id;
          on.event(m.event, m.data, m.id);
        }
      }
    } catch (e) {
      if (e instanceof Unauthorized) { on.unauthorized(); return; }
      if (signal.aborted) return;
    }
    on.status(false);
    await new Promise(r => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10000);
  }
}
