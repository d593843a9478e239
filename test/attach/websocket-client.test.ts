// The WebSocket client against a real server speaking RFC 6455 frames: sizes, fragments, ping, masking, close.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import t, { type Test } from 'tap';
import { WebSocketClient } from '../../lib/attach/websocket-client.js';

function serverFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, n]) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (n >= 126) {
    head[0] = (fin ? 0x80 : 0) | opcode;
    head[1] = n < 65536 ? 126 : 127;
    if (n < 65536) head.writeUInt16BE(n, 2);
    else head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

/** Parse one masked client frame at the start of `data`. */
function clientFrame(data: Buffer): { opcode: number; payload: Buffer; masked: boolean } {
  const opcode = data[0]! & 0x0f;
  const masked = (data[1]! & 0x80) !== 0;
  let length = data[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    length = data.readUInt16BE(2);
    offset = 4;
  }
  const mask = data.subarray(offset, offset + 4);
  const payload = Buffer.from(data.subarray(offset + 4, offset + 4 + length));
  for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
  return { opcode, payload, masked };
}

/** A server for one test; its upgraded sockets are destroyed at the end, so none keeps the test process alive. */
async function serve(t: Test, onSocket: (socket: Socket) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const sockets: Socket[] = [];
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  server.on('upgrade', (req, socket: Socket) => {
    sockets.push(socket);
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    onSocket(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `ws://127.0.0.1:${(server.address() as { port: number }).port}/x` };
}

t.test(
  'messages of every length encoding, fragmented, split across reads; pings answered; client frames masked',
  async (t) => {
    const big = 'x'.repeat(200_000);
    const medium = 'y'.repeat(1000);
    const received: Buffer[] = [];
    const { url } = await serve(t, (socket) => {
      socket.on('data', (d: Buffer) => received.push(d));
      const all = Buffer.concat([
        serverFrame(0x1, Buffer.from('short')),
        serverFrame(0x9, Buffer.from('ping!')),
        serverFrame(0x1, Buffer.from(medium)),
        serverFrame(0x1, Buffer.from('frag-'), false),
        serverFrame(0x0, Buffer.from('ment-'), false),
        serverFrame(0x0, Buffer.from('ed'), true),
        serverFrame(0x1, Buffer.from(big)),
      ]);
      // Dribble it in small pieces, so frames and headers straddle reads.
      let i = 0;
      const step = (): void => {
        if (i >= all.length) return;
        socket.write(all.subarray(i, i + 7919));
        i += 7919;
        setImmediate(step);
      };
      step();
    });
    const messages: string[] = [];
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const client = await WebSocketClient.connect(
      url,
      {
        onMessage: (m) => {
          messages.push(m);
          if (messages.length === 4) done();
        },
        onClose: () => {},
      },
      5000,
    );
    await all;
    t.same(messages, ['short', medium, 'frag-ment-ed', big]);
    client.send('{"id":1}');
    await new Promise((r) => setTimeout(r, 100));
    const frames = Buffer.concat(received);
    const pong = clientFrame(frames);
    t.equal(pong.opcode, 0xa, 'the ping was answered with a pong');
    t.equal(pong.payload.toString(), 'ping!');
    t.ok(pong.masked);
    const text = clientFrame(frames.subarray(2 + 4 + 5));
    t.equal(text.opcode, 0x1);
    t.equal(text.payload.toString(), '{"id":1}');
    t.ok(text.masked, 'client frames are masked');
    client.close();
    t.ok(client.closed);
  },
);

t.test('a server close frame ends the connection; a refused upgrade rejects', async (t) => {
  const { url } = await serve(t, (socket) => socket.write(serverFrame(0x8, Buffer.from([0x03, 0xe8]))));
  const closed = new Promise<Error | undefined>((resolve) => {
    void WebSocketClient.connect(url, { onMessage: () => {}, onClose: resolve }, 5000);
  });
  t.equal(await closed, undefined, 'closed cleanly');
  const plain = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  t.teardown(() => plain.close());
  await t.rejects(
    WebSocketClient.connect(
      `ws://127.0.0.1:${(plain.address() as { port: number }).port}/`,
      { onMessage: () => {}, onClose: () => {} },
      5000,
    ),
    /refused the WebSocket upgrade \(HTTP 404\)/,
  );
});
