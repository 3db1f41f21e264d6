// A minimal HTTP/2 client for unary gRPC load: it writes pre-encoded HEADERS (HPACK
// literals only, no dynamic table) and DATA frames straight to a TCP socket and only
// parses frame headers on the way back. A call is complete when its stream ends.
// It does not decode response headers, so it cannot see grpc-status: outcomes are
// counted on the server (the gateway's dtg_rpc_requests_total), as with h2load.
// Node's own http2 client spends ~100 µs of CPU per call and tops out near 10k calls/s,
// below what a grpc-js server answers; this one costs a few µs per call.
import net from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const T = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 };
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;

function frameHeader(length, type, flags, streamId) {
  const h = Buffer.alloc(9);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId & 0x7fffffff, 5);
  return h;
}

const hpackString = (s) => {
  const b = Buffer.from(s, 'latin1');
  if (b.length > 126) throw new Error('header value too long for this encoder');
  return Buffer.concat([Buffer.from([b.length]), b]);
};

/** The request header block: :method POST, :scheme http, :path, :authority, content-type, te. */
export function requestHeaderBlock(path, authority) {
  return Buffer.concat([
    Buffer.from([0x83, 0x86]), // indexed :method POST (3), :scheme http (6)
    Buffer.from([0x04]), // literal without indexing, name :path (4)
    hpackString(path),
    Buffer.from([0x01]), // literal without indexing, name :authority (1)
    hpackString(authority),
    Buffer.from([0x0f, 0x10]), // literal without indexing, name content-type (31)
    hpackString('application/grpc'),
    Buffer.from([0x00]), // literal without indexing, new name
    hpackString('te'),
    hpackString('trailers'),
  ]);
}

/**
 * One connection. `call(body, onDone)` starts a call; onDone(ok) runs when the stream
 * ends (ok) or is reset (not ok).
 */
export function connectH2(host, port, headerBlock) {
  const socket = net.connect({ host, port, noDelay: true });
  const pending = new Map(); // stream id → onDone
  let nextId = 1;
  let sendWindow = 65_535;
  let received = 0;
  let buffered = Buffer.alloc(0);
  const queue = []; // calls waiting for connection send window
  let closed = false;
  let goaway = false;
  const errors = { reset: 0, goaway: 0 };

  socket.write(
    Buffer.concat([
      PREFACE,
      frameHeader(12, T.SETTINGS, 0, 0),
      Buffer.from([0, 2, 0, 0, 0, 0]), // ENABLE_PUSH 0
      Buffer.from([0, 4, 0, 0x01, 0, 0]), // INITIAL_WINDOW_SIZE 65536 * 1 (responses are tiny)
      frameHeader(4, T.WINDOW_UPDATE, 0, 0),
      Buffer.from([0x3f, 0xff, 0, 0]), // + ~1 GiB for the connection
    ]),
  );

  const headersFrame = (id) =>
    Buffer.concat([frameHeader(headerBlock.length, T.HEADERS, END_HEADERS, id), headerBlock]);

  function start(body, onDone) {
    if (sendWindow < body.length) {
      queue.push([body, onDone]);
      return;
    }
    const id = nextId;
    nextId += 2;
    sendWindow -= body.length;
    pending.set(id, onDone);
    socket.write(Buffer.concat([headersFrame(id), frameHeader(body.length, T.DATA, END_STREAM, id), body]));
  }

  function finish(id, ok) {
    const done = pending.get(id);
    if (done === undefined) return;
    pending.delete(id);
    done(ok);
  }

  socket.on('data', (chunk) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    let at = 0;
    while (buffered.length - at >= 9) {
      const len = buffered.readUIntBE(at, 3);
      if (buffered.length - at < 9 + len) break;
      const type = buffered[at + 3];
      const flags = buffered[at + 4];
      const id = buffered.readUInt32BE(at + 5) & 0x7fffffff;
      const payload = at + 9;
      switch (type) {
        case T.DATA:
          received += len;
          if (flags & END_STREAM) finish(id, true);
          break;
        case T.HEADERS:
          if (flags & END_STREAM) finish(id, true);
          break;
        case T.RST_STREAM:
          errors.reset += 1;
          finish(id, false);
          break;
        case T.SETTINGS:
          if (!(flags & ACK)) socket.write(frameHeader(0, T.SETTINGS, ACK, 0));
          break;
        case T.PING:
          if (!(flags & ACK))
            socket.write(
              Buffer.concat([frameHeader(8, T.PING, ACK, 0), buffered.subarray(payload, payload + 8)]),
            );
          break;
        case T.WINDOW_UPDATE:
          if (id === 0) sendWindow += buffered.readUInt32BE(payload) & 0x7fffffff;
          break;
        case T.GOAWAY:
          goaway = true;
          errors.goaway += 1;
          break;
        default:
          break;
      }
      at += 9 + len;
    }
    buffered = at === buffered.length ? Buffer.alloc(0) : buffered.subarray(at);
    if (received > 1 << 28) {
      const inc = Buffer.alloc(4);
      inc.writeUInt32BE(received);
      socket.write(Buffer.concat([frameHeader(4, T.WINDOW_UPDATE, 0, 0), inc]));
      received = 0;
    }
    while (queue.length && sendWindow >= queue[0][0].length) start(...queue.shift());
  });
  const failAll = () => {
    closed = true;
    for (const id of [...pending.keys()]) finish(id, false);
  };
  socket.on('error', failAll);
  socket.on('close', failAll);

  return {
    call: start,
    get usable() {
      return !closed && !goaway;
    },
    errors,
    close: () => socket.destroy(),
  };
}
