// The runtime's own floor under the no-op server: node:http2 answering every stream with
// an empty gRPC message and grpc-status 0, with no grpc-js at all. It shows how much of
// the latency tail and of the CPU per call is Node's HTTP/2 and V8's garbage collector
// rather than grpc-js or the gateway. Reports its address over IPC and counts streams.
import http2 from 'node:http2';

const EMPTY_MESSAGE = Buffer.alloc(5); // flag 0, length 0
let ok = 0;
const server = http2.createServer();
server.on('stream', (stream) => {
  stream.on('data', () => undefined);
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(EMPTY_MESSAGE);
    ok += 1;
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ ready: `127.0.0.1:${server.address().port}` }));
process.on('message', (m) => {
  if (m === 'count') process.send({ ok });
});
process.on('SIGTERM', () => process.exit(0));
